//! Everything the lab serves from: the stored tenants, the token signer, write budgets, fault dice,
//! statistics and the knobs that can change while it runs.

use std::sync::{PoisonError, RwLock};

use super::budget::WriteBudgets;
use super::config::RuntimeConfig;
use super::faults::FaultDice;
use super::stats::Stats;
use super::store::Store;
use super::tokens::TokenIssuer;

/// Everything the lab serves from.
#[derive(Debug)]
pub struct Lab {
    pub store: Store,
    pub tokens: TokenIssuer,
    pub budgets: WriteBudgets,
    /// Defender's limit on creating custom detection rules.
    pub detection_creates: WriteBudgets,
    pub dice: FaultDice,
    pub stats: Stats,
    pub config: RwLock<RuntimeConfig>,
}

impl Lab {
    pub fn config(&self) -> RuntimeConfig {
        self.config.read().unwrap_or_else(PoisonError::into_inner).clone()
    }
}
