//! The command line: clap arguments, one file per verb, rendering, and the
//! file-system [`Host`](shipc::load::Host). Exit codes: 0 ok, 1 errors found,
//! 3 usage error (SPEC §12).

#![allow(clippy::disallowed_methods)] // the CLI is where IO, env vars and the terminal live

mod args;
mod check;
mod ci_formats;
mod cluster;
mod compile;
mod diff;
mod excerpt;
mod explain;
mod fmt;
mod fs;
mod gitops;
mod graph;
mod init;
mod lock;
mod lsp;
mod render;
mod write;

use clap::Parser;
use std::process::ExitCode;

/// Exit code for a usage error.
pub const USAGE: u8 = 3;

pub fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { USAGE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    // Every verb runs on one big-stack thread, so a small project's
    // parsing and checking need no further threads (`shipc::par`); the
    // process exits without joining it. A panic has printed its message;
    // 101 is Rust's exit code for one.
    shipc::par::run_to_exit(move || {
        let out = render::Output::new(&cli.global);
        ExitCode::from(run(&out, &cli))
    })
    .unwrap_or(ExitCode::from(101))
}

fn run(out: &render::Output, cli: &args::Cli) -> u8 {
    match &cli.command {
        args::Command::Check(a) => check::run(out, a),
        args::Command::Compile(a) => compile::run(out, a),
        args::Command::Diff(a) => diff::run(out, a),
        args::Command::Graph(a) => graph::run(out, a),
        args::Command::Explain(a) => explain::run(out, a),
        args::Command::Lock(a) => lock::lock(out, a),
        args::Command::Verify(a) => lock::verify(out, a),
        args::Command::Promote(a) => lock::promote(out, a),
        args::Command::Fmt(a) => fmt::run(out, a),
        args::Command::Lsp(a) => lsp::run(out, a),
        args::Command::Init(a) => init::run(out, a),
        args::Command::Completions(a) => {
            use clap::CommandFactory;
            let mut cmd = args::Cli::command();
            clap_complete::generate(a.shell, &mut cmd, "shipc", &mut std::io::stdout());
            0
        }
        args::Command::Man => {
            use clap::CommandFactory;
            let man = clap_mangen::Man::new(args::Cli::command());
            match man.render(&mut std::io::stdout()) {
                Ok(()) => 0,
                Err(e) => {
                    out.tool_error(&format!("cannot write the manual page: {e}"), None);
                    1
                }
            }
        }
        args::Command::Plan(a) => cluster::plan(out, a),
        args::Command::Apply(a) => cluster::apply(out, a),
        args::Command::Status(a) => cluster::status(out, a),
        args::Command::History(a) => cluster::history(out, a),
        args::Command::Rollback(a) => cluster::rollback(out, a),
        args::Command::Suspend(a) => gitops::switch(out, a, gitops::Switch::Suspend),
        args::Command::Resume(a) => gitops::switch(out, a, gitops::Switch::Resume),
        args::Command::Reconcile(a) => gitops::switch(out, a, gitops::Switch::Reconcile),
    }
}
