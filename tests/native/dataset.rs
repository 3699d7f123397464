//! Dataset import, mapping and selection over the fixtures in `tests/fixtures/datasets/`.

use serde_json::json;

use crate::util::fixture_bytes;
use trialogue::core::dataset::{
    facet_counts, generated_id, import, map_rows, parse_rows, preview, shuffle, DatasetError,
    DatasetFormat, FieldMapping, MetadataFilter, RowLocation, RowProblem, Selection,
    MAX_DATASET_BYTES,
};

fn fixture(name: &str) -> Vec<u8> {
    fixture_bytes(&format!("datasets/{name}"))
}

#[test]
fn math500_rows_map_unique_id_answer_and_metadata() {
    let dataset = import(&fixture("math500_sample.jsonl"), DatasetFormat::Jsonl).unwrap();
    assert!(dataset.issues.is_empty(), "{:?}", dataset.issues);
    assert_eq!(dataset.problems.len(), 12);
    let mapping = &dataset.mapping;
    assert_eq!(mapping.problem, "problem");
    assert_eq!(mapping.id.as_deref(), Some("unique_id"));
    assert_eq!(mapping.ground_truth.as_deref(), Some("answer"));
    // MATH-500's subject is the domain, and stays a metadata key (facets, exports).
    assert_eq!(mapping.domain.as_deref(), Some("subject"));
    assert_eq!(mapping.metadata_object, None);
    // serde_json keeps object keys sorted, so metadata keys come in that order.
    assert_eq!(mapping.metadata, ["level", "solution", "subject"]);

    let p = &dataset.problems[4];
    assert_eq!(p.id, "test/counting_and_probability/318.json");
    assert_eq!(p.ground_truth.as_deref(), Some("\\frac{1}{6}"));
    assert!(p.problem.starts_with("Two fair six-sided dice"));
    assert_eq!(p.metadata["subject"], json!("Counting & Probability"));
    assert_eq!(p.domain.as_deref(), Some("Counting & Probability"));
    assert_eq!(
        p.facet_value("domain").as_deref(),
        Some("Counting & Probability")
    );
    assert_eq!(p.facet_value("level").as_deref(), Some("2"));
    assert_eq!(p.metadata["level"], json!(2));
    assert!(p.metadata["solution"]
        .as_str()
        .unwrap()
        .ends_with("\\boxed{\\frac{1}{6}}$."));
    assert_eq!(p.metadata.len(), 3);
    assert_eq!(
        dataset
            .get("test/algebra/2290.json")
            .unwrap()
            .ground_truth
            .as_deref(),
        Some("12")
    );
}

#[test]
fn messy_jsonl_with_bom_and_crlf_keeps_the_good_rows_and_reports_the_rest_by_line() {
    let dataset = import(&fixture("original_messy.jsonl"), DatasetFormat::Jsonl).unwrap();
    let ids: Vec<&str> = dataset.problems.iter().map(|p| p.id.as_str()).collect();
    // "What is 1+1?" has no id: it gets the hash id (python3: sha256 hex [:12] = 31adf3e245f9).
    assert_eq!(ids, ["alg-001", "alg-002", "p_31adf3e245f9", "nt-001"]);
    let first = &dataset.problems[0];
    assert_eq!(first.domain.as_deref(), Some("math"));
    assert_eq!(first.metadata["source"], json!("hand"));
    assert_eq!(first.metadata["difficulty"], json!(1));
    // A CRLF file leaves no `\r` in the text.
    assert_eq!(
        dataset.problems[3].problem,
        "Is $7$ prime? Answer yes or no."
    );
    assert_eq!(dataset.problems[3].ground_truth, None);
    // The numeric ground truth becomes text.
    assert_eq!(dataset.problems[2].ground_truth.as_deref(), Some("2"));

    let lines: Vec<RowLocation> = dataset.issues.iter().map(|i| i.location).collect();
    assert_eq!(
        lines,
        [
            RowLocation::Line(4),
            RowLocation::Line(5),
            RowLocation::Line(7),
            RowLocation::Line(8)
        ]
    );
    assert!(matches!(
        dataset.issues[0].problem,
        RowProblem::Syntax { .. }
    ));
    assert_eq!(
        dataset.issues[1].to_string(),
        "line 5: a list instead of an object with a problem"
    );
    assert_eq!(
        dataset.issues[2].problem,
        RowProblem::DuplicateId {
            id: "alg-001".into(),
            first: RowLocation::Line(1)
        }
    );
    assert_eq!(
        dataset.issues[3].to_string(),
        "line 8: no problem text under `problem`"
    );
}

