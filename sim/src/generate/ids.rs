//! Close-like identifiers (`acti_` + 43 base-62 characters, `ev_` + 22, ...) drawn from a seeded RNG, so a
//! seed always produces the same ids.

use rand::Rng;

const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The organization every generated record belongs to (the one of the sample records).
pub const ORGANIZATION_ID: &str = "orga_ya3w9oMjeLtWe7zFGZr63Dz8ruBbjybG0EIUdUXaESi";

/// A new id: `prefix` followed by `len` random base-62 characters.
pub fn random_id(rng: &mut impl Rng, prefix: &str, len: usize) -> String {
    let mut id = String::with_capacity(prefix.len() + len);
    id.push_str(prefix);
    for _ in 0..len {
        id.push(char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]));
    }
    id
}

/// A new object id in Close's long form (`lead_`, `acti_`, `cont_`, `task_`, `cf_`, `user_`, ...).
pub fn object_id(rng: &mut impl Rng, prefix: &str) -> String {
    random_id(rng, prefix, 43)
}

/// A new event-log id (`ev_` + 22 characters).
pub fn event_id(rng: &mut impl Rng) -> String {
    random_id(rng, "ev_", 22)
}

/// A new request id (`req_` + 22 characters), as event-log records carry.
pub fn request_id(rng: &mut impl Rng) -> String {
    random_id(rng, "req_", 22)
}
