//! The chunked JSONL reader against the whole-file reader: however a file is cut into chunks
//! (a line, a `\r\n`, a byte-order mark or a UTF-8 character split between two), it yields
//! the same entries, line numbers, rejected lines and duplicates, and the same first invalid
//! byte.
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use trialogue::core::jsonl::{read_jsonl, JsonlStreamReader, NotUtf8, ReadReport, Utf8Check};

fn step(run: &str, id: u64, text: &str) -> String {
    format!(
        r#"{{"timestamp":"t","run_id":"{run}","step_id":{id},"agent":"solver","action":"generate","input":{{"problem":"{text}"}},"output":{{}},"metadata":{{}}}}"#
    )
}

/// A file with everything a chunk boundary can cut: a byte-order mark, `\r\n` endings, blank
/// lines, 2-, 3- and 4-byte characters, bad lines, a step repeated far from its first line,
/// runs interleaved, and a last line with no newline.
fn file() -> String {
    [
        format!("\u{feff}{}\r", step("run_a", 1, "é √ 𝔽")),
        step("run_a", 2, "x²"),
        String::new(),
        "{oops".to_string(),
        step("run_b", 1, "日本語"),
        "   \r".to_string(),
        "[1,2]".to_string(),
        step("run_a", 1, "repeated"),
        step("run_a", 3, "🙂🙂"),
        step("", 9, "empty run id"),
        step("run_b", 2, "end"),
    ]
    .join("\n")
}

/// Reads `bytes` through the chunked reader, cut at `cuts` (sorted, deduplicated offsets).
fn read_in_chunks(bytes: &[u8], cuts: &[usize]) -> Result<ReadReport, NotUtf8> {
    let mut reader = JsonlStreamReader::new();
    let mut all = ReadReport::default();
    let mut add = |part: ReadReport| {
        all.entries.extend(part.entries);
        all.lines.extend(part.lines);
        all.rejected.extend(part.rejected);
        all.duplicates.extend(part.duplicates);
    };
    let mut start = 0;
    for &cut in cuts.iter().chain(std::iter::once(&bytes.len())) {
        add(reader.push(&bytes[start..cut])?);
        start = cut;
    }
    add(reader.finish()?);
    Ok(all)
}

fn cuts_of(len: usize, raw: Vec<usize>) -> Vec<usize> {
    let mut cuts: Vec<usize> = raw.into_iter().map(|c| c % (len + 1)).collect();
    cuts.sort_unstable();
    cuts.dedup();
    cuts
}

#[test]
fn the_test_file_has_what_it_claims() {
    let whole = read_jsonl(&file());
    assert_eq!(whole.lines, [1, 2, 5, 9, 11]);
    let rejected: Vec<usize> = whole.rejected.iter().map(|r| r.line).collect();
    assert_eq!(rejected, [4, 7, 10]);
    assert_eq!(whole.duplicates.len(), 1);
    assert_eq!(whole.duplicates[0].duplicate_line, 8);
}

#[test]
fn one_byte_chunks_read_like_the_whole_file() {
    let text = file();
    let cuts: Vec<usize> = (1..text.len()).collect();
    assert_eq!(
        read_in_chunks(text.as_bytes(), &cuts).unwrap(),
        read_jsonl(&text)
    );
}

#[test]
fn a_file_ending_in_a_newline_reads_like_the_whole_file() {
    let text = format!("{}\r\n", file());
    assert_eq!(
        read_in_chunks(text.as_bytes(), &[text.len() - 1]).unwrap(),
        read_jsonl(&text)
    );
}

#[test]
fn a_character_cut_by_a_chunk_is_read_whole() {
    let text = step("run_a", 1, "𝔽");
    let split = text.find('𝔽').unwrap() + 2;
    let report = read_in_chunks(text.as_bytes(), &[split]).unwrap();
    assert_eq!(report.entries.len(), 1);
    assert_eq!(report.entries[0].input["problem"], "𝔽");
}

#[test]
fn invalid_bytes_are_found_where_the_whole_file_check_finds_them() {
    let mut bytes = file().into_bytes();
    let at = bytes.len() / 2;
    bytes[at] = 0xff;
    let expected = String::from_utf8(bytes.clone())
        .unwrap_err()
        .utf8_error()
        .valid_up_to() as u64;
    for cut in [1, at, at + 1, bytes.len() - 1] {
        assert_eq!(
            read_in_chunks(&bytes, &[cut]).unwrap_err(),
            NotUtf8 { offset: expected }
        );
        let mut check = Utf8Check::new();
        let result = check
            .push(&bytes[..cut])
            .and_then(|()| check.push(&bytes[cut..]));
        assert_eq!(result.unwrap_err(), NotUtf8 { offset: expected });
    }
}

#[test]
fn a_character_cut_off_by_the_end_of_the_file_is_invalid() {
    let bytes = "ab√".as_bytes();
    let cut_off = &bytes[..bytes.len() - 1];
    let mut check = Utf8Check::new();
    check.push(cut_off).unwrap();
    assert_eq!(check.finish(), Err(NotUtf8 { offset: 2 }));
    let reader = JsonlStreamReader::new();
    let mut reader = reader;
    reader.push(cut_off).unwrap();
    assert_eq!(reader.finish(), Err(NotUtf8 { offset: 2 }));
    let mut check = Utf8Check::new();
    check.push(&bytes[..3]).unwrap();
    check.push(&bytes[3..]).unwrap();
    assert_eq!(check.finish(), Ok(()));
}

proptest! {
    #[test]
    fn any_chunking_reads_like_the_whole_file(raw in proptest::collection::vec(any::<usize>(), 0..40)) {
        let text = file();
        let cuts = cuts_of(text.len(), raw);
        prop_assert_eq!(read_in_chunks(text.as_bytes(), &cuts).unwrap(), read_jsonl(&text));
    }

    #[test]
    fn any_chunking_of_text_passes_the_utf8_check(raw in proptest::collection::vec(any::<usize>(), 0..40)) {
        let text = file();
        let bytes = text.as_bytes();
        let mut check = Utf8Check::new();
        let mut start = 0;
        for cut in cuts_of(bytes.len(), raw) {
            prop_assert_eq!(check.push(&bytes[start..cut]), Ok(()));
            start = cut;
        }
        prop_assert_eq!(check.push(&bytes[start..]), Ok(()));
        prop_assert_eq!(check.finish(), Ok(()));
    }
}
