//! Which problems of a dataset a batch runs: the form (facet checkboxes, shuffle seed, limit)
//! and its translation into core's [`Selection`].

use std::collections::{BTreeMap, BTreeSet};

use crate::core::dataset::{facet_counts, MetadataFilter, Problem, Selection};
use crate::core::stats::facet_keys;

pub use crate::core::stats::MAX_FACET_VALUES;

/// One facet: a metadata key and its values with their counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Facet {
    /// The metadata key, e.g. `subject`.
    pub key: String,
    /// Each value as text, with how many problems have it, sorted by value.
    pub values: Vec<(String, usize)>,
}

/// The facets worth offering: the keys of [`facet_keys`] (the ones the results break accuracy
/// down by), each with its values' counts.
pub fn facets(problems: &[Problem]) -> Vec<Facet> {
    facet_keys(problems)
        .into_iter()
        .map(|key| Facet {
            values: facet_counts(problems, &key),
            key,
        })
        .collect()
}

/// Why the selection form cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectionError {
    /// The seed is not a whole number.
    #[error("the shuffle seed must be a whole number from 0 to 18446744073709551615, not `{text}`; leave it empty to keep the file's order")]
    Seed {
        /// What was typed.
        text: String,
    },
    /// The limit is not a positive whole number.
    #[error("the limit must be a whole number of at least 1, not `{text}`; leave it empty to run every selected problem")]
    Limit {
        /// What was typed.
        text: String,
    },
}

/// The selection form as typed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SelectionForm {
    /// Per facet key, the values ticked; a key with none ticked does not filter.
    pub checked: BTreeMap<String, BTreeSet<String>>,
    /// The shuffle seed; empty keeps the file's order.
    pub seed: String,
    /// The most problems to run; empty runs all selected.
    pub limit: String,
}

impl SelectionForm {
    /// Ticks or unticks `value` of facet `key`.
    pub fn toggle(&mut self, key: &str, value: &str, on: bool) {
        let values = self.checked.entry(key.to_string()).or_default();
        if on {
            values.insert(value.to_string());
        } else {
            values.remove(value);
        }
        if values.is_empty() {
            self.checked.remove(key);
        }
    }

    /// Whether `value` of `key` is ticked.
    pub fn is_checked(&self, key: &str, value: &str) -> bool {
        self.checked.get(key).is_some_and(|v| v.contains(value))
    }

    /// The selection the form describes.
    pub fn selection(&self) -> Result<Selection, SelectionError> {
        let seed = match self.seed.trim() {
            "" => None,
            text => Some(text.parse::<u64>().map_err(|_| SelectionError::Seed {
                text: text.to_string(),
            })?),
        };
        let limit = match self.limit.trim() {
            "" => None,
            text => match text.parse::<usize>() {
                Ok(n) if n >= 1 => Some(n),
                _ => {
                    return Err(SelectionError::Limit {
                        text: text.to_string(),
                    })
                }
            },
        };
        let filters = self
            .checked
            .iter()
            .filter(|(_, values)| !values.is_empty())
            .map(|(key, values)| MetadataFilter::one_of(key.clone(), values.iter().cloned()))
            .collect();
        Ok(Selection {
            filters,
            shuffle_seed: seed,
            limit,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Map, Value};

    fn problem(id: &str, metadata: Value) -> Problem {
        let metadata: Map<String, Value> = match metadata {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        Problem {
            id: id.into(),
            problem: format!("problem {id}"),
            ground_truth: None,
            domain: None,
            metadata,
        }
    }

    fn problems() -> Vec<Problem> {
        vec![
            problem(
                "a",
                json!({"level": 1, "subject": "Algebra", "tags": ["x"], "solution": "s1"}),
            ),
            problem(
                "b",
                json!({"level": 2, "subject": "Geometry", "solution": "s2"}),
            ),
            problem(
                "c",
                json!({"level": 2, "subject": "Algebra", "solution": "s3"}),
            ),
            problem(
                "d",
                json!({"level": "2", "subject": "Algebra", "only": "one", "solution": "s4"}),
            ),
        ]
    }

    #[test]
    fn facets_are_scalar_keys_with_a_few_values() {
        let mut many = problems();
        for i in 0..=MAX_FACET_VALUES {
            many.push(problem(&format!("x{i}"), json!({"serial": i})));
        }
        let found = facets(&many);
        let keys: Vec<&str> = found.iter().map(|f| f.key.as_str()).collect();
        // `tags` holds a list, `only` one value, `serial` 31 values; `solution` has 4 values
        // here, so it stays (a real dataset has one per problem and drops out).
        assert_eq!(keys, ["level", "solution", "subject"]);
        // 2 and "2" are one value as text, as the filter compares them.
        assert_eq!(
            found[0].values,
            vec![("1".to_string(), 1), ("2".to_string(), 3)]
        );
        assert_eq!(
            found[2].values,
            vec![("Algebra".to_string(), 3), ("Geometry".to_string(), 1)]
        );
    }

    #[test]
    fn the_form_becomes_a_selection() {
        let mut form = SelectionForm::default();
        form.toggle("subject", "Algebra", true);
        form.toggle("level", "2", true);
        form.toggle("level", "1", true);
        form.toggle("level", "1", false);
        assert!(form.is_checked("level", "2") && !form.is_checked("level", "1"));
        form.seed = " 7 ".into();
        form.limit = "1".into();
        let selection = form.selection().unwrap();
        assert_eq!(selection.shuffle_seed, Some(7));
        assert_eq!(selection.limit, Some(1));
        let all = problems();
        // Algebra at level 2 (as text): c and d; limit 1 after the seeded shuffle.
        let mut unlimited = selection.clone();
        unlimited.limit = None;
        let mut ids = unlimited.ids(&all);
        ids.sort();
        assert_eq!(ids, ["c", "d"]);
        assert_eq!(selection.ids(&all).len(), 1);

        // Unticking the last value of a key removes its filter.
        form.toggle("subject", "Algebra", false);
        form.toggle("level", "2", false);
        assert!(form.checked.is_empty());
        form.seed.clear();
        form.limit.clear();
        assert_eq!(form.selection().unwrap(), Selection::default());
    }

    #[test]
    fn bad_seed_and_limit_are_named() {
        let form = SelectionForm {
            seed: "-1".into(),
            ..Default::default()
        };
        assert_eq!(
            form.selection(),
            Err(SelectionError::Seed { text: "-1".into() })
        );
        let form = SelectionForm {
            limit: "0".into(),
            ..Default::default()
        };
        let err = form.selection().unwrap_err();
        assert_eq!(err, SelectionError::Limit { text: "0".into() });
        assert!(err.to_string().contains("at least 1"));
    }
}
