#![allow(clippy::disallowed_methods)] // the tests make and read temporary projects
//! Repros of what an adversary (or an unlucky user) did to shipc, each of
//! which once went wrong: hidden errors, a tampered lock, destructive
//! output, special files. Every test failed before its fix.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn shipc(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    common::shipc_in(cwd, args)
}

/// A fresh project folder with `ship/<name>` files.
fn project(name: &str, files: &[(&str, &str)]) -> PathBuf {
    common::temp_project(&format!("hardening-{name}"), files)
}

const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

#[test]
fn env_flag_does_not_hide_the_syntax_errors_that_hide_the_env() {
    let p = project(
        "env-syntax",
        &[
            ("ship/app.ship", "service a { port http = 80 }\n"),
            (
                "ship/envs.ship",
                "env prod {\n  kind = helmfile\n  oops oops\n}\n",
            ),
        ],
    );
    for verb in [
        &["check", "--env", "prod"][..],
        &["compile", "--env", "prod", "-o", "out"],
        &["graph", "--env", "prod"],
        &["lock", "--env", "prod", "--tag", "v1"],
        &["diff", "--env", "prod", "--env", "staging"],
    ] {
        let (code, _, stderr) = shipc(&p, verb);
        assert_eq!(code, 1, "{verb:?}: {stderr}");
        assert!(stderr.contains("E0001"), "{verb:?}: {stderr}");
        let mut json = vec!["--format", "json"];
        json.extend(verb);
        if verb[0] == "diff" || verb[0] == "graph" {
            continue; // no JSON diagnostics output for these verbs
        }
        let (code, stdout, _) = shipc(&p, &json);
        assert_eq!(code, 1, "{json:?}");
        let v: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
        assert_eq!(v["diagnostics"][0]["code"], "E0001", "{stdout}");
    }
    // Without errors, a missing env stays a usage error.
    std::fs::write(p.join("ship/envs.ship"), "env prod { kind = helmfile }\n").unwrap();
    let (code, _, stderr) = shipc(&p, &["check", "--env", "staging"]);
    assert_eq!(code, 3, "{stderr}");
}

