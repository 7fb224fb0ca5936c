#![allow(clippy::disallowed_methods)] // tests read fixtures
//! The ui tests: every case under `tests/ui/` (a `.ship` file, or a folder
//! holding a multi-file project) declares the codes it expects on its first
//! line (`# expect: E2003` or `# expect: ok`). The harness runs the real
//! binary, checks the codes first (so accepting a snapshot cannot hide a
//! changed code), then snapshots the rendered diagnostics.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn ui_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui")
}

/// (case name, path argument relative to tests/ui, expected codes)
fn cases() -> Vec<(String, String, BTreeSet<String>)> {
    let mut out = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(ui_dir())
        .expect("tests/ui exists")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if name == "snapshots" {
            continue;
        }
        let (arg, header_file) = if p.is_dir() {
            let ship = p.join("ship");
            let arg = if ship.is_dir() {
                format!("{name}/ship")
            } else {
                name.clone()
            };
            let mut files: Vec<PathBuf> = walk(&p);
            files.sort();
            let header = files
                .into_iter()
                .find(|f| {
                    std::fs::read(f)
                        .map(|b| b.starts_with(b"# expect:"))
                        .unwrap_or(false)
                })
                .unwrap_or_else(|| panic!("{name}: no file starts with `# expect:`"));
            (arg, header)
        } else if name.ends_with(".ship") {
            (name.clone(), p.clone())
        } else {
            continue;
        };
        let bytes = std::fs::read(&header_file).unwrap();
        let first = String::from_utf8_lossy(&bytes)
            .lines()
            .next()
            .unwrap_or("")
            .to_string();
        let codes = first
            .strip_prefix("# expect:")
            .unwrap_or_else(|| panic!("{name}: first line must be `# expect: …`"))
            .split([' ', ','])
            .filter(|s| !s.is_empty() && *s != "ok")
            .map(str::to_string)
            .collect();
        // An optional second line `# run: compile --env staging` replaces
        // `check` (for rules only compile reports, like P002).
        let second = String::from_utf8_lossy(&bytes)
            .lines()
            .nth(1)
            .unwrap_or("")
            .to_string();
        let arg = match second.strip_prefix("# run:") {
            Some(cmd) => format!("{}\t{arg}", cmd.trim()),
            None => arg,
        };
        out.push((name.trim_end_matches(".ship").to_string(), arg, codes));
    }
    out
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn shipc(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_shipc"))
        .args(args)
        .current_dir(ui_dir())
        .env("NO_COLOR", "1")
        .output()
        .expect("run shipc")
}

#[test]
fn ui() {
    let cases = cases();
    assert!(
        cases.len() >= 100,
        "expected at least 100 ui cases, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for (name, arg, expected) in &cases {
        let argv = |extra: &[&str]| -> Vec<String> {
            let (verb, path) = match arg.split_once('\t') {
                Some((cmd, path)) => (cmd.to_string(), path.to_string()),
                None => ("check".to_string(), arg.clone()),
            };
            let out = std::env::temp_dir().join(format!("shipc-ui-{}-{name}", std::process::id()));
            let mut v: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
            v.extend(
                verb.split_whitespace()
                    .map(|w| w.replace("{out}", &out.to_string_lossy())),
            );
            v.push(path);
            v
        };
        let run = |extra: &[&str]| {
            let a = argv(extra);
            let refs: Vec<&str> = a.iter().map(String::as_str).collect();
            shipc(&refs)
        };
        let json = run(&["--format", "json"]);
        let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap_or_else(|e| {
            panic!(
                "{name}: stdout is not JSON ({e}): {}",
                String::from_utf8_lossy(&json.stdout)
            )
        });
        let got: BTreeSet<String> = v["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["code"].as_str().unwrap().to_string())
            .collect();
        let code = json.status.code();
        // Exit 1 exactly when an error (not a warning) was reported.
        let errors = v["errors"].as_u64().unwrap_or(0);
        let want_code = if errors > 0 { Some(1) } else { Some(0) };
        if &got != expected || code != want_code {
            failures.push(format!(
                "{name}: expected {expected:?} (exit {want_code:?}), got {got:?} (exit {code:?})"
            ));
            continue;
        }
        let human = run(&["--color", "never"]);
        let out_dir = std::env::temp_dir().join(format!("shipc-ui-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&out_dir);
        let rendered = format!(
            "exit: {}\n{}",
            human.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&human.stderr)
                .replace(&out_dir.to_string_lossy().to_string(), "$OUT")
        );
        insta::with_settings!({
            snapshot_path => ui_dir().join("snapshots"),
            prepend_module_to_snapshot => false,
            description => format!("shipc {}", argv(&[]).join(" ").replace(&out_dir.to_string_lossy().to_string(), "$OUT")),
            omit_expression => true,
        }, {
            insta::assert_snapshot!(name.as_str(), rendered);
        });
    }
    assert!(
        failures.is_empty(),
        "ui cases with the wrong codes:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_code_is_explained_and_exercised() {
    let cases = cases();
    let exercised: BTreeSet<String> = cases
        .iter()
        .flat_map(|(_, _, c)| c.iter().cloned())
        .collect();
    let mut ids = BTreeSet::new();
    for code in shipc::Code::ALL {
        assert!(ids.insert(code.id()), "duplicate code {}", code.id());
        let text = code.explanation();
        assert!(
            text.starts_with(&format!("# {}", code.id())),
            "{}: explanation must start with its code",
            code.id()
        );
        assert!(text.len() > 40, "{}: explanation too short", code.id());
        // Registry codes need a registry: tests/registry.rs exercises them
        // (and checks that it does).
        // Cluster codes need an API server (tests/cluster.rs), Git codes a
        // Git remote (tests/gitops.rs): those exercise them.
        let needs_registry = code.id().starts_with('R')
            || code.id().starts_with('K')
            || code.id().starts_with('G')
            || code.id() == "P004";
        assert!(
            needs_registry || exercised.contains(code.id()),
            "{} is not exercised by any ui test",
            code.id()
        );
        assert_eq!(shipc::Code::parse(code.id()), Some(*code));
    }
}
