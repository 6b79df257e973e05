//! `pdm.lock`, lock version 4.x.

use crate::{Lock, LockError};

/// Reads a pdm.lock into the model (a dependency graph; roots come from pyproject.toml).
pub fn parse_pdm_lock(_text: &str) -> Result<Lock, LockError> {
    Err(LockError::Project("pdm.lock is not read yet".to_string()))
}
