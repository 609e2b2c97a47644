//! Identifiers the lab makes up: random GUIDs and tokens for live requests, and GUIDs derived from a
//! label where the same input must always give the same id (ids of objects stored without one, and
//! everything `lab init` generates).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::digest::{SHA256, digest};
use ring::rand::{SecureRandom, SystemRandom};

/// A random version-4 GUID.
pub fn random_guid() -> String {
    let mut bytes = [0u8; 16];
    fill_random(&mut bytes);
    format_guid(bytes)
}

/// A random opaque token of 256 bits, URL-safe.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    fill_random(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A GUID that depends only on `label`: the first 16 bytes of its SHA-256, shaped as version 4.
pub fn derived_guid(label: &str) -> String {
    let hash = digest(&SHA256, label.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hash.as_ref()[..16]);
    format_guid(bytes)
}

/// A number that depends only on `label`.
pub fn derived_number(label: &str) -> u64 {
    let hash = digest(&SHA256, label.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&hash.as_ref()[..8]);
    u64::from_be_bytes(bytes)
}

fn fill_random(bytes: &mut [u8]) {
    if SystemRandom::new().fill(bytes).is_err() {
        // The system generator failing is not recoverable in a useful way; a hash of the clock and a
        // counter still gives ids that do not collide within a lab run.
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let count = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let fallback = digest(&SHA256, format!("{now:?}/{count}").as_bytes());
        for (byte, source) in bytes.iter_mut().zip(fallback.as_ref().iter().cycle()) {
            *byte = *source;
        }
    }
}

fn format_guid(mut bytes: [u8; 16]) -> String {
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::is_guid;

    #[test]
    fn guids_are_guids_and_derived_ones_are_stable() {
        assert!(is_guid(&random_guid()));
        assert_ne!(random_guid(), random_guid());
        assert_eq!(derived_guid("a"), derived_guid("a"));
        assert_ne!(derived_guid("a"), derived_guid("b"));
        assert!(is_guid(&derived_guid("a")));
        assert_eq!(random_token().len(), 43);
    }
}
