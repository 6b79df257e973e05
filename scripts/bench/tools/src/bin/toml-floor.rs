//! `toml-floor FILE`: reads FILE and parses it into a `toml::Value`, printing the number of
//! top-level keys (so the parse cannot be optimised away). The floor any lock reader is held to.

fn main() {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: toml-floor FILE");
        std::process::exit(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("toml-floor: {}: {e}", std::path::Path::new(&path).display());
            std::process::exit(1);
        }
    };
    match text.parse::<toml::Table>() {
        Ok(table) => println!("{}", table.len()),
        Err(e) => {
            eprintln!("toml-floor: {e}");
            std::process::exit(1);
        }
    }
}
