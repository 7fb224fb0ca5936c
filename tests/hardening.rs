#![allow(clippy::disallowed_methods)] // the tests make and read temporary projects
//! Repros of what an adversary (or an unlucky user) did to shipc, each of
//! which once went wrong: hidden errors, a tampered lock, destructive
//! output, special files. Every test failed before its fix.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn shipc(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_shipc"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .expect("run shipc");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A fresh project folder with `ship/<name>` files.
fn project(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let d = std::env::temp_dir().join(format!("shipc-hardening-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("ship")).unwrap();
    for (f, text) in files {
        let p = d.join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    d
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