#[test]
fn json_object_with_a_problems_list_reports_items_by_index() {
    let rows = parse_rows(&fixture("problems.json"), DatasetFormat::Json).unwrap();
    assert_eq!(rows.list_key.as_deref(), Some("problems"));
    let dataset = map_rows(&rows, &FieldMapping::detect(&rows).unwrap());
    let ids: Vec<&str> = dataset.problems.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["101", "103"]);
    assert_eq!(dataset.problems[1].ground_truth.as_deref(), Some("25"));
    assert_eq!(dataset.problems[0].metadata["topic"], json!("fractions"));
    let issues: Vec<String> = dataset.issues.iter().map(ToString::to_string).collect();
    assert_eq!(
        issues,
        [
            "item [1]: a number instead of an object with a problem",
            "item [2]: no problem text under `problem`"
        ]
    );
}

#[test]
fn yaml_list_maps_block_scalars_numbers_and_reports_bad_items() {
    let dataset = import(&fixture("problems.yaml"), DatasetFormat::Yaml).unwrap();
    let ids: Vec<&str> = dataset.problems.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["geo-1", "7"]);
    assert_eq!(
        dataset.problems[0].problem,
        "A square has perimeter 20.\nWhat is its area?\n"
    );
    assert_eq!(dataset.problems[0].metadata["level"], json!(2));
    assert_eq!(dataset.problems[1].ground_truth.as_deref(), Some("12"));
    assert_eq!(
        dataset.problems[1].metadata["topic"],
        json!("number theory")
    );
    assert_eq!(dataset.issues.len(), 2);
    assert_eq!(dataset.issues[0].location, RowLocation::Index(1));
    assert_eq!(
        dataset.issues[1].to_string(),
        "item [3]: `ground_truth` holds a list, expected text or a number"
    );
}

#[test]
fn a_json_file_holding_json_lines_is_read_as_jsonl() {
    let rows = parse_rows(&fixture("math500_sample.jsonl"), DatasetFormat::Json).unwrap();
    assert_eq!(rows.format, DatasetFormat::Jsonl);
    assert_eq!(rows.rows.len(), 12);
}

#[test]
fn whole_file_failures_say_where_and_what() {
    let err = parse_rows(
        b"[{\"problem\": \"x\"},\n  {\"problem\": }]",
        DatasetFormat::Json,
    )
    .unwrap_err();
    match &err {
        DatasetError::Syntax { line, column, .. } => assert_eq!((*line, *column), (2, 15)),
        other => panic!("{other:?}"),
    }
    assert!(err
        .to_string()
        .starts_with("JSON syntax error at line 2, column 15"));

    let err = parse_rows(b"- problem: [unclosed\n", DatasetFormat::Yaml).unwrap_err();
    assert!(
        matches!(err, DatasetError::Syntax { line: 2, .. }),
        "{err:?}"
    );

    let err = parse_rows(b"{\"name\": \"x\", \"version\": 1}", DatasetFormat::Json).unwrap_err();
    assert_eq!(
        err,
        DatasetError::NoList {
            format: DatasetFormat::Json,
            found: "an object with keys name, version".into()
        }
    );
    assert_eq!(
        parse_rows(b"\xef\xbb\xbf \r\n", DatasetFormat::Jsonl).unwrap_err(),
        DatasetError::Empty {
            format: DatasetFormat::Jsonl
        }
    );
    assert_eq!(
        parse_rows(b"{\"problem\": \"caf\xe9\"}", DatasetFormat::Jsonl).unwrap_err(),
        DatasetError::NotUtf8 {
            line: 1,
            column: 17
        }
    );
    let err = import(b"[{\"text\": \"a\", \"label\": 1}]", DatasetFormat::Json).unwrap_err();
    assert_eq!(
        err,
        DatasetError::NoProblemKey {
            keys: vec!["label".into(), "text".into()]
        }
    );
}

