//! One module per subcommand.

pub mod lock;
