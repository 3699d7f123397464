//! A dataset file being imported: its rows, the field mapping the user is checking, and the
//! dataset it makes. Nothing is stored until the user saves it.

use std::rc::Rc;

use crate::core::dataset::{
    map_rows, parse_rows, Dataset, DatasetError, DatasetFormat, FieldMapping, RawRows,
};
use crate::core::stored_dataset::{DatasetSummary, StoredDataset};

/// A field of [`crate::core::dataset::Problem`] the mapping fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The problem text (required).
    Problem,
    /// The id.
    Id,
    /// The expected answer.
    GroundTruth,
    /// The domain.
    Domain,
    /// An object merged into the metadata.
    MetadataObject,
}

impl Target {
    /// Every target, in the order the editor shows them.
    pub const ALL: [Target; 5] = [
        Target::Problem,
        Target::Id,
        Target::GroundTruth,
        Target::Domain,
        Target::MetadataObject,
    ];

    /// The label shown beside the select.
    pub fn label(self) -> &'static str {
        match self {
            Target::Problem => "Problem text",
            Target::Id => "Id",
            Target::GroundTruth => "Ground truth",
            Target::Domain => "Domain",
            Target::MetadataObject => "Metadata object",
        }
    }

    /// A stable name for the select (`mapping-problem`, …).
    pub fn name(self) -> &'static str {
        match self {
            Target::Problem => "problem",
            Target::Id => "id",
            Target::GroundTruth => "ground_truth",
            Target::Domain => "domain",
            Target::MetadataObject => "metadata_object",
        }
    }

    /// The key the mapping reads this field from.
    pub fn get(self, mapping: &FieldMapping) -> Option<&str> {
        match self {
            Target::Problem => Some(mapping.problem.as_str()).filter(|k| !k.is_empty()),
            Target::Id => mapping.id.as_deref(),
            Target::GroundTruth => mapping.ground_truth.as_deref(),
            Target::Domain => mapping.domain.as_deref(),
            Target::MetadataObject => mapping.metadata_object.as_deref(),
        }
    }
}

/// `mapping` with `target` read from `key` (`None`: not mapped). A key is fed to one field at
/// most: another field reading it lets it go; and every key no field reads is copied into the
/// metadata, in the file's key order ([`FieldMapping::metadata_keys`]).
pub fn remap(
    keys: &[String],
    mapping: &FieldMapping,
    target: Target,
    key: Option<String>,
) -> FieldMapping {
    let mut next = mapping.clone();
    if let Some(chosen) = key.as_deref() {
        for other in Target::ALL.into_iter().filter(|t| *t != target) {
            if other.get(&next) == Some(chosen) {
                match other {
                    Target::Problem => next.problem.clear(),
                    Target::Id => next.id = None,
                    Target::GroundTruth => next.ground_truth = None,
                    Target::Domain => next.domain = None,
                    Target::MetadataObject => next.metadata_object = None,
                }
            }
        }
    }
    match target {
        Target::Problem => next.problem = key.unwrap_or_default(),
        Target::Id => next.id = key,
        Target::GroundTruth => next.ground_truth = key,
        Target::Domain => next.domain = key,
        Target::MetadataObject => next.metadata_object = key,
    }
    next.metadata = next.metadata_keys(keys);
    next
}

/// A read file waiting to be saved as a dataset.
#[derive(Debug, Clone)]
pub struct DatasetDraft {
    /// The file's name.
    pub file_name: String,
    /// Its rows (shared: the preview re-maps them on every edit).
    pub rows: Rc<RawRows>,
    /// Every key of its rows, in order of first appearance.
    pub keys: Vec<String>,
    /// The mapping as detected, then as edited; `problem` is empty when no key looked like the
    /// problem text.
    pub mapping: FieldMapping,
}

impl DatasetDraft {
    /// Reads a picked file: the format from its extension (or, failing that, its content), the
    /// rows, and the detected mapping. Fails only when nothing can be read.
    pub fn read(file_name: &str, bytes: &[u8]) -> Result<DatasetDraft, DatasetError> {
        let format = DatasetFormat::from_file_name(file_name)
            .unwrap_or_else(|| DatasetFormat::sniff(&String::from_utf8_lossy(bytes)));
        let rows = parse_rows(bytes, format)?;
        let keys = rows.keys();
        let mapping = FieldMapping::detect(&rows).unwrap_or_else(|_| {
            remap(
                &keys,
                &FieldMapping {
                    problem: String::new(),
                    id: None,
                    ground_truth: None,
                    domain: None,
                    metadata_object: None,
                    metadata: Vec::new(),
                },
                Target::Problem,
                None,
            )
        });
        Ok(DatasetDraft {
            file_name: file_name.to_string(),
            rows: Rc::new(rows),
            keys,
            mapping,
        })
    }