#[test]
fn files_over_the_limit_are_refused_before_parsing() {
    let big = vec![b' '; MAX_DATASET_BYTES + 1];
    let err = parse_rows(&big, DatasetFormat::Jsonl).unwrap_err();
    assert_eq!(
        err,
        DatasetError::TooLarge {
            bytes: 52_428_801,
            limit: 52_428_800
        }
    );
    assert!(err.to_string().contains("over the 52428800-byte limit"));
}

#[test]
fn an_edited_mapping_changes_the_fields_and_the_preview_shows_the_first_rows() {
    let rows = parse_rows(&fixture("math500_sample.jsonl"), DatasetFormat::Jsonl).unwrap();
    let mut mapping = FieldMapping::detect(&rows).unwrap();
    // Use the worked solution as ground truth, generate ids, keep only the level.
    mapping.ground_truth = Some("solution".into());
    mapping.id = None;
    mapping.metadata = vec!["level".into()];
    let shown = preview(&rows, &mapping, 2);
    assert_eq!(shown.len(), 2);
    assert_eq!(shown[1].location, RowLocation::Line(2));
    let p = shown[0].result.as_ref().unwrap();
    assert_eq!(
        p.id,
        generated_id("What is the sum of the first $20$ positive odd integers?")
    );
    assert!(p.ground_truth.as_deref().unwrap().contains("\\boxed{400}"));
    assert_eq!(p.metadata.keys().collect::<Vec<_>>(), ["level"]);

    // A preview includes unreadable rows in file order.
    let rows = parse_rows(&fixture("original_messy.jsonl"), DatasetFormat::Jsonl).unwrap();
    let mapping = FieldMapping::detect(&rows).unwrap();
    let shown = preview(&rows, &mapping, 4);
    let at: Vec<RowLocation> = shown.iter().map(|r| r.location).collect();
    assert_eq!(
        at,
        [
            RowLocation::Line(1),
            RowLocation::Line(3),
            RowLocation::Line(4),
            RowLocation::Line(5)
        ]
    );
    assert!(shown[2].result.is_err());
}

#[test]
fn a_fixed_seed_gives_a_fixed_order() {
    let dataset = import(&fixture("math500_sample.jsonl"), DatasetFormat::Jsonl).unwrap();
    let selection = Selection {
        shuffle_seed: Some(42),
        ..Selection::default()
    };
    // Oracle: python3 running SplitMix64 + Fisher–Yates as documented on `shuffle`.
    assert_eq!(
        selection.ids(&dataset.problems),
        [
            "test/intermediate_algebra/1768.json",
            "test/intermediate_algebra/1045.json",
            "test/number_theory/1233.json",
            "test/counting_and_probability/97.json",
            "test/number_theory/612.json",
            "test/number_theory/1390.json",
            "test/counting_and_probability/318.json",
            "test/algebra/1877.json",
            "test/prealgebra/1101.json",
            "test/precalculus/505.json",
            "test/geometry/440.json",
            "test/algebra/2290.json",
        ]
    );
    let mut digits: Vec<u32> = (0..10).collect();
    shuffle(&mut digits, 2024);
    assert_eq!(digits, [9, 0, 6, 3, 4, 2, 5, 7, 8, 1]);
    // Same seed, same order; another seed, another order.
    assert_eq!(
        selection.ids(&dataset.problems),
        selection.ids(&dataset.problems)
    );
    let other = Selection {
        shuffle_seed: Some(43),
        ..Selection::default()
    };
    assert_ne!(
        other.ids(&dataset.problems),
        selection.ids(&dataset.problems)
    );
}

