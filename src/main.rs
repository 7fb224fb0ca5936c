//! The `shipc` binary: all argv, terminal and exit-code handling is in `cli`.
mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}

/// mimalloc: the compiler allocates millions of small values (model records,
/// Kubernetes objects, YAML strings) on several threads; glibc's allocator
/// spent a quarter of `compile --all` in malloc/free.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
