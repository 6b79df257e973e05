//! One module per subcommand.

pub mod check;
pub mod completions;
pub mod diff;
pub mod docs;
pub mod explain;
pub mod graph;
pub mod lock;
pub mod overrides;
