//! `cargo bench --bench lsp`: how long after an edit the language server
//! has fresh diagnostics, on the synthetic 1,000-service project × 4 envs
//! (issue 15's target: under 100 ms).
//!
//! Two figures, median of several edits:
//! * library: `analyze_with` (the parse cache warm, one file changed) plus
//!   `ide::Snapshot::new` — what the server does per edit;
//! * end to end: the real `shipc lsp` over stdio, from sending
//!   `didChange` for one file until its `publishDiagnostics` arrives.
//!
//! For comparison it prints a cold analysis (no cache), which is what
//! `shipc check` costs. Pass a size to override: `cargo bench --bench lsp -- 10000`.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use serde_json::{json, Value};
use shipc::load::MemoryHost;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn edit(text: &str, i: usize) -> String {
    // A real edit: a changed value in the first service of the file.
    text.replacen("then 3 else 1", &format!("then 3 else {}", i % 3 + 2), 1)
}

fn library(n: usize) {
    let files = shipc::synth::project_files(n);
    let host_of = |files: &[(String, String)]| {
        let mut host = MemoryHost::new();
        for (name, text) in files {
            host.add(format!("ship/{name}"), text.as_str());
        }
        host
    };
    let cold_runs = if std::env::var_os("SHIPC_BENCH_LIBRARY_ONLY").is_some() {
        1
    } else {
        5
    };
    let cold: Vec<Duration> = (0..cold_runs)
        .map(|_| {
            let host = host_of(&files);
            let t = Instant::now();
            let mut d = shipc::Diagnostics::new();
            let a = shipc::analyze(&host, Path::new("ship"), None, &mut d).unwrap();
            let e = t.elapsed();
            std::mem::forget(a);
            e
        })
        .collect();
    let cache = shipc::Cache::new();
    let mut d = shipc::Diagnostics::new();
    let a = shipc::analyze_with(
        &host_of(&files),
        Path::new("ship"),
        None,
        &mut d,
        Some(&cache),
    )
    .unwrap();
    let mut first = shipc::ide::Snapshot::new(a, d.into_sorted(), &cache);
    cache.recycle(&mut first.analysis);
    drop(first);
    let mut times = Vec::new();
    for i in 0..11 {
        let mut changed = files.clone();
        let k = 1 + i % (changed.len() - 1);
        let (_, text) = &mut changed[k];
        *text = edit(text, i);
        let host = host_of(&changed);
        let t = Instant::now();
        let mut d = shipc::Diagnostics::new();
        let a = shipc::analyze_with(&host, Path::new("ship"), None, &mut d, Some(&cache)).unwrap();
        let diags = d.into_sorted();
        assert!(diags.iter().all(|d| !d.is_error()), "{diags:?}");
        let snap = shipc::ide::Snapshot::new(a, diags, &cache);
        times.push(t.elapsed());
        // As the server does: the model's values go back to the cache.
        let mut snap = snap;
        cache.recycle(&mut snap.analysis);
        drop(snap);
    }
    println!(
        "N = {n:>6}: library  edit → diagnostics median {} (min {}, max {}); cold analysis {}",
        ms(median(times.clone())),
        ms(*times.iter().min().unwrap()),
        ms(*times.iter().max().unwrap()),
        ms(median(cold))
    );
}

fn read_message(r: &mut impl BufRead) -> Option<Value> {
    let mut len = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length: ") {
            len = v.parse::<usize>().ok();
        }
    }
    let mut buf = vec![0; len?];
    r.read_exact(&mut buf).ok()?;
    serde_json::from_slice(&buf).ok()
}

fn end_to_end(n: usize) {
    let dir = std::env::temp_dir().join(format!("shipc-bench-lsp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("ship")).unwrap();
    let files = shipc::synth::project_files(n);
    for (name, text) in &files {
        std::fs::write(dir.join("ship").join(name), text).unwrap();
    }
    let bin = env!("CARGO_MANIFEST_DIR").to_string() + "/target/release/shipc";
    if !Path::new(&bin).is_file() {
        println!("N = {n:>6}: end to end skipped: build target/release/shipc first (cargo build --release)");
        return;
    }
    let mut child = Command::new(&bin)
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut send = |v: Value| {
        let t = v.to_string();
        write!(stdin, "Content-Length: {}\r\n\r\n{t}", t.len()).unwrap();
        stdin.flush().unwrap();
    };
    send(
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}),
    );
    while read_message(&mut out).is_some_and(|m| m["id"] != json!(1)) {}
    send(json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}));
    let (name, text) = &files[1];
    let path = dir.join("ship").join(name);
    let uri = format!("file://{}", path.display());
    send(
        json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": uri, "languageId": "ship", "version": 1, "text": text}}}),
    );
    let wait = |out: &mut BufReader<_>| loop {
        let m = read_message(out).expect("server alive");
        if m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == json!(uri) {
            return m;
        }
    };
    let t = Instant::now();
    wait(&mut out);
    let open = t.elapsed();
    let mut times = Vec::new();
    for i in 0..11 {
        let changed = edit(text, i);
        let t = Instant::now();
        send(
            json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": uri, "version": i + 2}, "contentChanges": [{"text": changed}]}}),
        );
        let m = wait(&mut out);
        times.push(t.elapsed());
        assert!(
            m["params"]["diagnostics"].as_array().unwrap().is_empty(),
            "{m}"
        );
    }
    send(json!({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}));
    send(json!({"jsonrpc": "2.0", "method": "exit"}));
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "N = {n:>6}: shipc lsp edit → diagnostics median {} (min {}, max {}); first analysis on open {}",
        ms(median(times.clone())),
        ms(*times.iter().min().unwrap()),
        ms(*times.iter().max().unwrap()),
        ms(open)
    );
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() { vec![1_000] } else { sizes };
    if std::env::var_os("SHIPC_BENCH_LIBRARY_ONLY").is_some() {
        for _ in 0..8 {
            library(sizes[0]);
        }
        return;
    }
    for n in sizes {
        library(n);
        end_to_end(n);
    }
}

/// The binary's allocator (src/main.rs), so the figures are the CLI's.
#[global_allocator]
static GLOBAL: shipc::alloc::Mimalloc = shipc::alloc::Mimalloc;
