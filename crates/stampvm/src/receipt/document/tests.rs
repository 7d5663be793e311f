//! A real receipt writes in the documented shape and round-trips byte for byte; a trusted set
//! file does too; every unreadable member is refused with its name; unknown or repeated members
//! and other versions are refused; malformed JSON says so.

use super::*;
use crate::receipt::fixtures::*;
use crate::receipt::validator_set::{validator_set_from_json, validator_set_to_json};

fn text(format: Format) -> String {
    receipt(format).to_json()
}

/// `text` as a JSON object, edited by `edit`, written back.
fn edited(edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut value: serde_json::Value = serde_json::from_str(&text(Format::Batched)).unwrap();
    edit(&mut value);
    serde_json::to_vec(&value).unwrap()
}

fn error_of(bytes: &[u8]) -> String {
    Receipt::from_json(bytes).unwrap_err().to_string()
}

#[test]
fn round_trips_byte_for_byte_in_both_formats() {
    for format in FORMATS {
        let receipt = receipt(format);
        let written = receipt.to_json();
        let read = Receipt::from_json(written.as_bytes()).unwrap();
        assert_eq!(read, receipt, "{format:?}");
        assert_eq!(read.to_json(), written, "{format:?}");
        assert!(written.ends_with("}\n"));
    }
}

// The members and their order in the module docs' example.
#[test]
fn the_written_shape_is_the_documented_one() {
    let written = text(Format::Batched);
    let value: serde_json::Value = serde_json::from_str(&written).unwrap();
    let order: Vec<usize> = [
        "\"version\": 1,",
        "\"data\": \"0x",
        "\"index\": 3,",
        "\"count\": 5,",
        "\"path\": [",
        "\"root\": \"0x",
        "\"height\": \"9\",",
        "\"blockID\": \"",
        "\"timestamp\": \"1700000000\",",
        "\"networkID\": 12345,",
        "\"chainID\": \"",
        "\"signedMessage\": \"0x",
        "\"pChainHeight\": \"42\",",
        "\"quorum\": {",
        "\"validatorSet\": {",
        "\"totalWeight\": \"525\"",
    ]
    .iter()
    .map(|member| {
        written
            .find(member)
            .unwrap_or_else(|| panic!("{member} in {written}"))
    })
    .collect();
    assert!(order.windows(2).all(|pair| pair[0] < pair[1]), "{written}");
    assert_eq!(value["path"].as_array().unwrap().len(), 3);
    assert_eq!(value["data"].as_str().unwrap().len(), 2 + 72);
    assert_eq!(
        value["quorum"],
        serde_json::json!({"numerator": 67, "denominator": 100})
    );
    let validators = value["validatorSet"]["validators"].as_array().unwrap();
    assert_eq!(validators.len(), 4);
    for validator in validators {
        let object = validator.as_object().unwrap();
        let keys: Vec<&str> = object.keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 3);
        assert_eq!(validator["publicKey"].as_str().unwrap().len(), 2 + 96);
        assert!(validator["weight"].is_string());
        assert!(validator["nodeIDs"][0]
            .as_str()
            .unwrap()
            .starts_with("NodeID-"));
    }
    let single: serde_json::Value = serde_json::from_str(&text(Format::Single)).unwrap();
    assert_eq!(single["path"], serde_json::json!([]));
    assert_eq!(
        (single["index"].as_u64(), single["count"].as_u64()),
        (Some(0), Some(1))
    );
}

#[test]
fn a_pre_1970_time_is_written_as_gos_uint64_cast_and_reads_back() {
    let mut receipt = receipt(Format::Single);
    receipt.proof.timestamp = -1;
    let written = receipt.to_json();
    assert!(written.contains("\"timestamp\": \"18446744073709551615\""));
    assert_eq!(
        Receipt::from_json(written.as_bytes())
            .unwrap()
            .proof
            .timestamp,
        -1
    );
}

