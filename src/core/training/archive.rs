//! The download's archive: the split files (and, for OpenAI's formats, `provenance.jsonl`)
//! as the exporter hands out their chunks, then the card, in one store-only ZIP.
//!
//! The archive only counts what it is given (CRC and size per entry, see [`StoredZip`]); the
//! caller keeps the chunks where it likes (in the browser, as parts of a `Blob`) and lays them
//! out with [`ZipLayout`]: `local_headers[i]`, then entry `i`'s chunks in order, for each entry
//! in [`DatasetArchive::names`] order, then `trailer`.

use super::export::{OutputFile, CARD_FILE};
use super::options::DatasetFormat;
use super::zip::{DosDateTime, StoredZip, ZipError, ZipLayout};

/// The entries of one dataset download.
#[derive(Debug, Clone)]
pub struct DatasetArchive {
    zip: StoredZip,
    files: Vec<OutputFile>,
}

impl DatasetArchive {
    /// An archive for a dataset in `format`, stamped `modified`: its files, then the card.
    pub fn new(format: DatasetFormat, modified: DosDateTime) -> Self {
        let files = OutputFile::all(format);
        let mut zip = StoredZip::new(modified);
        for file in &files {
            zip.add_entry(file.name());
        }
        zip.add_entry(CARD_FILE);
        DatasetArchive { zip, files }
    }

    /// The entries' names, in archive order (the card last).
    pub fn names(&self) -> Vec<&'static str> {
        self.files
            .iter()
            .map(|f| f.name())
            .chain([CARD_FILE])
            .collect()
    }

    /// Counts `chunk` as the next data of `file`; returns the entry's index, or `None` for a
    /// file this format does not have.
    pub fn add_chunk(&mut self, file: OutputFile, chunk: &str) -> Option<usize> {
        let index = self.files.iter().position(|f| *f == file)?;
        self.zip.update(index, chunk.as_bytes());
        Some(index)
    }

    /// Counts the card's text; returns its entry's index.
    pub fn add_card(&mut self, card: &str) -> usize {
        let index = self.files.len();
        self.zip.update(index, card.as_bytes());
        index
    }

    /// The bytes around the entries, once every chunk and the card are counted.
    pub fn finish(&self) -> Result<ZipLayout, ZipError> {
        self.zip.finish()
    }
}