#[test]
fn a_lock_entry_in_another_repository_is_never_deployed() {
    let p = project(
        "lock-repo",
        &[
            (
                "ship/main.ship",
                "image api { context = \"api\" }\nservice api { port http = 8080 }\nenv prod { kind = helmfile, registry = \"registry.example.com/shop\" }\n",
            ),
            (
                "ship.lock",
                &format!("version: 1\nenvs:\n  prod:\n    images:\n      api: {{ repository: evil.example.net/backdoor, digest: \"{D1}\", tag: v1 }}\n"),
            ),
        ],
    );
    let (code, _, stderr) = shipc(&p, &["compile", "--env", "prod", "-o", "out"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("E4004"), "{stderr}");
    assert!(stderr.contains("evil.example.net/backdoor"), "{stderr}");
    assert!(stderr.contains("registry.example.com/shop/api"), "{stderr}");
    assert!(!p.join("out").exists());
    let (code, _, stderr) = shipc(&p, &["check"]);
    assert_eq!(code, 1, "check must refuse it too: {stderr}");
    assert!(stderr.contains("E4004"), "{stderr}");
    // verify refuses before asking any registry.
    let (code, _, stderr) = shipc(&p, &["verify", "--env", "prod"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("E4004"), "{stderr}");
}

#[test]
fn duplicate_lock_keys_and_bad_digests_are_refused() {
    let p = project(
        "lock-dup",
        &[
            (
                "ship/main.ship",
                "image api { context = \"api\" }\nservice api { port http = 8080 }\nenv prod { kind = helmfile, registry = \"r.io/shop\" }\n",
            ),
            (
                "ship.lock",
                &format!("version: 1\nenvs:\n  prod:\n    images:\n      api: {{ repository: r.io/shop/api, digest: \"{D1}\" }}\n      api: {{ repository: r.io/shop/api, digest: \"{}\" }}\n", D1.replace('1', "2")),
            ),
        ],
    );
    let (code, _, stderr) = shipc(&p, &["compile", "--env", "prod", "-o", "out"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("duplicate"), "{stderr}");
    for bad in ["sha256:zzz", "SHA256:11", "sha256:AAAA"] {
        let (code, _, stderr) = shipc(
            &p,
            &[
                "compile",
                "--env",
                "prod",
                "-o",
                "out",
                "--digest",
                &format!("api={bad}"),
            ],
        );
        assert_ne!(code, 0, "{bad}: {stderr}");
    }
}

const SIMPLE: &str = "service web { image = external(\"nginx:1.27.0@sha256:1111111111111111111111111111111111111111111111111111111111111111\"), port http = 80 }\nenv ship { kind = tilt }\nenv prod { kind = flux, flux { git { url = \"https://example.com/g\" } } }\n";

#[test]
fn compile_never_replaces_what_it_did_not_write() {
    let p = project("ownership", &[("ship/main.ship", SIMPLE)]);
    // `-o .` with an env named `ship` would replace the sources.
    for force in [false, true] {
        let mut args = vec!["compile", "--env", "ship", "-o", "."];
        if force {
            args.push("--force");
        }
        let (code, _, stderr) = shipc(&p, &args);
        assert_eq!(code, 1, "{stderr}");
        assert!(stderr.contains("project's sources"), "{stderr}");
        assert_eq!(
            std::fs::read_to_string(p.join("ship/main.ship")).unwrap(),
            SIMPLE
        );
    }
    // Output inside the module folder is refused too.
    let (code, _, stderr) = shipc(&p, &["compile", "--env", "prod", "-o", "ship/out"]);
    assert_eq!(code, 1, "{stderr}");
    // `flux bootstrap` wrote clusters/prod/flux-system/: refused, kept.
    let sync = p.join("clusters/prod/flux-system/gotk-sync.yaml");
    std::fs::create_dir_all(sync.parent().unwrap()).unwrap();
    std::fs::write(&sync, "kind: Kustomization\n").unwrap();
    let (code, _, stderr) = shipc(&p, &["compile", "--env", "prod", "-o", "clusters"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("flux-system/gotk-sync.yaml"), "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    assert!(sync.exists());
    let (code, _, stderr) = shipc(
        &p,
        &["compile", "--env", "prod", "-o", "clusters", "--force"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(!sync.exists());
    // Its own output is replaced freely; a file added to it is not lost.
    let (code, _, stderr) = shipc(&p, &["compile", "--env", "prod", "-o", "clusters"]);
    assert_eq!(code, 0, "{stderr}");
    std::fs::write(p.join("clusters/prod/notes.md"), "mine\n").unwrap();
    let (code, _, stderr) = shipc(&p, &["compile", "--env", "prod", "-o", "clusters"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("notes.md"), "{stderr}");
    assert!(p.join("clusters/prod/notes.md").exists());
}

#[test]
fn compile_runs_are_exclusive_and_clean_up_after_killed_runs() {
    let p = project("atomic", &[("ship/main.ship", SIMPLE)]);
    let out = p.join("out");
    let (code, _, stderr) = shipc(&p, &["compile", "--all", "-o", "out"]);
    assert_eq!(code, 0, "{stderr}");
    // A run killed mid-swap: `ship` new in place with the old one aside,
    // `prod` moved aside and the new one not yet in; stale staging.
    let run = "999-1";
    std::fs::rename(out.join("prod"), out.join(format!(".shipc-old-prod-{run}"))).unwrap();
    std::fs::create_dir_all(out.join(format!(".shipc-old-ship-{run}"))).unwrap();
    std::fs::write(out.join(format!(".shipc-old-ship-{run}/Tiltfile")), "old\n").unwrap();
    std::fs::create_dir_all(out.join(".shipc-staging-998-7/prod")).unwrap();
    std::fs::write(
        out.join(".shipc-journal"),
        format!("{run}\nship\ttrue\nprod\ttrue\n"),
    )
    .unwrap();
    // Another writer holds the folder: refused, nothing touched.
    let held = std::fs::File::open(&out).unwrap();
    held.lock().unwrap();
    let (code, _, stderr) = shipc(&p, &["compile", "--env", "prod", "-o", "out"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("another shipc is writing"), "{stderr}");
    held.unlock().unwrap();
    drop(held);
    // The next run rolls the interrupted one back, then writes.
    let (code, _, stderr) = shipc(&p, &["compile", "--env", "prod", "-o", "out"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        std::fs::read_to_string(out.join("ship/Tiltfile")).unwrap(),
        "old\n"
    );
    assert!(out.join("prod/apps/web.yaml").exists());
    let mut left: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    left.sort();
    assert_eq!(left, ["prod", "ship"]);
}

#[test]
fn diagnostics_on_huge_lines_render_small_and_never_panic() {
    let cases = [
        // An unterminated string on a 1 MiB line (miette once panicked).
        format!(
            "service a {{ port http = 80\n  labels = [\"{}\n}}\n",
            "x".repeat(1 << 20)
        ),
        // A span far out on a long line of multi-byte characters.
        format!(
            "service a {{ port http = 80, labels = [\"{}\", 1] }}\nenv e {{ kind = tilt }}\n",
            "é".repeat(500_000)
        ),
        // Labels thousands of lines apart (a cycle).
        format!(
            "service a {{ port http = 80, depends_on = [b] }}\n{}service b {{ port http = 80, depends_on = [a] }}\nenv e {{ kind = tilt }}\n",
            "# filler\n".repeat(5_000)
        ),
    ];
    for (i, text) in cases.iter().enumerate() {
        let p = project(&format!("render-{i}"), &[("ship/main.ship", text)]);
        let (code, _, stderr) = shipc(&p, &["check"]);
        assert_eq!(code, 1, "case {i}: {}", &stderr[..stderr.len().min(2000)]);
        assert!(stderr.contains("error[E"), "case {i}: {stderr}");
        assert!(!stderr.contains("panicked"), "case {i}");
        assert!(
            stderr.len() < 4_000,
            "case {i}: {} bytes of stderr",
            stderr.len()
        );
    }
}

#[test]
fn only_regular_files_inside_the_project_are_read() {
    use std::os::unix::fs::symlink;
    let secret = std::env::temp_dir().join(format!("shipc-secret-{}", std::process::id()));
    std::fs::write(&secret, "TOP-SECRET-LINE\n").unwrap();
    let p = project(
        "special",
        &[("ship/main.ship", "service a { port http = 80 }\n")],
    );
    symlink(&secret, p.join("ship/leak.ship")).unwrap();
    let (code, _, stderr) = shipc(&p, &["check"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(!stderr.contains("TOP-SECRET"), "{stderr}");
    assert!(stderr.contains("outside the project root"), "{stderr}");
    std::fs::remove_file(p.join("ship/leak.ship")).unwrap();
    // A device that never ends, and a FIFO nobody writes: refused at once.
    symlink("/dev/zero", p.join("ship/zero.ship")).unwrap();
    let (code, _, stderr) = shipc(&p, &["check"]);
    assert_eq!(code, 1, "{stderr}");
    std::fs::remove_file(p.join("ship/zero.ship")).unwrap();
    for fifo in ["ship/pipe.ship", "ship.lock"] {
        let path = p.join(fifo);
        let ok = Command::new("mkfifo")
            .arg(&path)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            common::skip("mkfifo is not available");
            return;
        }
        let started = std::time::Instant::now();
        let (code, _, stderr) = shipc(&p, &["compile", "--all", "-o", "out"]);
        assert_eq!(code, 1, "{fifo}: {stderr}");
        assert!(stderr.contains("not a regular file"), "{fifo}: {stderr}");
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        std::fs::remove_file(&path).unwrap();
    }
    // A byte order mark is not an error.
    std::fs::write(
        p.join("ship/main.ship"),
        "\u{feff}service a { port http = 80 }\n",
    )
    .unwrap();
    let (code, _, stderr) = shipc(&p, &["check"]);
    assert_eq!(code, 0, "{stderr}");
    let _ = std::fs::remove_file(&secret);
}
