//! The `shipc` binary: all argv, terminal and exit-code handling is in `cli`.
mod cli;

fn main() -> std::process::ExitCode {
    let code = cli::main();
    shipc::alloc::exiting();
    code
}

/// mimalloc (see `shipc::alloc`).
#[global_allocator]
static GLOBAL: shipc::alloc::Mimalloc = shipc::alloc::Mimalloc;
