//! Real consumers check what `shipc compile` writes: every Kubernetes object
//! validates with `kubernetes-validate --strict` (k8s 1.30), and every
//! Tiltfile runs under `tiltfile-check` (starlark with Tilt's documented
//! signatures). The tools are installed into `.tools/` by `.ci/run`
//! (`tests/tools/install-validators.sh`). Without them the test fails in
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
    common::skip(&format!(
        "{name} is not installed (run `bash tests/tools/install-validators.sh .tools`)"
    ));
    None
}

fn env_dir_has(dir: &Path, sub: &str) -> bool {
    dir.join(sub).is_dir()
}

fn tilt_envs() -> Vec<(&'static str, &'static str)> {
    vec![
        ("ameide", "local"),
        ("cs720", "dev"),
        ("shop", "local"),
        ("telemetry", "local"),
        ("arr-stack", "dev"),
    ]
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
        common::compile_example(example, env, &out.join(example));
    }
    let mut manifests = Vec::new();
    files_with_ext(&out, "yaml", &mut manifests);
    manifests.retain(|p| p.file_name().is_some_and(|n| n != "kustomization.yaml"));
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
        if env_dir_has(&dir, "kustomize") {
            let o = Command::new(common::root().join(".tools/bin/kubectl"))
                .arg("kustomize")
                .arg(dir.join("kustomize"))
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "kubectl kustomize {example}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
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
        "image evil { context = \"a\\\"), local('touch /tmp/pwned')#\", ignore = [\"**/x\\\"]\\nlocal('boom')\"] }\nservice evil { port http = 80 }\nenv local { kind = tilt, cluster { context = \"c\\\")\\nlocal('boom')\", namespace = \"ns\" }, tilt { suspend_flux = [\"x\\nlocal('boom2')\"] } }\n",
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
    // Loading runs no `local` at all (the Flux suspend is a resource, the
    // resume runs only under `tilt down`); nothing injected ran.
    assert!(!fns.contains(&"local"), "{fns:?}");
    assert!(fns.contains(&"local_resource"), "{fns:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every `ship.lock` key of an env, so a test can pass `--digest` for each.
/// A kubernetes-validate line about a CRD's kind that crd-validate checks.
fn crd_kind(line: &str) -> bool {
    line.contains("kind HTTPRoute") || line.contains("kind ExternalSecret")
}

fn lock_keys(example: &str, env: &str) -> Vec<String> {
    let mut d = shipc::Diagnostics::new();
    let a = shipc::analyze(
        &common::FsHost,
        &common::root().join("examples").join(example).join("ship"),
        Some(env),
        &mut d,
    )
    .unwrap();
    let e = a.checked.envs.iter().find(|e| e.name == env).unwrap();
    e.lock_keys().into_iter().collect()
}

const FAKE_DIGEST: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

fn yaml_docs(text: &str) -> Vec<serde_json::Value> {
    text.split("\n---")
        .filter_map(|doc| {
            let v: serde_yaml::Value = serde_yaml::from_str(doc).ok()?;
            if v.is_null() {
                return None;
            }
            serde_json::to_value(v).ok()
        })
        .collect()
}

#[test]
fn helmfile_output_is_accepted_by_helm_helmfile_and_kubernetes_validate() {
    let tools = ["helm", "helm3", "helmfile", "kubernetes-validate"].map(tool);
    let [Some(helm4), Some(helm3), Some(helmfile), Some(kv)] = tools else {
        return;
    };
    let out = std::env::temp_dir().join(format!("shipc-helmfile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    for (example, env) in [
        ("ameide", "staging"),
        ("shop", "staging"),
        ("telemetry", "staging"),
    ] {
        let dir = out.join(example);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_shipc"));
        cmd.args(["compile", "--env", env, "-o"]).arg(&dir);
        for k in lock_keys(example, env) {
            cmd.arg("--digest").arg(format!("{k}={FAKE_DIGEST}"));
        }
        cmd.arg(common::root().join("examples").join(example).join("ship"));
        let o = cmd.output().unwrap();
        assert!(
            o.status.success(),
            "compile {example}/{env}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let env_dir = dir.join(env);
        // helmfile accepts the file (remote infra charts cannot be fetched offline).
        let o = Command::new(&helmfile)
            .args([
                "--skip-deps",
                "-f",
                "helmfile.yaml",
                "-l",
                "ship.dev/kind=service",
                "build",
            ])
            .current_dir(&env_dir)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "helmfile build {example}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        let mut values: Vec<PathBuf> = Vec::new();
        files_with_ext(&env_dir.join("values").join(env), "yaml", &mut values);
        values.sort();
        assert!(!values.is_empty());
        for v in values {
            let release = v.file_stem().unwrap().to_string_lossy().to_string();
            let base = env_dir.join("values/base").join(format!("{release}.yaml"));
            let text = std::fs::read_to_string(&v).unwrap();
            if !base.exists() && text.starts_with("objects:") {
                // A config's release (a ConfigMap) or the env's objects
                // (`object`s, NetworkPolicies): the built-in chart, no image.
                for helm in [&helm4, &helm3] {
                    let o = Command::new(helm)
                        .args(["template", &release, "charts/ship-app", "-f"])
                        .arg(&v)
                        .current_dir(&env_dir)
                        .output()
                        .unwrap();
                    assert!(
                        o.status.success(),
                        "helm template {release}: {}",
                        String::from_utf8_lossy(&o.stderr)
                    );
                    // Helm sorts what it renders by kind (its install
                    // order): compare as sets.
                    let key = |o: &serde_json::Value| o.to_string();
                    let mut got = yaml_docs(&String::from_utf8_lossy(&o.stdout));
                    got.sort_by_key(key);
                    let want: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
                    let want = serde_json::to_value(want).unwrap();
                    let mut want = want["objects"].as_array().unwrap().clone();
                    want.sort_by_key(key);
                    assert_eq!(got, want, "{release}");
                    // A config's ConfigMap, or the env's `ship-objects`.
                    assert!(
                        release == "ship-objects" || got[0]["kind"] == "ConfigMap",
                        "{release}"
                    );
                }
                continue;
            }
            if !base.exists() {
                continue; // an infra release's values
            }
            let env_values: serde_yaml::Value =
                serde_yaml::from_str(&std::fs::read_to_string(&v).unwrap()).unwrap();
            let env_values = serde_json::to_value(env_values).unwrap();
            // What the one lowering produced, with the pinned image filled in.
            let image = format!(
                "{}@{}",
                env_values["image"]["repository"].as_str().unwrap(),
                env_values["image"]["digest"].as_str().unwrap()
            );
            let mut expected: Vec<serde_json::Value> =
                env_values["objects"].as_array().unwrap().clone();
            for o in &mut expected {
                let ptr = if o["kind"] == "CronJob" {
                    "/spec/jobTemplate/spec/template/spec/containers/0"
                } else {
                    "/spec/template/spec/containers/0"
                };
                if let Some(c) = o.pointer_mut(ptr).and_then(|c| c.as_object_mut()) {
                    c.insert("image".into(), serde_json::Value::String(image.clone()));
                }
            }
            for helm in [&helm4, &helm3] {
                let o = Command::new(helm)
                    .args(["lint", "--strict", "charts/ship-app", "-f"])
                    .arg(&base)
                    .arg("-f")
                    .arg(&v)
                    .current_dir(&env_dir)
                    .output()
                    .unwrap();
                assert!(
                    o.status.success(),
                    "helm lint {release}: {}",
                    String::from_utf8_lossy(&o.stdout)
                );
                let o = Command::new(helm)
                    .args(["template", &release, "charts/ship-app", "-f"])
                    .arg(&base)
                    .arg("-f")
                    .arg(&v)
                    .current_dir(&env_dir)
                    .output()
                    .unwrap();
                assert!(
                    o.status.success(),
                    "helm template {release}: {}",
                    String::from_utf8_lossy(&o.stderr)
                );
                let rendered = String::from_utf8_lossy(&o.stdout).to_string();
                // Helm orders objects by kind; compare as sets.
                let key =
                    |v: &serde_json::Value| format!("{}/{}", v["kind"], v["metadata"]["name"]);
                let mut got = yaml_docs(&rendered);
                got.sort_by_key(key);
                let mut want = expected.clone();
                want.sort_by_key(key);
                assert_eq!(
                    got, want,
                    "{example}/{release}: the chart's render drifted from the k8s lowering"
                );
                let file = env_dir.join(format!("rendered-{release}.yaml"));
                std::fs::write(&file, rendered).unwrap();
                let o = Command::new(&kv)
                    .args(["--strict", "-k", "1.30.0"])
                    .arg(&file)
                    .output()
                    .unwrap();
                let text = format!(
                    "{}{}",
                    String::from_utf8_lossy(&o.stdout),
                    String::from_utf8_lossy(&o.stderr)
                );
                // HTTPRoute and ExternalSecret are CRDs' kinds: kubernetes-validate
                // has no schema for them (crd-validate checks them).
                let missing = text
                    .lines()
                    .any(|l| l.contains("Couldn't find schema") && !crd_kind(l));
                assert!(o.status.success() && !missing, "{release}: {text}");
                // Without digest or tag the chart refuses to render a workload.
                let unpinned = env_dir.join(format!("unpinned-{release}.yaml"));
                let objects_only = serde_json::json!({"objects": env_values["objects"]});
                std::fs::write(&unpinned, serde_json::to_string(&objects_only).unwrap()).unwrap();
                let o = Command::new(helm)
                    .args(["template", &release, "charts/ship-app", "-f"])
                    .arg(&base)
                    .arg("-f")
                    .arg(&unpinned)
                    .current_dir(&env_dir)
                    .output()
                    .unwrap();
                assert!(
                    !o.status.success(),
                    "{release}: rendered without a digest or tag"
                );
                assert!(String::from_utf8_lossy(&o.stderr)
                    .contains("image.digest or image.tag is required"));
            }
            // Base values carry a bare repository only (P003).
            let base_text = std::fs::read_to_string(&base).unwrap();
            assert!(
                !base_text.contains('/') && !base_text.contains('@') && !base_text.contains("tag"),
                "{base_text}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&out);
}

fn compile_pinned(example: &str, env: &str, dir: &Path) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_shipc"));
    cmd.args(["compile", "--env", env, "-o"]).arg(dir);
    for k in lock_keys(example, env) {
        cmd.arg("--digest").arg(format!("{k}={FAKE_DIGEST}"));
    }
    cmd.arg(common::root().join("examples").join(example).join("ship"));
    let o = cmd.output().unwrap();
    assert!(
        o.status.success(),
        "compile {example}/{env}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn flux_output_is_accepted_by_kustomize_kubernetes_validate_and_the_flux_schemas() {
    let tools = [
        "kubectl",
        "kubernetes-validate",
        "flux-validate",
        "check-jsonschema",
    ]
    .map(tool);
    let [Some(kubectl), Some(kv), Some(fv), Some(cj)] = tools else {
        return;
    };
    let python = common::root().join(".tools/venv/bin/python");
    let shared = common::root().join("tests/tools");
    assert!(
        shared.join("schemas/flux").is_dir(),
        "tests/tools/schemas/flux is missing"
    );
    let out = std::env::temp_dir().join(format!("shipc-flux-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    // Strict JSON Schemas (unknown fields rejected) from the Flux CRDs.
    let schemas = out.join("schemas");
    let mut crds: Vec<PathBuf> = Vec::new();
    files_with_ext(&shared.join("schemas/flux"), "yaml", &mut crds);
    let py = if python.exists() {
        python.clone()
    } else {
        PathBuf::from("python3")
    };
    let o = Command::new(&py)
        .arg(shared.join("crd-to-jsonschema.py"))
        .arg(&schemas)
        .args(&crds)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "crd-to-jsonschema: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    for (example, env) in [
        ("ameide", "prod"),
        ("cs720", "prod"),
        ("arr-stack", "prod"),
        ("shop", "prod"),
        ("telemetry", "prod"),
    ] {
        let dir = out.join(example);
        compile_pinned(example, env, &dir);
        let env_dir = dir.join(env);
        let mut rendered_all = Vec::new();
        for sub in ["flux", "apps", "infra"] {
            if !env_dir.join(sub).exists() {
                continue;
            }
            let o = Command::new(&kubectl)
                .arg("kustomize")
                .arg(env_dir.join(sub))
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "kubectl kustomize {example}/{sub}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            let file = env_dir.join(format!("kustomized-{sub}.yaml"));
            std::fs::write(&file, &o.stdout).unwrap();
            rendered_all.push((sub, file));
        }
        for (sub, file) in &rendered_all {
            if *sub == "apps" {
                // SOPS-encrypted manifests are applied after Flux decrypts
                // them (and drops their `sops` block): validate that shape.
                let text = std::fs::read_to_string(file).unwrap();
                let docs: Vec<String> = yaml_docs(&text)
                    .into_iter()
                    .map(|mut d| {
                        if let Some(m) = d.as_object_mut() {
                            m.remove("sops");
                        }
                        serde_yaml::to_string(&d).unwrap()
                    })
                    .collect();
                std::fs::write(file, docs.join("---\n")).unwrap();
                let o = Command::new(&kv)
                    .args(["--strict", "-k", "1.30.0"])
                    .arg(file)
                    .output()
                    .unwrap();
                let text = format!(
                    "{}{}",
                    String::from_utf8_lossy(&o.stdout),
                    String::from_utf8_lossy(&o.stderr)
                );
                let missing = text
                    .lines()
                    .any(|l| l.contains("Couldn't find schema") && !crd_kind(l));
                assert!(o.status.success() && !missing, "{example} apps: {text}");
                continue;
            }
            let o = Command::new(&fv).arg(file).output().unwrap();
            assert!(
                o.status.success(),
                "flux-validate {example}/{sub}: {}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            // Strict schemas, one document at a time.
            let text = std::fs::read_to_string(file).unwrap();
            for (i, doc) in text.split("\n---\n").enumerate() {
                let v: serde_yaml::Value = serde_yaml::from_str(doc).unwrap();
                let (Some(api), Some(kind)) = (v["apiVersion"].as_str(), v["kind"].as_str()) else {
                    continue;
                };
                let (group, version) = api.split_once('/').unwrap();
                let schema =
                    schemas.join(format!("{}-{group}-{version}.json", kind.to_lowercase()));
                assert!(schema.exists(), "no schema {}", schema.display());
                let docfile = env_dir.join(format!("doc-{sub}-{i}.yaml"));
                std::fs::write(&docfile, doc).unwrap();
                let o = Command::new(&cj)
                    .arg("--schemafile")
                    .arg(&schema)
                    .arg(&docfile)
                    .output()
                    .unwrap();
                assert!(
                    o.status.success(),
                    "{example}/{sub} {kind}: {}{}",
                    String::from_utf8_lossy(&o.stdout),
                    String::from_utf8_lossy(&o.stderr)
                );
            }
        }
    }
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn tilt_helm_strategy_is_accepted_by_tilt_and_helm() {
    let tools = ["tiltfile-check", "helm", "kubernetes-validate"].map(tool);
    let [Some(tc), Some(helm), Some(kv)] = tools else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("shipc-tilt-helm-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("ship")).unwrap();
    std::fs::write(
        dir.join("ship/main.ship"),
        "image api { context = \"api\", build_args { VERSION = \"1 2\" } }\nservice api { port http = 80, labels = [\"backend\"] }\nservice web { image = external(\"nginx:1.27\"), port http = 80, env_vars { API = api.port.http.url } }\nenv dev { kind = tilt, registry = \"localhost:5005\", cluster { context = \"kind-dev\", namespace = \"dev\" }, tilt { strategy = helm } }\n",
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_shipc"))
        .args(["compile", "--env", "dev", "-o"])
        .arg(dir.join("out"))
        .arg(dir.join("ship"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let env_dir = dir.join("out/dev");
    let o = Command::new(&tc)
        .arg("Tiltfile")
        .current_dir(&env_dir)
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
    assert!(fns.contains(&"k8s_custom_deploy"), "{fns:?}");
    assert!(!fns.iter().any(|f| f.starts_with("ext://")), "{fns:?}");
    // What the build sentinel writes, then each release renders.
    std::fs::create_dir_all(env_dir.join("tilt-values")).unwrap();
    std::fs::write(
        env_dir.join("tilt-values/api-tilt.values.yaml"),
        format!("image:\n  repository: localhost:5005/api\n  digest: {FAKE_DIGEST}\n"),
    )
    .unwrap();
    for (release, extra) in [
        ("api-tilt", Some("tilt-values/api-tilt.values.yaml")),
        ("web-tilt", None),
    ] {
        let mut cmd = Command::new(&helm);
        cmd.args([
            "template",
            release,
            "charts/ship-app",
            "-f",
            &format!("values/{release}.yaml"),
        ])
        .current_dir(&env_dir);
        if let Some(x) = extra {
            cmd.args(["-f", x]);
        }
        let o = cmd.output().unwrap();
        assert!(
            o.status.success(),
            "{release}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let file = env_dir.join(format!("{release}.rendered.yaml"));
        std::fs::write(&file, &o.stdout).unwrap();
        let o = Command::new(&kv)
            .args(["--strict", "-k", "1.30.0"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{release}: {}",
            String::from_utf8_lossy(&o.stdout)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn helmfile_never_runs_template_code_from_the_source() {
    let Some(helmfile) = tool("helmfile") else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("shipc-helmfile-tpl-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("ship")).unwrap();
    let pwned = dir.join("pwned");
    let exec = format!(
        "{{{{ exec `sh` (list `-c` `touch {}`) }}}}",
        pwned.display()
    );
    std::fs::write(
        dir.join("ship/main.ship"),
        format!(
            r#"infra prom {{
  chart = "kube-prometheus-stack"
  repo = "https://prometheus-community.github.io/helm-charts"
  version = "61.3.2"
  values {{
    fullnameOverride = "{{{{ .Release.Name }}}}-prom"
    rules {{ summary = "{{{{ $labels.instance }}}} is down" }}
    evil = "{exec}"
  }}
}}
env staging {{
  kind = helmfile
  cluster {{ context = "{exec}", namespace = "mon" }}
}}
"#
        ),
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_shipc"))
        .args(["compile", "--env", "staging", "-o"])
        .arg(dir.join("out"))
        .arg(dir.join("ship"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let env_dir = dir.join("out/staging");
    for args in [
        &["--skip-deps", "-f", "helmfile.yaml", "build"][..],
        &["-f", "helmfile.yaml", "list"],
    ] {
        let o = Command::new(&helmfile)
            .args(args)
            .current_dir(&env_dir)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(o.status.success(), "helmfile {args:?}: {text}");
        if args.contains(&"build") {
            // The context arrives as written, not executed.
            assert!(text.contains("kubeContext: '{{ exec"), "{text}");
        }
    }
    assert!(
        !pwned.exists(),
        "helmfile ran template code from a .ship string"
    );
    let values = std::fs::read_to_string(env_dir.join("values/staging/prom.yaml")).unwrap();
    assert!(values.contains("{{ .Release.Name }}-prom"), "{values}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn tricky_strings_survive_a_yaml_1_1_parser() {
    // PyYAML implements YAML 1.1, where `yes`, `on`, `0123`, `1e3`… are not strings.
    let python = common::root().join(".tools/venv/bin/python");
    if !python.exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            ".ci/run must install the validators (their venv has PyYAML)"
        );
        common::skip(
            "no .tools/venv/bin/python (run `bash tests/tools/install-validators.sh .tools`)",
        );
        return;
    }
    let tricky = [
        "yes",
        "on",
        "off",
        "no",
        "y",
        "0123",
        "1e3",
        "1_000",
        "0x1F",
        "12:30",
        "null",
        "~",
        "true",
        "2024-01-02",
        ".inf",
        "-1",
        "+1",
    ];
    let mut env_vars = String::new();
    for (i, v) in tricky.iter().enumerate() {
        env_vars.push_str(&format!("V{i:02} = \"{v}\"\n"));
    }
    let dir = std::env::temp_dir().join(format!("shipc-yaml11-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("ship")).unwrap();
    std::fs::write(
        dir.join("ship/main.ship"),
        format!("service web {{\n  image = external(\"nginx:1.27\")\n  port http = 80\n  env_vars {{\n{env_vars}  }}\n}}\nenv dev {{ kind = tilt }}\n"),
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_shipc"))
        .args(["compile", "--env", "dev", "-o"])
        .arg(dir.join("out"))
        .arg(dir.join("ship"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let script = "import sys, yaml, json\ndocs = list(yaml.safe_load_all(open(sys.argv[1])))\nprint(json.dumps([e['value'] for e in docs[0]['spec']['template']['spec']['containers'][0]['env']]))\n";
    let o = Command::new(&python)
        .arg("-c")
        .arg(script)
        .arg(dir.join("out/dev/manifests/web-tilt.yaml"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let values: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
    let want: Vec<serde_json::Value> = tricky
        .iter()
        .map(|s| serde_json::Value::String(s.to_string()))
        .collect();
    assert_eq!(values, want);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn http_routes_validate_against_the_gateway_api_schemas() {
    // The Gateway API CRDs' schemas (@kubernetes-models/gateway-api), which
    // kubernetes-validate does not ship; `.ci/run` installs the validator.
    let Some(gv) = tool("crd-validate") else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("shipc-gateway-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // shop's staging env routes through a Gateway (a helmfile env: the
    // objects are in its values files).
    compile_pinned("shop", "staging", &dir);
    let mut files = Vec::new();
    files_with_ext(&dir.join("staging/values/staging"), "yaml", &mut files);
    let mut routes = Vec::new();
    for f in files {
        let v: serde_json::Value =
            serde_yaml::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        for o in v["objects"].as_array().into_iter().flatten() {
            if o["kind"] == "HTTPRoute" {
                routes.push(serde_yaml::to_string(o).unwrap());
            }
        }
    }
    assert!(!routes.is_empty(), "shop/staging has HTTPRoutes");
    let file = dir.join("routes.yaml");
    std::fs::write(&file, routes.join("---\n")).unwrap();
    let o = Command::new(&gv).arg(&file).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{text}");
    assert!(
        text.contains(&format!(
            "{} CRD document(s) checked, 0 error(s)",
            routes.len()
        )),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn external_secrets_validate_against_their_crd_schema() {
    // The External Secrets CRD schemas (@kubernetes-models/external-secrets);
    // `.ci/run` installs the validator.
    let Some(cv) = tool("crd-validate") else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("shipc-eso-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // shop's prod env fills its secrets from a store.
    compile_pinned("shop", "prod", &dir);
    let text = std::fs::read_to_string(dir.join("prod/apps/ship-objects.yaml")).unwrap();
    let secrets: Vec<serde_json::Value> = yaml_docs(&text)
        .into_iter()
        .filter(|o| o["kind"] == "ExternalSecret")
        .collect();
    assert!(secrets.len() >= 3, "shop/prod has ExternalSecrets: {text}");
    let o = Command::new(&cv)
        .arg(dir.join("prod/apps/ship-objects.yaml"))
        .output()
        .unwrap();
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains(&format!(
            "{} CRD document(s) checked, 0 error(s)",
            secrets.len()
        )),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
