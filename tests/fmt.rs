#![allow(clippy::disallowed_methods)] // the tests read fixtures and run shipc
//! `shipc fmt`: idempotent and meaning-preserving on every example and
//! every ui case that parses (the same diagnostics, the same compiled
//! output but for the `ship.dev/source` line numbers), a file with a
//! syntax error refused untouched, `--check` and `--stdin`.

mod common;

use std::path::{Path, PathBuf};

fn ship_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n != "snapshots") {
                ship_files(&p, out);
            }
        } else if p.extension().is_some_and(|e| e == "ship") {
            out.push(p);
        }
    }
}

fn file(path: &Path, text: &str) -> shipc::source::SourceMap {
    let mut m = shipc::source::SourceMap::new();
    m.add(path.to_path_buf(), text.to_string(), false);
    m
}

/// Analyse a module (all its files, formatted or not) and compile every
/// env in memory: (diagnostics as `CODE message`, the files with the
/// `ship.dev/source` lines dropped).
fn meaning(files: &[(String, String)]) -> (Vec<String>, Vec<(String, String)>) {
    let mut host = shipc::load::MemoryHost::new();
    for (p, t) in files {
        host.add(format!("ship/{p}"), t.clone());
    }
    let mut d = shipc::Diagnostics::new();
    let Ok(analysis) = shipc::analyze(&host, Path::new("ship"), None, &mut d) else {
        return (vec!["load error".into()], Vec::new());
    };
    let mut diags: Vec<String> = d
        .into_sorted()
        .iter()
        .map(|d| format!("{} {}", d.code.id(), d.message))
        .collect();
    let lock = shipc::lock::Lockfile::default();
    let overrides = Default::default();
    let root = |_: &str| "..".to_string();
    let t = shipc::emit::Targets {
        lock: &lock,
        overrides: &overrides,
        root_from_output: &root,
        path_arg: "",
    };
    let mut out = Vec::new();
    if let Ok((tree, problems)) = shipc::emit::all(&analysis, &t) {
        diags.extend(
            problems
                .iter()
                .map(|d| format!("{} {}", d.code.id(), d.message)),
        );
        for (p, b) in tree.files {
            let text: String = String::from_utf8_lossy(&b)
                .lines()
                .filter(|l| !l.contains("ship.dev/source"))
                .collect::<Vec<_>>()
                .join("\n");
            out.push((p, text));
        }
    }
    diags.sort();
    (diags, out)
}

#[test]
fn idempotent_and_meaning_preserving_on_examples_and_ui_cases() {
    let root = common::root();
    let mut modules: Vec<PathBuf> = common::examples().into_iter().map(|(_, p)| p).collect();
    for e in std::fs::read_dir(root.join("tests/ui")).unwrap() {
        let p = e.unwrap().path();
        if p.file_name().is_some_and(|n| n != "snapshots") {
            modules.push(p);
        }
    }
    let mut checked = 0;
    let mut changed = 0;
    for m in modules {
        let mut files = Vec::new();
        if m.is_dir() {
            ship_files(&m, &mut files);
        } else {
            files.push(m.clone());
        }
        files.sort();
        let mut before = Vec::new();
        let mut after = Vec::new();
        let mut parses = true;
        for f in &files {
            // A case about invalid UTF-8 is not text to format.
            let Ok(text) = std::fs::read_to_string(f) else {
                parses = false;
                continue;
            };
            let map = file(f, &text);
            let Some(sf) = map.files().first() else {
                continue;
            };
            match shipc::fmt::format_file(sf) {
                Ok(out) => {
                    assert_eq!(
                        shipc::fmt::format(&out),
                        out,
                        "{}: not idempotent",
                        f.display()
                    );
                    // Indentation is the formatter's alone: the same text
                    // with every line's indentation removed formats the same.
                    if !text.contains("\"\"\"") {
                        let flat: String = text
                            .lines()
                            .map(|l| format!("{}\n", l.trim_start()))
                            .collect();
                        assert_eq!(
                            shipc::fmt::format(&flat),
                            out,
                            "{}: depends on indentation",
                            f.display()
                        );
                    }
                    if out != text {
                        changed += 1;
                    }
                    let rel = f
                        .strip_prefix(&m)
                        .map_or_else(|_| f.file_name().unwrap().into(), PathBuf::from);
                    let rel = rel.to_string_lossy().replace('\\', "/");
                    let rel = if rel.is_empty() {
                        f.file_name().unwrap().to_string_lossy().to_string()
                    } else {
                        rel
                    };
                    before.push((rel.clone(), text));
                    after.push((rel, out));
                }
                Err(d) => {
                    // Only a file with a syntax error may be refused.
                    assert!(d.code.id().starts_with("E0"), "{}: {d:?}", f.display());
                    assert!(
                        !d.message.contains("internal error"),
                        "{}: {}",
                        f.display(),
                        d.message
                    );
                    parses = false;
                }
            }
        }
        if !parses || before.is_empty() {
            continue;
        }
        let (d1, o1) = meaning(&before);
        let (d2, o2) = meaning(&after);
        assert_eq!(
            d1,
            d2,
            "{}: formatting changed the diagnostics",
            m.display()
        );
        assert_eq!(o1, o2, "{}: formatting changed the output", m.display());
        checked += 1;
    }
    assert!(checked > 150, "only {checked} modules checked");
    eprintln!("fmt: {checked} modules, {changed} files reformatted, meaning unchanged");
}

#[test]
fn the_command_line() {
    let dir = common::temp_project(
        "fmt-cli",
        &[
            (
                "ship/a.ship",
                "service  web {\n  replicas=2 , port http=80\n}\n",
            ),
            ("ship/b.ship", "service api {\n  replicas = 1\n}\n"),
            ("ship/broken.ship", "service broken {\n  replicas = \n"),
        ],
    );
    let broken = std::fs::read_to_string(dir.join("ship/broken.ship")).unwrap();
    let (code, out, err) = common::shipc_in(&dir, &["fmt", "--check"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("a.ship") && !out.contains("b.ship"), "{out}");
    assert!(err.contains("E0001"), "the broken file is reported: {err}");
    assert!(
        std::fs::read_to_string(dir.join("ship/a.ship"))
            .unwrap()
            .contains("replicas=2"),
        "--check changes nothing"
    );
    let (code, _, err) = common::shipc_in(&dir, &["fmt"]);
    assert_eq!(code, 1, "the broken file fails the run: {err}");
    assert_eq!(
        std::fs::read_to_string(dir.join("ship/a.ship")).unwrap(),
        "service web {\n  replicas = 2\n  port http = 80\n}\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("ship/broken.ship")).unwrap(),
        broken,
        "left untouched"
    );
    let (code, _, err) = common::shipc_in(&dir, &["fmt", "--check", "ship/a.ship", "ship/b.ship"]);
    assert_eq!(code, 0, "{err}");

    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_shipc"))
        .args(["fmt", "--stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"env  local{kind=tilt}\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success());
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "env local { kind = tilt }\n"
    );
}
