//! `cargo bench --bench compile`: wall time of `compile --all`, from source
//! text to every output file written, on two workloads: the synthetic
//! project (N services × 4 envs: tilt, helmfile, flux, flux) and a
//! like-for-like one (N services × 3 envs, a Deployment and a Service each,
//! the shape other tools are timed on; and the same with per-env replicas
//! as env overrides, where most of each env is shared). Each run writes into a fresh folder,
//! on tmpfs and on disk separately, deleted only after the clock stops; with
//! `perf` and a release build, the CLI's instruction count is printed too (a
//! stable figure on a noisy VM), and with GNU time its peak RSS (the
//! memory target at 10,000). Sizes can be passed as arguments.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

#[path = "../src/cli/write.rs"]
#[allow(dead_code)]
mod write;

use shipc::emit;
use shipc::images::Overrides;
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
    for env in a.checked.envs.iter().filter(|e| e.env_kind().pinned()) {
        let mut pins = shipc::lock::EnvLock::default();
        for key in env.lock_keys() {
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

/// Returns the file count, and the analysis, which the caller drops after
/// the clock stops: the CLI never frees it (`std::mem::forget` before exit).
fn compile_all(host: &MemoryHost, lock_text: &str, out: &Path) -> (usize, shipc::Analysis) {
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
    // The CLI's own writer: each env staged as soon as it is emitted (a
    // large env in batches while it is), then every env moved into place.
    let options = write::WriteOptions {
        force: false,
        module: Path::new("ship"),
    };
    let staged = write::begin(out, &emit::env_names(&a), &options).unwrap();
    let batches = |env: &str, files: emit::OutputTree| staged.add_batch(env, files);
    let (counts, problems) = emit::each_env(&a, &targets, Some(&batches), |env, files| {
        staged.add_env(env, &files).unwrap()
    })
    .unwrap();
    assert!(problems.is_empty());
    let emitted = std::time::Instant::now();
    staged.commit().unwrap();
    if std::env::var_os("SHIPC_BENCH_VERBOSE").is_some() {
        eprintln!(
            "  analyze: {analyzed:?}, emit and stage: {:?}, commit: {:?}",
            emitted - started - analyzed,
            emitted.elapsed()
        );
    }
    (counts.iter().sum(), a)
}

/// The like-for-like workload set beside other tools: N services × 3 envs,
/// each service a Deployment and a Service (an external image, one port),
/// every env a plain-manifests (tilt) env.
fn like_for_like(n: usize) -> Vec<(String, String)> {
    like_for_like_written(n, false)
}

/// The like-for-like workload written the other way Ship allows: the
/// services read nothing of the env, and env `three` overrides `replicas`
/// of one service in fifty (what is evaluated once and shared, #18).
fn like_for_like_overrides(n: usize) -> Vec<(String, String)> {
    like_for_like_written(n, true)
}

fn like_for_like_written(n: usize, overrides: bool) -> Vec<(String, String)> {
    let replicas = if overrides {
        "1"
    } else {
        "if env.name == \"three\" then 3 else 1"
    };
    let mut s = String::with_capacity(n * 160 + 512);
    for i in 0..n {
        s.push_str(&format!(
            "service svc{i} {{\n  image = external(\"registry.example.com/app/svc{i}:1.0.{i}\")\n  port http = 8080\n  replicas = {replicas}\n}}\n"
        ));
    }
    for (e, ns) in [("one", "one"), ("two", "two"), ("three", "three")] {
        s.push_str(&format!(
            "env {e} {{\n  kind = tilt\n  release_suffix = \"\"\n  cluster {{ namespace = \"{ns}\" }}\n"
        ));
        if overrides && e == "three" {
            for i in (0..n).step_by(50) {
                s.push_str(&format!("  svc{i}.replicas = 3\n"));
            }
        }
        s.push_str("}\n");
    }
    vec![("main.ship".to_string(), s)]
}

/// Time `runs` compiles into fresh folders under `base` (each deleted after
/// the clock stops, never before the next write), returning the sorted times.
fn time_runs(host: &MemoryHost, lock: &str, base: &Path, runs: usize) -> (Vec<Duration>, usize) {
    let mut times: Vec<Duration> = Vec::new();
    let mut files = 0;
    let mut written = Vec::new();
    for i in 0..runs {
        let out = base.join(format!("run{i}"));
        let start = Instant::now();
        let (n_files, analysis) = compile_all(host, lock, &out);
        times.push(start.elapsed());
        files = n_files;
        drop(analysis);
        written.push(out);
    }
    for w in written {
        let _ = std::fs::remove_dir_all(w);
    }
    times.sort();
    (times, files)
}

/// The real CLI's `compile --all` of the project in `dir` into `out`, run
/// under `program args…`, when a release build exists: what it printed on
/// stderr (the tool's figures).
fn cli_under(program: &str, args: &[&str], dir: &Path, out: &Path) -> Option<String> {
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/shipc");
    if !bin.is_file() {
        return None;
    }
    let o = std::process::Command::new(program)
        .args(args)
        .arg(&bin)
        .args(["compile", "--all", "--force", "-o"])
        .arg(out)
        .arg(dir.join("ship"))
        .output()
        .ok()?;
    let _ = std::fs::remove_dir_all(out);
    Some(String::from_utf8_lossy(&o.stderr).into_owned())
}

/// Instructions the real CLI executes for `compile --all` of the project in
/// `dir`, when a release build exists: `perf stat` (user space) where the
/// machine has the counter, else `callgrind` (slower, same figure).
fn instructions(dir: &Path, out: &Path) -> Option<u64> {
    let run = |program: &str, args: &[&str]| cli_under(program, args, dir, out);
    let perf = run("perf", &["stat", "-x", ",", "-e", "instructions:u", "--"]).and_then(|e| {
        e.lines()
            .find(|l| l.contains("instructions"))
            .and_then(|l| l.split(',').next())
            .and_then(|n| n.trim().parse().ok())
    });
    perf.or_else(|| {
        let e = run(
            "valgrind",
            &["--tool=callgrind", "--callgrind-out-file=/dev/null"],
        )?;
        e.lines()
            .find_map(|l| l.split("Collected :").nth(1))
            .and_then(|n| n.trim().parse().ok())
    })
}

/// The real CLI's peak resident memory for `compile --all` of the project
/// in `dir`, in KiB, when a release build and GNU time exist (the memory
/// target is the CLI's, allocator and threads included).
fn peak_rss(dir: &Path, out: &Path) -> Option<u64> {
    let stderr = cli_under("/usr/bin/time", &["-f", "%M"], dir, out)?;
    stderr.lines().last()?.trim().parse().ok()
}

/// The folder name `SHIPC_BENCH_DUMP` keeps a workload's project under:
/// one per workload (they would overwrite each other's `main.ship`).
fn dump_name(workload: &str) -> &'static str {
    if workload.starts_with("synthetic") {
        "synthetic"
    } else if workload.contains("overrides") {
        "like-for-like-overrides"
    } else {
        "like-for-like"
    }
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
    // Output into tmpfs and onto disk, timed separately: on some file
    // systems creating thousands of files costs more than compiling them.
    let tmpfs = Path::new("/dev/shm");
    let mut places: Vec<(&str, std::path::PathBuf)> = Vec::new();
    if tmpfs.is_dir() {
        places.push(("tmpfs", tmpfs.to_path_buf()));
    }
    places.push((
        "disk",
        std::env::var_os("SHIPC_BENCH_OUT")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(std::env::temp_dir),
    ));
    println!("shipc compile --all, files written into fresh folders; median wall time (and the CLI's user-space instructions and peak RSS, when target/release/shipc and perf or valgrind, and /usr/bin/time exist)");
    for n in sizes {
        for (workload, files_of) in [
            (
                "synthetic N x 4 envs",
                shipc::synth::project_files as fn(usize) -> Vec<(String, String)>,
            ),
            (
                "like-for-like N x 3 envs, Deployment + Service",
                like_for_like,
            ),
            ("like-for-like with env overrides", like_for_like_overrides),
        ] {
            let mut host = MemoryHost::new();
            let project = std::env::temp_dir()
                .join(format!("shipc-bench-project-{}-{n}", std::process::id()));
            let dump = std::env::var_os("SHIPC_BENCH_DUMP").map(std::path::PathBuf::from);
            for (name, text) in files_of(n) {
                // SHIPC_BENCH_DUMP=DIR also keeps the project (DIR/synthetic-nN,
                // DIR/like-for-like-nN), to time the CLI on it.
                for d in dump
                    .iter()
                    .map(|d| d.join(format!("{}-n{n}", dump_name(workload))))
                    .chain([project.clone()])
                {
                    let p = d.join(format!("ship/{name}"));
                    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                    std::fs::write(p, &text).unwrap();
                }
                host.add(format!("ship/{name}"), text);
            }
            let lock = lock_text(&host);
            std::fs::write(project.join("ship.lock"), &lock).unwrap();
            if let Some(d) = &dump {
                std::fs::write(
                    d.join(format!("{}-n{n}/ship.lock", dump_name(workload))),
                    &lock,
                )
                .unwrap();
            }
            for (place, base) in &places {
                let base = base.join(format!("shipc-bench-compile-{}", std::process::id()));
                let runs = 7;
                let (times, files) = time_runs(&host, &lock, &base, runs);
                let ins = instructions(&project, &base.join("perf"))
                    .map(|i| format!(", {:.0} M instructions", i as f64 / 1e6))
                    .unwrap_or_default();
                let rss = peak_rss(&project, &base.join("rss"))
                    .map(|k| format!(", peak RSS {:.0} MiB", k as f64 / 1024.0))
                    .unwrap_or_default();
                let _ = std::fs::remove_dir_all(&base);
                println!(
                    "{workload}, N = {n:>6}, {place:>5}: median {:>8.1} ms (min {:.1}, max {:.1}), {files} files{ins}{rss}",
                    times[runs / 2].as_secs_f64() * 1e3,
                    times[0].as_secs_f64() * 1e3,
                    times[runs - 1].as_secs_f64() * 1e3
                );
            }
            let _ = std::fs::remove_dir_all(&project);
        }
    }
}

/// The binary's allocator (src/main.rs), so the figures are the CLI's.
#[global_allocator]
static GLOBAL: shipc::alloc::Mimalloc = shipc::alloc::Mimalloc;
