//! `mailroom`: parse the command line, run one command, turn its outcome into an exit code.

use std::process::ExitCode;

use clap::Parser;

use mailroom::cli::Cli;
use mailroom::error;

fn main() -> ExitCode {
    install_panic_note();
    let cli = Cli::parse();
    mailroom::logging::init(cli.global.verbose, cli.global.quiet);
    let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
    let name = cli.command.name();
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mailroom {name}: error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(mailroom::commands::dispatch(cli));
    // Do not wait for stray background tasks (an IDLE connection, say) at exit.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    match result {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(err) if error::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprint!("{}", error::render(name, &err));
            ExitCode::from(error::exit_code_for(&err))
        }
    }
}

/// A panic is a bug: say so, once, after the default message.
fn install_panic_note() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default(info);
        eprintln!("mailroom: this is a bug in mailroom; please report it with the command you ran.");
    }));
}
