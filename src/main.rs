//! The `fenci` binary: parse the command line, run it, print errors with their causes.
use clap::Parser;

fn main() {
    let cli = fenci::cli::Cli::parse();
    let code = match fenci::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", message(&e));
            2
        }
    };
    std::process::exit(code);
}

/// The error and its causes, `: `-separated, each cause once: many errors already say their
/// cause (`{path}: {source}`), and anyhow's `{:#}` would print it again.
fn message(e: &anyhow::Error) -> String {
    let mut msg = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !msg.contains(&c) {
            msg.push_str(": ");
            msg.push_str(&c);
        }
    }
    msg
}
