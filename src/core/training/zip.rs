//! A store-only ZIP writer with our own CRC-32, for the dataset download.
//!
//! The archive holds a few JSONL files and a card, text that is handed out in chunks as it is
//! written: each entry's CRC and size are kept up to date chunk by chunk ([`StoredZip::update`]),
//! and once every entry is complete [`StoredZip::finish`] gives the bytes that go around the
//! data — one local header before each entry and the central directory after the last. The
//! caller lays the parts out in that order (in the browser, as parts of one `Blob`), so no
//! entry, and no archive, is ever one buffer.
//!
//! Format facts follow PKWARE's APPNOTE.TXT (version 6.3.10): local file header (4.3.7),
//! central directory header (4.3.12), end of central directory record (4.3.16), method 0
//! (stored), general purpose bit 11 for UTF-8 names (4.4.4), and the CRC-32 of 4.4.7 (the
//! reflected polynomial 0xEDB88320, initial value and final XOR 0xFFFFFFFF). No ZIP64: an entry
//! or an archive past 4 GiB − 1 is refused with [`ZipError::TooLarge`].

/// Why an archive could not be laid out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZipError {
    /// An entry or the whole archive exceeds what a ZIP without ZIP64 can describe.
    #[error("{what} is {bytes} bytes, more than the 4 GiB a ZIP file can hold; select fewer runs")]
    TooLarge {
        /// The entry's name, or "the archive".
        what: String,
        /// Its size.
        bytes: u64,
    },
    /// More entries than a ZIP file's 16-bit counts allow.
    #[error("{0} files are more than a ZIP file can list (65,535)")]
    TooManyEntries(usize),
}

/// CRC-32 as ZIP, gzip and PNG use it (IEEE 802.3, reflected), computed a chunk at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crc32 {
    state: u32,
}

const CRC_TABLE: [u32; 256] = crc_table();

const fn crc_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
}

impl Default for Crc32 {
    fn default() -> Self {
        Crc32 { state: 0xFFFF_FFFF }
    }
}

impl Crc32 {
    /// The CRC of nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `bytes` to the checksum.
    pub fn update(&mut self, bytes: &[u8]) {
        let mut c = self.state;
        for &b in bytes {
            c = CRC_TABLE[((c ^ b as u32) & 0xFF) as usize] ^ (c >> 8);
        }
        self.state = c;
    }

    /// The checksum of everything added.
    pub fn value(&self) -> u32 {
        self.state ^ 0xFFFF_FFFF
    }

    /// The checksum of `bytes` alone.
    pub fn of(bytes: &[u8]) -> u32 {
        let mut crc = Crc32::new();
        crc.update(bytes);
        crc.value()
    }
}

/// An MS-DOS date and time, as ZIP headers store the modification time (2-second steps, local
/// time in principle; we write UTC, as most writers in browsers do).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DosDateTime {
    /// Bits 15-11 hours, 10-5 minutes, 4-0 seconds / 2.
    pub time: u16,
    /// Bits 15-9 years since 1980, 8-5 month, 4-0 day.
    pub date: u16,
}

impl DosDateTime {
    /// The DOS stamp of `epoch_ms` (UTC); times before 1980 are written as 1980-01-01.
    pub fn from_epoch_ms(epoch_ms: f64) -> Self {
        let secs = (epoch_ms / 1000.0).floor().max(0.0) as i64;
        let days = secs.div_euclid(86_400);
        let of_day = secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        if year < 1980 {
            return DosDateTime {
                time: 0,
                date: (1 << 5) | 1,
            };
        }
        let year = year.min(2107);
        let (h, m, s) = (of_day / 3600, of_day % 3600 / 60, of_day % 60);
        DosDateTime {
            time: ((h << 11) | (m << 5) | (s / 2)) as u16,
            date: (((year - 1980) << 9) | ((month as i64) << 5) | day as i64) as u16,
        }
    }
}

/// Gregorian date of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[derive(Debug, Clone)]
struct Entry {
    name: String,
    crc: Crc32,
    size: u64,
}

/// The bytes around the entries' data: `local_headers[i]` goes right before entry `i`'s data,
/// and `trailer` after the last entry's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipLayout {
    /// One local file header per entry, in entry order.
    pub local_headers: Vec<Vec<u8>>,
    /// The central directory and the end-of-central-directory record.
    pub trailer: Vec<u8>,
}

impl ZipLayout {
    /// The whole archive's size in bytes.
    pub fn archive_bytes(&self, entry_sizes: impl IntoIterator<Item = u64>) -> u64 {
        let headers: u64 = self.local_headers.iter().map(|h| h.len() as u64).sum();
        headers + entry_sizes.into_iter().sum::<u64>() + self.trailer.len() as u64
    }
}

/// A store-only ZIP archive whose entries' data is streamed by the caller.
#[derive(Debug, Clone)]
pub struct StoredZip {
    entries: Vec<Entry>,
    modified: DosDateTime,
}

const LOCAL_HEADER: u32 = 0x0403_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
const END_OF_CENTRAL_DIRECTORY: u32 = 0x0605_4b50;
/// Version needed to extract: 2.0 (plain stored and deflated files).
const VERSION: u16 = 20;
/// General purpose flag bit 11: the name is UTF-8.
const UTF8_NAMES: u16 = 1 << 11;

impl StoredZip {
    /// An archive whose entries are all stamped `modified`.
    pub fn new(modified: DosDateTime) -> Self {
        StoredZip {
            entries: Vec::new(),
            modified,
        }
    }

