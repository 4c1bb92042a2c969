//! Opaque cursors: a small JSON object in URL-safe base64, as `/event/` and `/data/search/` hand out.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub fn encode(state: &impl Serialize) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(state).unwrap_or_default())
}

/// `None` for anything this server did not issue.
pub fn decode<T: DeserializeOwned>(cursor: &str) -> Option<T> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor.trim().trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trips_and_rejects_garbage() {
        let c = super::encode(&(17_i64, "ev_1"));
        assert_eq!(super::decode::<(i64, String)>(&c), Some((17, "ev_1".to_string())));
        assert_eq!(super::decode::<(i64, String)>("not a cursor!"), None);
    }
}
