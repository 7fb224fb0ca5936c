//! `cargo bench --bench compile`: wall time of `compile --all` on the
//! synthetic project (N services × 4 envs: tilt, helmfile, flux, flux), from
//! source text to every output file written to a temporary folder. Target
//! (issue 3): N = 1,000 under 150 ms. Sizes can be passed as arguments.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

#[path = "../src/cli/write.rs"]
#[allow(dead_code)]
mod write;

use shipc::emit::{self, images::Overrides};
use shipc::load::MemoryHost;
use std::path::Path;
use std::time::{Duration, Instant};

const DIGEST: &str = "sha256:3333333333333333333333333333333333333333333333333333333333333333";

/// A ship.lock pinning every lock key of every pinned env, as `shipc lock`
/// writes it.
fn lock_text(host: &MemoryHost) -> String {
    let mut diags = shipc::Diagnostics::new();
    let a = shipc::analyze(host, Path::new("ship"), None, &mut diags).expect("loads");
    let mut lock = shipc::lock::Lockfile::empty();
    for env in a.checked.envs.iter().filter(|e| e.kind() != "tilt") {
        let mut pins = shipc::lock::EnvLock::default();
        for key in shipc::check::constraints::lock_keys(env, &mut diags).into_keys() {
            let pin = shipc::lock::ImagePin {
                repository: format!("registry.example.com/synth/{key}"),
                digest: DIGEST.to_string(),
                tag: Some("v1".to_string()),
            };
            pins.images.insert(key, pin);
        }
        lock.set_env(&env.name, pins);
    }
    shipc::lock::render(&lock)
}

/// Returns the file count, and the analysis and output tree, which the
/// caller drops after the clock stops: the CLI never frees them
/// (`std::mem::forget` before exit).
fn compile_all(
    host: &MemoryHost,
    lock_text: &str,
    out: &Path,
) -> (usize, (shipc::Analysis, emit::OutputTree)) {
    let started = std::time::Instant::now();
    let mut diags = shipc::Diagnostics::new();
    // The project's ship.lock, parsed while the project is analysed, as the
    // CLI does.
    let (a, lock) = std::thread::scope(|s| {
        let lock = s.spawn(|| shipc::lock::parse(lock_text).unwrap());
        let a = shipc::analyze(host, Path::new("ship"), None, &mut diags).expect("loads");
        (a, lock.join().unwrap())
    });
    assert!(!diags.has_errors());
    let analyzed = started.elapsed();
    let overrides = Overrides::new();
    // The CLI's own emission (every env on all cores).
    let root_from_output = |_: &str| "../..".to_string();
    let targets = emit::Targets {
        lock: &lock,
        overrides: &overrides,
        root_from_output: &root_from_output,
        path_arg: "",
    };
    let (tree, problems) = emit::all(&a, &targets).unwrap();
    assert!(problems.is_empty());
    let emitted = std::time::Instant::now();
    if std::env::var_os("SHIPC_BENCH_VERBOSE").is_some() {
        eprintln!(
            "  analyze: {analyzed:?}, emit: {:?}",
            emitted - started - analyzed
        );
    }
    let files = tree.files.len();
    // The CLI's own writer: staging folder, then renames.
    let options = write::WriteOptions {
        force: false,
        module: Path::new("ship"),
    };
    write::write_tree(out, &tree, &options).unwrap();
    if std::env::var_os("SHIPC_BENCH_VERBOSE").is_some() {
        eprintln!("  write: {:?}", emitted.elapsed());
    }
    (files, (a, tree))
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if args.is_empty() {
        vec![100, 1_000]
    } else {
        args
    };
    println!("shipc compile --all (4 envs, files written), median wall time");
    for n in sizes {
        let mut host = MemoryHost::new();
        let dump = std::env::var_os("SHIPC_BENCH_DUMP").map(std::path::PathBuf::from);
        for (name, text) in shipc::synth::project_files(n) {
            // SHIPC_BENCH_DUMP=DIR also writes the project, to time the CLI on it.
            if let Some(d) = &dump {
                let p = d.join(format!("n{n}/ship/{name}"));
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(p, &text).unwrap();
            }
            host.add(format!("ship/{name}"), text);
        }
        let out = std::env::var_os("SHIPC_BENCH_OUT")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(std::env::temp_dir)
            .join(format!("shipc-bench-compile-{}", std::process::id()));
        let lock = lock_text(&host);
        if let Some(d) = &dump {
            std::fs::write(d.join(format!("n{n}/ship.lock")), &lock).unwrap();
        }
        let runs = 7;
        let mut times: Vec<Duration> = Vec::new();
        let mut files = 0;
        for _ in 0..runs {
            let _ = std::fs::remove_dir_all(&out);
            let start = Instant::now();
            let (n_files, analysis) = compile_all(&host, &lock, &out);
            times.push(start.elapsed());
            files = n_files;
            drop(analysis);
        }
        let _ = std::fs::remove_dir_all(&out);
        times.sort();
        println!(
            "N = {n:>6}: median {:>8.1} ms (min {:.1}, max {:.1}), {files} files",
            times[runs / 2].as_secs_f64() * 1e3,
            times[0].as_secs_f64() * 1e3,
            times[runs - 1].as_secs_f64() * 1e3
        );
    }
}

/// The binary's allocator (src/main.rs), so the figures are the CLI's.
#[global_allocator]
static GLOBAL: shipc::alloc::Mimalloc = shipc::alloc::Mimalloc;
