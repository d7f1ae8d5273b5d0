//! The `fenci` binary: parse the command line, run it, print errors with their causes.
use clap::Parser;

fn main() {
    let cli = fenci::cli::Cli::parse();
    let code = match fenci::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", fenci::cli::error_message(&e));
            2
        }
    };
    std::process::exit(code);
}