#[test]
fn the_trusted_set_file_round_trips_and_is_a_receipts_member() {
    let set = validator_set();
    let written = validator_set_to_json(&set);
    assert_eq!(validator_set_from_json(written.as_bytes()), Ok(set.clone()));
    let receipt: serde_json::Value = serde_json::from_str(&text(Format::Single)).unwrap();
    let member: serde_json::Value = serde_json::from_str(&written).unwrap();
    assert_eq!(receipt["validatorSet"], member);
    // Errors name members relative to the file.
    let bad = written.replace("\"totalWeight\": \"525\"", "\"totalWeight\": \"0525\"");
    assert_eq!(
        validator_set_from_json(bad.as_bytes())
            .unwrap_err()
            .to_string(),
        "totalWeight: expected the decimal digits of an unsigned 64-bit integer, with no sign \
         or leading zero; found \"0525\""
    );
    let extra = written.replacen('{', "{\"subnetID\": \"x\", ", 1);
    assert!(matches!(
        validator_set_from_json(extra.as_bytes()),
        Err(DocumentError::Shape {
            what: "validator set",
            ..
        })
    ));
    // Out of canonical order: refused, not silently re-sorted.
    let mut value: serde_json::Value = serde_json::from_str(&written).unwrap();
    value["validators"].as_array_mut().unwrap().swap(0, 1);
    let swapped = serde_json::to_vec(&value).unwrap();
    assert!(validator_set_from_json(&swapped)
        .unwrap_err()
        .to_string()
        .starts_with("validators: canonical validator 1 is not after"));
}

#[test]
fn every_unreadable_member_is_named() {
    type Edit = fn(&mut serde_json::Value);
    let cases: [(Edit, &str); 17] = [
        (|v| v["data"] = "0x12".into(), "data: "),
        (
            |v| v["path"][1] = "0x12".into(),
            "path[1]: expected 0x and 64 hex digits",
        ),
        (
            |v| v["root"] = "ab".repeat(32).into(),
            "root: expected 0x and 64 hex digits",
        ),
        (
            |v| v["height"] = "+9".into(),
            "height: expected the decimal",
        ),
        (
            |v| v["height"] = "09".into(),
            "height: expected the decimal",
        ),
        (
            |v| v["timestamp"] = "18446744073709551616".into(),
            "timestamp: expected the decimal",
        ),
        (|v| v["blockID"] = "x".into(), "blockID: "),
        (
            |v| v["chainID"] = "11111111111111111111111111111111LpoYZ".into(),
            "chainID: ",
        ),
        (
            |v| v["signedMessage"] = "0xabc".into(),
            "signedMessage: expected 0x and an even",
        ),
        (|v| v["signedMessage"] = "0xabcd".into(), "signedMessage: "),
        (
            |v| v["pChainHeight"] = "".into(),
            "pChainHeight: expected the decimal",
        ),
        (
            |v| v["quorum"]["numerator"] = 0.into(),
            "quorum: quorum numerator must be positive",
        ),
        (
            |v| v["validatorSet"]["validators"][2]["publicKey"] = "0x1234".into(),
            "validatorSet.validators[2].publicKey: expected 0x and 96 hex digits",
        ),
        (
            // The compressed flag and x = 0: not a key in G1.
            |v| {
                v["validatorSet"]["validators"][1]["publicKey"] =
                    format!("0x80{}", "00".repeat(47)).into()
            },
            "validatorSet.validators[1].publicKey: ",
        ),
        (
            |v| v["validatorSet"]["validators"][0]["weight"] = "1e3".into(),
            "validatorSet.validators[0].weight: expected the decimal",
        ),
        (
            |v| v["validatorSet"]["validators"][3]["nodeIDs"][0] = "NodeID-x".into(),
            "validatorSet.validators[3].nodeIDs[0]: ",
        ),
        (
            |v| v["validatorSet"]["totalWeight"] = "1".into(),
            "validatorSet.validators: listed validators weigh 500, more than the total weight 1",
        ),
    ];
    for (edit, expected) in cases {
        let message = error_of(&edited(edit));
        assert!(message.starts_with(expected), "{expected:?}: {message}");
    }
}

