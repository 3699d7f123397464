//! Server-sent events, read incrementally: bytes in, whole events out, whatever the chunk
//! boundaries (inside a line, inside a CRLF, inside a UTF-8 character).
//!
//! Follows the WHATWG event-stream rules every provider's stream uses: lines end in CRLF, LF or
//! CR; `data:` lines of one event are joined with `\n`; `event:` names it; a line starting with
//! `:` is a comment (keep-alives); a blank line ends the event; one space after the colon is
//! dropped; an event still open when the stream ends is discarded.
//! <https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation>

/// One event of a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` name, empty when the event had none (the spec's `message`).
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

impl SseEvent {
    /// Whether this is the `[DONE]` sentinel OpenAI-compatible servers end their streams with.
    pub fn is_done(&self) -> bool {
        self.data.trim() == "[DONE]"
    }
}

/// The incremental reader. Feed it with [`SseParser::push`]; it keeps only the line in progress
/// and the event being built, so reading a stream costs time in proportion to its length.
#[derive(Debug, Default, Clone)]
pub struct SseParser {
    line: Vec<u8>,
    after_cr: bool,
    event: String,
    data: String,
    has_data: bool,
}

impl SseParser {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads `bytes`, appending every event they complete to `out`. Each byte is looked at
    /// once: the text between line ends is copied a line at a time, and only the line still
    /// open at the chunk's end is kept for the next.
    pub fn push(&mut self, mut bytes: &[u8], out: &mut Vec<SseEvent>) {
        if self.after_cr {
            self.after_cr = false;
            if let Some(rest) = bytes.strip_prefix(b"\n") {
                bytes = rest;
            } else if bytes.is_empty() {
                self.after_cr = true;
            }
        }
        while let Some(end) = bytes.iter().position(|&b| b == b'\n' || b == b'\r') {
            let is_cr = bytes[end] == b'\r';
            self.end_line(&bytes[..end], out);
            bytes = &bytes[end + 1..];
            if is_cr {
                match bytes.first() {
                    Some(b'\n') => bytes = &bytes[1..],
                    Some(_) => {}
                    // The chunk ends between a CR and, perhaps, its LF.
                    None => self.after_cr = true,
                }
            }
        }
        self.line.extend_from_slice(bytes);
    }

    /// Reads `bytes` and returns the events they complete.
    pub fn events(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        let mut out = Vec::new();
        self.push(bytes, &mut out);
        out
    }

    /// Whether an event or a line has started and not ended: at the end of a stream, the stream
    /// was cut in the middle of an event.
    pub fn is_mid_event(&self) -> bool {
        !self.line.is_empty() || self.has_data || !self.event.is_empty()
    }

    /// Ends the line whose last part is `tail` (the rest is what earlier chunks left open).
    fn end_line(&mut self, tail: &[u8], out: &mut Vec<SseEvent>) {
        if self.line.is_empty() {
            self.read_line(tail, out);
        } else {
            let mut line = std::mem::take(&mut self.line);
            line.extend_from_slice(tail);
            self.read_line(&line, out);
            // The buffer is kept for the next line left open.
            line.clear();
            self.line = line;
        }
    }

    fn read_line(&mut self, line: &[u8], out: &mut Vec<SseEvent>) {
        if line.is_empty() {
            if self.has_data {
                out.push(SseEvent {
                    event: std::mem::take(&mut self.event),
                    data: std::mem::take(&mut self.data),
                });
            }
            self.event.clear();
            self.data.clear();
            self.has_data = false;
            return;
        }
        if line[0] == b':' {
            return;
        }
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        // Lines are cut at line ends only, so a character split across chunks is whole again
        // here; a byte sequence that is not UTF-8 at all becomes U+FFFD.
        let value = String::from_utf8_lossy(value);
        match name {
            b"data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(&value);
                self.has_data = true;
            }
            b"event" => self.event = value.into_owned(),
            // `id` and `retry` steer reconnection, which a one-shot completion never does.
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(event: &str, data: &str) -> SseEvent {
        SseEvent {
            event: event.into(),
            data: data.into(),
        }
    }

    #[test]
    fn reads_the_specs_own_examples() {
        let mut p = SseParser::new();
        let got = p.events(b"data: YHOO\ndata: +2\ndata: 10\n\n: a comment\n\nevent: add\ndata:73857293\r\n\r\ndata\n\n");
        assert_eq!(
            got,
            [ev("", "YHOO\n+2\n10"), ev("add", "73857293"), ev("", "")]
        );
        assert!(!p.is_mid_event());
    }

    #[test]
    fn a_lone_cr_ends_a_line_and_a_crlf_split_across_chunks_ends_one() {
        let mut p = SseParser::new();
        assert_eq!(p.events(b"data: a\r"), []);
        assert_eq!(p.events(b"\n\r"), [ev("", "a")]);
        assert_eq!(p.events(b"\ndata: b\r\r"), [ev("", "b")]);
    }

    #[test]
    fn every_split_of_a_stream_and_byte_by_byte_reads_as_the_whole() {
        let stream = "event: a\r\ndata: é{\"t\": 1}\r\rdata:x\ndata: y\n\n: keep\r\n\r\ndata: [DONE]\r\n\r\n"
            .as_bytes();
        let whole = SseParser::new().events(stream);
        assert_eq!(whole.len(), 3);
        for cut in 0..=stream.len() {
            let mut p = SseParser::new();
            let mut got = p.events(&stream[..cut]);
            got.extend(p.events(&[]));
            got.extend(p.events(&stream[cut..]));
            assert_eq!(got, whole, "cut at byte {cut}");
            assert!(!p.is_mid_event());
        }
        let mut p = SseParser::new();
        let by_byte: Vec<SseEvent> = stream.iter().flat_map(|b| p.events(&[*b])).collect();
        assert_eq!(by_byte, whole);
    }

    #[test]
    fn an_unfinished_event_is_held_and_reported() {
        let mut p = SseParser::new();
        assert_eq!(p.events("data: {\"t\":\"é".as_bytes()), []);
        assert!(p.is_mid_event());
        assert_eq!(p.events(b"\"}\n\ndata: [DONE]\n\n").len(), 2);
        assert!(!p.is_mid_event());
    }
}