    /// Adds an (empty) entry named `name`; returns its index for [`Self::update`].
    pub fn add_entry(&mut self, name: &str) -> usize {
        self.entries.push(Entry {
            name: name.to_string(),
            crc: Crc32::new(),
            size: 0,
        });
        self.entries.len() - 1
    }

    /// Counts `bytes` as the next data of entry `index`.
    pub fn update(&mut self, index: usize, bytes: &[u8]) {
        if let Some(entry) = self.entries.get_mut(index) {
            entry.crc.update(bytes);
            entry.size += bytes.len() as u64;
        }
    }

    /// The size of entry `index` so far.
    pub fn entry_size(&self, index: usize) -> u64 {
        self.entries.get(index).map_or(0, |e| e.size)
    }

    /// The headers and the central directory for the entries as they stand.
    pub fn finish(&self) -> Result<ZipLayout, ZipError> {
        if self.entries.len() > u16::MAX as usize {
            return Err(ZipError::TooManyEntries(self.entries.len()));
        }
        let mut local_headers = Vec::with_capacity(self.entries.len());
        let mut central = Vec::new();
        let mut offset: u64 = 0;
        for entry in &self.entries {
            let size = fit(entry.size, &entry.name)?;
            let at = fit(offset, "the archive")?;
            let name = entry.name.as_bytes();
            let mut local = Vec::with_capacity(30 + name.len());
            put32(&mut local, LOCAL_HEADER);
            self.put_common(&mut local, entry, size);
            local.extend_from_slice(name);

            put32(&mut central, CENTRAL_HEADER);
            put16(&mut central, VERSION); // version made by (MS-DOS, 2.0)
            self.put_common(&mut central, entry, size);
            put16(&mut central, 0); // comment length
            put16(&mut central, 0); // disk number start
            put16(&mut central, 0); // internal attributes
            put32(&mut central, 0); // external attributes
            put32(&mut central, at);
            central.extend_from_slice(name);

            offset += local.len() as u64 + entry.size;
            local_headers.push(local);
        }
        let directory_at = fit(offset, "the archive")?;
        let directory_size = fit(central.len() as u64, "the archive")?;
        fit(offset + central.len() as u64 + 22, "the archive")?;
        let count = self.entries.len() as u16;
        let mut trailer = central;
        put32(&mut trailer, END_OF_CENTRAL_DIRECTORY);
        put16(&mut trailer, 0); // this disk
        put16(&mut trailer, 0); // disk with the central directory
        put16(&mut trailer, count);
        put16(&mut trailer, count);
        put32(&mut trailer, directory_size);
        put32(&mut trailer, directory_at);
        put16(&mut trailer, 0); // comment length
        Ok(ZipLayout {
            local_headers,
            trailer,
        })
    }

    /// The fields local and central headers share, from "version needed" to "extra length".
    fn put_common(&self, out: &mut Vec<u8>, entry: &Entry, size: u32) {
        put16(out, VERSION);
        put16(out, UTF8_NAMES);
        put16(out, 0); // method: stored
        put16(out, self.modified.time);
        put16(out, self.modified.date);
        put32(out, entry.crc.value());
        put32(out, size); // compressed size
        put32(out, size); // uncompressed size
        put16(out, entry.name.len() as u16);
        put16(out, 0); // extra field length
    }
}

fn fit(value: u64, what: &str) -> Result<u32, ZipError> {
    u32::try_from(value)
        .ok()
        .filter(|v| *v != u32::MAX)
        .ok_or_else(|| ZipError::TooLarge {
            what: what.to_string(),
            bytes: value,
        })
}

fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// A whole archive in memory from `(name, data)` pairs: for tests and small files.
pub fn zip_in_memory(files: &[(&str, &[u8])], modified: DosDateTime) -> Result<Vec<u8>, ZipError> {
    let mut zip = StoredZip::new(modified);
    for (name, data) in files {
        let index = zip.add_entry(name);
        zip.update(index, data);
    }
    let layout = zip.finish()?;
    let mut out = Vec::new();
    for ((_, data), header) in files.iter().zip(&layout.local_headers) {
        out.extend_from_slice(header);
        out.extend_from_slice(data);
    }
    out.extend_from_slice(&layout.trailer);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value_whatever_the_chunking() {
        // The check value of CRC-32/ISO-HDLC over "123456789" (the CRC catalogue's `check`).
        assert_eq!(Crc32::of(b"123456789"), 0xCBF4_3926);
        assert_eq!(Crc32::of(b""), 0);
        let mut crc = Crc32::new();
        for piece in [&b"1234"[..], b"", b"56789"] {
            crc.update(piece);
        }
        assert_eq!(crc.value(), 0xCBF4_3926);
    }

    #[test]
    fn dos_stamps_round_down_to_two_seconds_and_clamp_before_1980() {
        // 2026-11-24T21:10:09Z
        let stamp = DosDateTime::from_epoch_ms(1_795_554_609_123.0);
        assert_eq!(stamp.date, ((2026 - 1980) << 9) | (11 << 5) | 24);
        assert_eq!(stamp.time, (21 << 11) | (10 << 5) | 4);
        assert_eq!(DosDateTime::from_epoch_ms(0.0).date, (1 << 5) | 1);
    }

    #[test]
    fn sizes_past_four_gibibytes_are_refused_by_name() {
        let mut zip = StoredZip::new(DosDateTime::default());
        let i = zip.add_entry("train.jsonl");
        zip.entries[i].size = u32::MAX as u64;
        assert_eq!(
            zip.finish().unwrap_err(),
            ZipError::TooLarge {
                what: "train.jsonl".into(),
                bytes: u32::MAX as u64
            }
        );
    }
}
