//! Real consumers check what `shipc compile` writes: every Kubernetes object
//! validates with `kubernetes-validate --strict` (k8s 1.30), and every
//! Tiltfile runs under `tiltfile-check` (starlark with Tilt's documented
//! signatures). The tools are installed into `.tools/` by `.ci/run`
//! (`../shared/tools/install-validators.sh`). Without them the test fails in
//! CI and is skipped, loudly, elsewhere.
#![allow(clippy::disallowed_methods)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn tool(name: &str) -> Option<PathBuf> {
    let p = common::root().join(".tools/bin").join(name);
    if p.exists() {
        return Some(p);
    }
    if std::env::var_os("CI").is_some() {
        panic!("{name} is not installed in .tools/bin: .ci/run must install it");
    }
    eprintln!(
        "SKIPPED: {name} is not installed (run ../shared/tools/install-validators.sh .tools)"
    );
    None
}

fn compile(example: &str, env: &str, out: &Path) {
    let o = Command::new(env!("CARGO_BIN_EXE_shipc"))
        .args(["compile", "--env", env, "-o"])
        .arg(out)
        .arg(common::root().join("examples").join(example).join("ship"))
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "compile {example}/{env}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn tilt_envs() -> Vec<(&'static str, &'static str)> {
    vec![("ameide", "local"), ("cs720", "dev"), ("shop", "local")]
}

fn files_with_ext(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files_with_ext(&p, ext, out);
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push(p);
        }
    }
}

#[test]
fn tilt_output_is_accepted_by_kubernetes_validate_and_tiltfile_check() {
    let (Some(kv), Some(tc)) = (tool("kubernetes-validate"), tool("tiltfile-check")) else {
        return;
    };
    let out = std::env::temp_dir().join(format!("shipc-realtools-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    for (example, env) in tilt_envs() {
        compile(example, env, &out.join(example));
    }
    let mut manifests = Vec::new();
    files_with_ext(&out, "yaml", &mut manifests);
    manifests.sort();
    assert!(manifests.len() >= 10, "{manifests:?}");
    let o = Command::new(&kv)
        .args(["--strict", "-k", "1.30.0"])
        .args(&manifests)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "kubernetes-validate failed:\n{text}");
    assert!(
        !text.contains("Couldn't find schema"),
        "a built-in kind had no schema:\n{text}"
    );
    assert!(!text.contains("ERROR"), "{text}");
    for (example, env) in tilt_envs() {
        let dir = out.join(example).join(env);
        let o = Command::new(&tc)
            .arg("Tiltfile")
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "tiltfile-check {example}/{env}:\n{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        let calls: serde_json::Value =
            serde_json::from_slice(&o.stdout).expect("tiltfile-check prints JSON");
        let fns: Vec<&str> = calls["calls"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["fn"].as_str())
            .collect();
        assert!(
            fns.contains(&"k8s_yaml") && fns.contains(&"k8s_resource"),
            "{fns:?}"
        );
    }
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn hostile_names_cannot_inject_into_the_tiltfile() {
    let Some(tc) = tool("tiltfile-check") else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("shipc-inject-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("ship")).unwrap();
    std::fs::write(
        dir.join("ship/main.ship"),
        "image evil { context = \"a\\\"), local('touch /tmp/pwned')#\", ignore = [\"x\\\"]\\nlocal('boom')\"] }\nservice evil { port http = 80 }\nenv local { kind = tilt, cluster { context = \"c\\\")\\nlocal('boom')\", namespace = \"ns\" } }\n",
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_shipc"))
        .args(["compile", "--env", "local", "-o"])
        .arg(dir.join("out"))
        .arg(dir.join("ship"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = Command::new(&tc)
        .arg("Tiltfile")
        .current_dir(dir.join("out/local"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let calls: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let fns: Vec<&str> = calls["calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["fn"].as_str())
        .collect();
    assert!(!fns.contains(&"local"), "an injected call ran: {fns:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