#[test]
fn filters_then_shuffle_then_limit() {
    let dataset = import(&fixture("math500_sample.jsonl"), DatasetFormat::Jsonl).unwrap();
    let hard = MetadataFilter::one_of("level", [4, 5]);
    let ids = Selection {
        filters: vec![hard.clone()],
        ..Selection::default()
    }
    .ids(&dataset.problems);
    assert_eq!(
        ids,
        [
            "test/number_theory/1233.json",
            "test/intermediate_algebra/1768.json",
            "test/counting_and_probability/97.json",
            "test/number_theory/1390.json"
        ]
    );
    // Levels given as text match integer levels.
    let as_text = MetadataFilter::one_of("level", ["4", "5"]);
    assert_eq!(
        Selection {
            filters: vec![as_text],
            ..Selection::default()
        }
        .ids(&dataset.problems),
        ids
    );
    let algebra = Selection {
        filters: vec![MetadataFilter::equals("subject", "Algebra")],
        ..Selection::default()
    };
    assert_eq!(
        algebra.ids(&dataset.problems),
        ["test/algebra/2290.json", "test/algebra/1877.json"]
    );
    // Two filters must both pass: Number Theory at level 4 or 5.
    let both = Selection {
        filters: vec![
            hard.clone(),
            MetadataFilter::equals("subject", "Number Theory"),
        ],
        ..Selection::default()
    };
    assert_eq!(
        both.ids(&dataset.problems),
        [
            "test/number_theory/1233.json",
            "test/number_theory/1390.json"
        ]
    );
    // Shuffle (seed 7) of the four hard ones, then the first three (python3 oracle).
    let sample = Selection {
        filters: vec![hard],
        shuffle_seed: Some(7),
        limit: Some(3),
    };
    assert_eq!(
        sample.ids(&dataset.problems),
        [
            "test/intermediate_algebra/1768.json",
            "test/counting_and_probability/97.json",
            "test/number_theory/1233.json"
        ]
    );
    let first_two = Selection {
        limit: Some(2),
        ..Selection::default()
    };
    assert_eq!(
        first_two.ids(&dataset.problems),
        ["test/prealgebra/1101.json", "test/algebra/2290.json"]
    );
}

#[test]
fn domain_filter_and_facets() {
    let dataset = import(&fixture("original_messy.jsonl"), DatasetFormat::Jsonl).unwrap();
    let selection = Selection {
        filters: vec![MetadataFilter::equals("domain", "number theory")],
        ..Selection::default()
    };
    assert_eq!(selection.ids(&dataset.problems), ["nt-001"]);

    let math = import(&fixture("math500_sample.jsonl"), DatasetFormat::Jsonl).unwrap();
    let levels = facet_counts(&math.problems, "level");
    assert_eq!(
        levels,
        [
            ("1".to_string(), 3),
            ("2".to_string(), 3),
            ("3".to_string(), 2),
            ("4".to_string(), 2),
            ("5".to_string(), 2)
        ]
    );
}

#[test]
fn content_id_is_stable_and_changes_with_the_problems() {
    let a = import(&fixture("math500_sample.jsonl"), DatasetFormat::Jsonl).unwrap();
    let b = import(&fixture("math500_sample.jsonl"), DatasetFormat::Jsonl).unwrap();
    assert_eq!(a.content_id(), b.content_id());
    assert!(a.content_id().starts_with("ds_") && a.content_id().len() == 15);
    let mut c = b.clone();
    c.problems.pop();
    assert_ne!(a.content_id(), c.content_id());
}
