//! `cargo bench --bench check`: wall time of the front end (load, parse,
//! check in every env, graph) on the synthetic project for N = 100, 1,000 and
//! 10,000 services × 4 envs. Target (issue 2): N = 1,000 under 150 ms,
//! N = 10,000 under 1.5 s on a 2-core machine. Reports the median of several
//! runs. Pass sizes as arguments to override: `cargo bench --bench check -- 500`.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use shipc::load::MemoryHost;
use std::path::Path;
use std::time::{Duration, Instant};

fn run_once(host: &MemoryHost) -> (Duration, usize) {
    let start = Instant::now();
    let mut diags = shipc::Diagnostics::new();
    let a = shipc::analyze(host, Path::new("ship"), None, &mut diags).expect("loads");
    let elapsed = start.elapsed();
    assert!(!diags.has_errors(), "synthetic project must check cleanly");
    (elapsed, a.graphs.len())
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if args.is_empty() {
        vec![100, 1_000, 10_000]
    } else {
        args
    };
    println!("shipc check (load + parse + check 4 envs + graph), median wall time");
    for n in sizes {
        let mut host = MemoryHost::new();
        for (name, text) in shipc::synth::project_files(n) {
            host.add(format!("ship/{name}"), text);
        }
        let runs = if n >= 10_000 { 5 } else { 11 };
        let mut times: Vec<Duration> = (0..runs).map(|_| run_once(&host).0).collect();
        times.sort();
        let median = times[times.len() / 2];
        println!(
            "N = {n:>6}: median {:>8.1} ms  (min {:.1} ms, max {:.1} ms, {runs} runs)",
            median.as_secs_f64() * 1e3,
            times[0].as_secs_f64() * 1e3,
            times[times.len() - 1].as_secs_f64() * 1e3
        );
    }
}

/// The binary's allocator (src/main.rs), so the figures are the CLI's.
#[global_allocator]
static GLOBAL: shipc::alloc::Mimalloc = shipc::alloc::Mimalloc;