    /// The dataset the current mapping makes.
    pub fn dataset(&self) -> Dataset {
        map_rows(&self.rows, &self.mapping)
    }

    /// The draft as a dataset to store, named `name` (the file's name without its extension
    /// when blank); `None` when the mapping yields no problem.
    pub fn to_stored(&self, name: &str, now_ms: f64) -> Option<StoredDataset> {
        let dataset = self.dataset();
        if dataset.problems.is_empty() {
            return None;
        }
        let name = match name.trim() {
            "" => default_name(&self.file_name),
            given => given.to_string(),
        };
        Some(StoredDataset {
            summary: DatasetSummary {
                dataset_id: dataset.content_id(),
                name,
                file_name: self.file_name.clone(),
                format: dataset.format,
                problem_count: dataset.problems.len(),
                skipped_rows: dataset.issues.len(),
                created_ms: now_ms,
            },
            mapping: dataset.mapping,
            problems: dataset.problems,
        })
    }
}

/// A dataset's default name: the file name without its last extension (`MATH-500`).
pub fn default_name(file_name: &str) -> String {
    match file_name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem.to_string(),
        _ => file_name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MATH: &str = concat!(
        "{\"problem\": \"What is 2+2?\", \"answer\": \"4\", \"subject\": \"Arithmetic\", \"level\": 1, \"unique_id\": \"t/1\"}\n",
        "not json\n",
        "{\"problem\": \"What is 3*3?\", \"answer\": 9, \"subject\": \"Arithmetic\", \"level\": 2, \"unique_id\": \"t/2\"}\n",
    );

    #[test]
    fn a_file_is_read_with_its_mapping_detected_and_bad_lines_kept_aside() {
        let draft = DatasetDraft::read("math.jsonl", MATH.as_bytes()).unwrap();
        assert_eq!(draft.mapping.problem, "problem");
        assert_eq!(draft.mapping.id.as_deref(), Some("unique_id"));
        assert_eq!(draft.mapping.ground_truth.as_deref(), Some("answer"));
        let dataset = draft.dataset();
        assert_eq!(dataset.problems.len(), 2);
        assert_eq!(dataset.problems[1].ground_truth.as_deref(), Some("9"));
        assert_eq!(dataset.issues.len(), 1);
        assert_eq!(
            dataset.issues[0].to_string().split(':').next(),
            Some("line 2")
        );

        let stored = draft.to_stored("  ", 1_000.0).unwrap();
        assert_eq!(stored.summary.name, "math");
        assert_eq!(stored.summary.problem_count, 2);
        assert_eq!(stored.summary.skipped_rows, 1);
        assert_eq!(stored.summary.dataset_id, dataset.content_id());
        assert!(stored.summary.dataset_id.starts_with("ds_"));
    }

    #[test]
    fn without_a_problem_key_the_user_picks_one() {
        let text = "[{\"q\": \"What is 1+1?\", \"a\": \"2\"}]";
        let draft = DatasetDraft::read("set.json", text.as_bytes()).unwrap();
        assert_eq!(draft.mapping.problem, "");
        assert_eq!(draft.mapping.metadata, ["a", "q"]);
        assert!(draft.to_stored("x", 0.0).is_none());
        let mut edited = draft.clone();
        edited.mapping = remap(
            &draft.keys,
            &draft.mapping,
            Target::Problem,
            Some("q".into()),
        );
        edited.mapping = remap(
            &draft.keys,
            &edited.mapping,
            Target::GroundTruth,
            Some("a".into()),
        );
        assert!(edited.mapping.metadata.is_empty());
        let stored = edited.to_stored("x", 0.0).unwrap();
        assert_eq!(stored.problems[0].problem, "What is 1+1?");
        assert_eq!(stored.problems[0].ground_truth.as_deref(), Some("2"));
    }

    #[test]
    fn a_key_feeds_one_field_and_the_rest_go_to_metadata() {
        let keys: Vec<String> = ["problem", "answer", "subject", "level"]
            .map(String::from)
            .to_vec();
        let mapping = FieldMapping::detect_from_keys(&keys).unwrap();
        assert_eq!(mapping.metadata, ["subject", "level"]);
        // Using `answer` as the id takes it away from the ground truth.
        let moved = remap(&keys, &mapping, Target::Id, Some("answer".into()));
        assert_eq!(moved.id.as_deref(), Some("answer"));
        assert_eq!(moved.ground_truth, None);
        assert_eq!(moved.metadata, ["subject", "level"]);
        // Unmapping the id puts `answer` back into the metadata.
        let cleared = remap(&keys, &moved, Target::Id, None);
        assert_eq!(cleared.metadata, ["answer", "subject", "level"]);
        assert_eq!(default_name("MATH-500.test.jsonl"), "MATH-500.test");
        assert_eq!(default_name(".hidden"), ".hidden");
        assert_eq!(default_name("plain"), "plain");
    }
}
