//! `pylock.toml` (PEP 751), lock-version 1.x.

use crate::{Lock, LockError};

/// Reads a pylock.toml into the model (a flat install set).
pub fn parse_pylock(_text: &str) -> Result<Lock, LockError> {
    Err(LockError::Project(
        "pylock.toml is not read yet".to_string(),
    ))
}
