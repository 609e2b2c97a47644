//! Deterministic choices for `lab init`: every id, number and timestamp is a hash of the seed and a
//! label, so the same seed gives byte-identical files on any machine and any version of `rand`.

use jiff::Timestamp;

use crate::lab::ids::{derived_guid, derived_number};

/// 2025-01-01T00:00:00Z: generated objects are dated in the year after it.
const EPOCH_SECONDS: i64 = 1_735_689_600;
const YEAR_SECONDS: u64 = 365 * 24 * 3600;

#[derive(Clone, Copy, Debug)]
pub struct Seeded {
    seed: u64,
}

impl Seeded {
    pub fn new(seed: u64) -> Self {
        Seeded { seed }
    }

    fn label(&self, label: &str) -> String {
        format!("tenantctl-lab/{}/{label}", self.seed)
    }

    pub fn guid(&self, label: &str) -> String {
        derived_guid(&self.label(label))
    }

    /// A number in `0..below` (`below` > 0).
    pub fn number(&self, label: &str, below: u64) -> u64 {
        derived_number(&self.label(label)) % below.max(1)
    }

    /// One of `items` (not empty).
    pub fn pick<'a, T>(&self, label: &str, items: &'a [T]) -> &'a T {
        let index = self.number(label, items.len() as u64) as usize;
        &items[index.min(items.len().saturating_sub(1))]
    }

    /// A Graph timestamp (seven fractional digits) within a year after 2025-01-01.
    pub fn timestamp(&self, label: &str) -> String {
        let offset = self.number(label, YEAR_SECONDS) as i64;
        let nanos = (self.number(&format!("{label}/ns"), 10_000_000) * 100) as i32;
        let at = Timestamp::new(EPOCH_SECONDS + offset, nanos).unwrap_or(Timestamp::UNIX_EPOCH);
        format!("{at:.7}")
    }

    /// A secret that depends on the seed (lab credentials are not secrets worth protecting, but they
    /// must still be what `lab.json` says).
    pub fn secret(&self, label: &str) -> String {
        format!("lab~{}", self.guid(label).replace('-', ""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_values() {
        let (a, b, other) = (Seeded::new(1), Seeded::new(1), Seeded::new(2));
        assert_eq!(a.guid("x"), b.guid("x"));
        assert_ne!(a.guid("x"), other.guid("x"));
        assert_eq!(a.timestamp("t"), b.timestamp("t"));
        assert!(a.timestamp("t").starts_with("202"));
        assert_eq!(a.timestamp("t").len(), "2025-01-01T00:00:00.0000000Z".len());
        assert!(a.number("n", 5) < 5);
        assert_eq!(*a.pick("p", &[7]), 7);
    }
}
