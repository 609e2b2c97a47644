//! A hash that never changes between builds, versions or machines (SHA-256, first eight bytes): for
//! decisions several processes must agree on, such as which shard a tenant belongs to.

pub fn stable_hash(bytes: &[u8]) -> u64 {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest.as_ref()[..8]);
    u64::from_be_bytes(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_fixed() {
        // SHA-256("abc") begins ba7816bf8f01cfea.
        assert_eq!(stable_hash(b"abc"), 0xba78_16bf_8f01_cfea);
    }
}
