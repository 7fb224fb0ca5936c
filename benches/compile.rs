//! `cargo bench --bench compile`: wall time of `compile --all` on the
//! synthetic project (N services × 4 envs: tilt, helmfile, flux, flux), from
//! source text to every output file written to a temporary folder. Target
//! (issue 3): N = 1,000 under 150 ms. Sizes can be passed as arguments.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

#[path = "../src/cli/write.rs"]
#[allow(dead_code)]
mod write;

use shipc::emit::{flux, helmfile, images::Overrides, tilt, OutputTree};
use shipc::load::MemoryHost;
use std::path::Path;
use std::time::{Duration, Instant};

const DIGEST: &str = "sha256:3333333333333333333333333333333333333333333333333333333333333333";

/// Returns the file count and the analysis, which the caller drops after
/// the clock stops: the CLI never frees it (`std::mem::forget` before exit).
fn compile_all(host: &MemoryHost, out: &Path) -> (usize, shipc::Analysis) {
    let started = std::time::Instant::now();
    let mut diags = shipc::Diagnostics::new();
    let a = shipc::analyze(host, Path::new("ship"), None, &mut diags).expect("loads");
    assert!(!diags.has_errors());
    let analyzed = started.elapsed();
    let lock = shipc::lock::Lockfile {
        version: 1,
        ..Default::default()
    };
    let mut overrides = Overrides::new();
    for env in &a.checked.envs {
        for k in env.images.keys() {
            overrides.insert(k.clone(), DIGEST.to_string());
        }
    }
    let trees: Vec<(String, OutputTree)> = std::thread::scope(|scope| {
        let workers: Vec<_> = a
            .checked
            .envs
            .iter()
            .map(|env| {
                let (a, lock, overrides) = (&a, &lock, &overrides);
                scope.spawn(move || {
                    let g = a.graphs.iter().find(|g| g.env == env.name).unwrap();
                    let tree = match env.kind() {
                        "tilt" => tilt::emit(
                            env,
                            g,
                            &tilt::TiltInput {
                                project: &a.checked.project,
                                sources: &a.loaded.sources,
                                root: &a.loaded.root,
                                root_from_output: "../..",
                            },
                        ),
                        kind => {
                            let input = helmfile::PinnedInput {
                                project: &a.checked.project,
                                sources: &a.loaded.sources,
                                root: &a.loaded.root,
                                lock,
                                overrides,
                                lock_command: String::new(),
                            };
                            let (t, p) = if kind == "flux" {
                                flux::emit(env, g, &input)
                            } else {
                                helmfile::emit(env, g, &input)
                            };
                            assert!(p.is_empty());
                            t
                        }
                    };
                    (env.name.clone(), tree)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let emitted = std::time::Instant::now();
    if std::env::var_os("SHIPC_BENCH_VERBOSE").is_some() {
        eprintln!(
            "  analyze: {analyzed:?}, emit: {:?}",
            emitted - started - analyzed
        );
    }
    let mut tree = OutputTree::new();
    for (env, t) in trees {
        tree.merge_under(&env, t);
    }
    let files = tree.files.len();
    // The CLI's own writer: staging folder, then renames.
    write::write_tree(out, &tree).unwrap();
    if std::env::var_os("SHIPC_BENCH_VERBOSE").is_some() {
        eprintln!("  write: {:?}", emitted.elapsed());
    }
    (files, a)
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
        let runs = 7;
        let mut times: Vec<Duration> = Vec::new();
        let mut files = 0;
        for _ in 0..runs {
            let _ = std::fs::remove_dir_all(&out);
            let start = Instant::now();
            let (n_files, analysis) = compile_all(&host, &out);
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
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
