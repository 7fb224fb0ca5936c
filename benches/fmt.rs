//! `cargo bench --bench fmt`: `shipc fmt` of the synthetic project's
//! files in process, on all cores as the command does (parse check,
//! format, and for a changed file a re-parse and token check; no writes). Target (issue 14): N = 1,000 under
//! 100 ms. The service count can be passed as an argument.
#![allow(clippy::disallowed_methods)] // a bench reads the clock

use std::time::{Duration, Instant};

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1000);
    let files = shipc::synth::project_files(n);
    let bytes: usize = files.iter().map(|(_, t)| t.len()).sum();
    let mut map = shipc::source::SourceMap::new();
    let ids: Vec<_> = files
        .iter()
        .map(|(name, text)| map.add(name.into(), text.clone(), false))
        .collect();
    let mut times: Vec<Duration> = Vec::new();
    for _ in 0..11 {
        let started = Instant::now();
        let fs: Vec<&shipc::source::SourceFile> =
            ids.iter().map(|id| map.get(*id).expect("file")).collect();
        for r in shipc::fmt::format_files(&fs) {
            std::hint::black_box(r.expect("formats"));
        }
        times.push(started.elapsed());
    }
    times.sort();
    println!(
        "shipc fmt, {n} services ({} files, {} KiB): min {:.1} ms, median {:.1} ms, max {:.1} ms (target: 100 ms)",
        files.len(),
        bytes / 1024,
        times[0].as_secs_f64() * 1e3,
        times[times.len() / 2].as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3,
    );
}
