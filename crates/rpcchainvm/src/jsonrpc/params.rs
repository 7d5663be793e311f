//! A method's two ends as gorilla's `json2` codec handles them: arguments read from `params`,
//! and a result written as the raw JSON the reply embeds.

use super::error::EnvelopeError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::value::RawValue;

/// Params as gorilla json2 reads them: absent, `null`, `[]` or `[null]` give the defaults; an
/// object is the arguments; an array's first element is (the rest are ignored, as in Go).
/// Anything that does not fit is AvalancheGo's "couldn't unmarshal an argument".
pub fn params<T: DeserializeOwned + Default>(raw: Option<&RawValue>) -> Result<T, EnvelopeError> {
    let Some(raw) = raw else {
        return Ok(T::default());
    };
    let mut object = raw.get();
    if object.starts_with('[') {
        let items: Vec<&RawValue> =
            serde_json::from_str(object).map_err(|_| EnvelopeError::BadParams)?;
        match items.first().copied() {
            Some(first) => object = first.get(),
            None => return Ok(T::default()),
        }
    }
    if object == "null" {
        return Ok(T::default());
    }
    // Only an object: serde would also fill a struct from an array positionally, Go does not.
    if !object.starts_with('{') {
        return Err(EnvelopeError::BadParams);
    }
    serde_json::from_str(object).map_err(|error| {
        tracing::debug!(%error, "JSON-RPC params refused");
        EnvelopeError::BadParams
    })
}

/// A method's result as the raw JSON [`super::encode_reply`] embeds.
pub fn to_raw<T: Serialize>(reply: &T) -> Result<Box<RawValue>, EnvelopeError> {
    serde_json::value::to_raw_value(reply)
        .map_err(|error| EnvelopeError::Unencodable(error.to_string()))
}