#[test]
fn unknown_missing_mistyped_or_repeated_members_are_refused() {
    let extra = edited(|v| v["comment"] = "hi".into());
    assert!(matches!(
        Receipt::from_json(&extra),
        Err(DocumentError::Shape {
            what: "receipt",
            ..
        })
    ));
    assert!(error_of(&extra).contains("unknown field `comment`"));
    let nested = edited(|v| v["quorum"]["percent"] = 67.into());
    assert!(error_of(&nested).contains("unknown field `percent`"));
    let missing = edited(|v| {
        v.as_object_mut().unwrap().remove("pChainHeight");
    });
    assert!(error_of(&missing).contains("missing field `pChainHeight`"));
    let mistyped = edited(|v| v["index"] = "3".into());
    assert!(error_of(&mistyped).starts_with("not a receipt: invalid type"));
    let negative = edited(|v| v["networkID"] = (-1).into());
    assert!(error_of(&negative).starts_with("not a receipt: "));
    let written = text(Format::Single);
    let repeated = written.replacen("\"root\"", "\"height\": \"9\",\n  \"root\"", 1);
    assert!(error_of(repeated.as_bytes()).contains("duplicate field `height`"));
}

#[test]
fn other_versions_and_malformed_json_are_refused_clearly() {
    let v2 = edited(|v| v["version"] = 2.into());
    assert_eq!(
        Receipt::from_json(&v2),
        Err(DocumentError::Version("2".into()))
    );
    assert_eq!(
        error_of(&v2),
        "version: this reader knows receipt version 1, the file says 2"
    );
    let text_version = edited(|v| v["version"] = "1".into());
    assert_eq!(
        error_of(&text_version),
        "version: this reader knows receipt version 1, the file says \"1\""
    );
    let unversioned = edited(|v| {
        v.as_object_mut().unwrap().remove("version");
    });
    assert!(error_of(&unversioned).contains("missing field `version`"));
    for garbage in [&b""[..], b"{", b"{\"version\": 1,}", b"not json", b"\xff"] {
        assert!(
            matches!(Receipt::from_json(garbage), Err(DocumentError::Json(_))),
            "{garbage:?}"
        );
    }
    assert!(matches!(
        Receipt::from_json(b"[1, 2]"),
        Err(DocumentError::Shape { .. })
    ));
    let truncated = text(Format::Batched);
    let truncated = &truncated.as_bytes()[..truncated.len() / 2];
    assert!(error_of(truncated).starts_with("not JSON: "));
}

#[test]
fn arrays_in_place_of_objects_are_refused() {
    // serde would read a struct from an array of its values; this format is objects only.
    let receipt: serde_json::Value = serde_json::from_str(&text(Format::Single)).unwrap();
    let values: Vec<serde_json::Value> = receipt.as_object().unwrap().values().cloned().collect();
    let as_array = serde_json::to_vec(&values).unwrap();
    assert!(error_of(&as_array).contains("expected a JSON object"));
    let quorum = edited(|v| v["quorum"] = serde_json::json!([67, 100]));
    assert_eq!(
        error_of(&quorum),
        "not a receipt: quorum: expected a JSON object"
    );
    let validator = edited(|v| {
        let entry = &mut v["validatorSet"]["validators"][1];
        let values: Vec<serde_json::Value> = entry.as_object().unwrap().values().cloned().collect();
        *entry = values.into();
    });
    assert_eq!(
        error_of(&validator),
        "not a receipt: validatorSet.validators[1]: expected a JSON object"
    );
    let set = validator_set_to_json(&validator_set());
    let mut value: serde_json::Value = serde_json::from_str(&set).unwrap();
    let values: Vec<serde_json::Value> = value.as_object().unwrap().values().cloned().collect();
    value = values.into();
    assert!(validator_set_from_json(&serde_json::to_vec(&value).unwrap()).is_err());
}
