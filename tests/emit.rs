//! The emitters, on every example: every output file is snapshotted, and a
//! second run gives the same bytes. (Real-tool validation of these files —
//! kubernetes-validate, tiltfile-check — is the next step of the compile
//! issue.)

mod common;

use common::{examples, FsHost};
use shipc::emit::{flux, helmfile, images::Overrides, tilt, yaml, OutputTree};
use shipc::model::Value;

fn compile_tilt_envs(path: &std::path::Path) -> Vec<(String, OutputTree)> {
    let mut d = shipc::Diagnostics::new();
    let a = shipc::analyze(&FsHost, path, None, &mut d).expect("loads");
    assert!(!d.has_errors());
    let mut out = Vec::new();
    for env in &a.checked.envs {
        let strategy = env
            .env
            .path("tilt.strategy")
            .and_then(Value::as_str)
            .unwrap_or("manifests");
        if env.kind() != "tilt" || strategy == "helm" {
            continue;
        }
        let g = a.graphs.iter().find(|g| g.env == env.name).unwrap();
        let input = tilt::TiltInput {
            project: &a.checked.project,
            sources: &a.loaded.sources,
            root: &a.loaded.root,
            root_from_output: "../..",
        };
        out.push((env.name.clone(), tilt::emit(env, g, &input)));
    }
    out
}

const FAKE_DIGEST: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

/// Every pinned env of an example, compiled with a fake digest for each
/// `ship.lock` key.
fn compile_pinned_envs(path: &std::path::Path) -> Vec<(String, OutputTree)> {
    let mut d = shipc::Diagnostics::new();
    let a = shipc::analyze(&FsHost, path, None, &mut d).expect("loads");
    let lock = shipc::lock::Lockfile {
        version: 1,
        ..Default::default()
    };
    let mut out = Vec::new();
    for env in &a.checked.envs {
        if env.kind() == "tilt" {
            continue;
        }
        let mut overrides = Overrides::new();
        for k in env.images.keys() {
            overrides.insert(k.clone(), FAKE_DIGEST.into());
        }
        for (name, s) in &env.services {
            overrides.insert(name.clone(), FAKE_DIGEST.into());
            for c in s
                .value
                .get("init_containers")
                .map(Value::as_list)
                .unwrap_or(&[])
            {
                if let Some(n) = c.get("name").and_then(Value::as_str) {
                    overrides.insert(format!("{name}.{n}"), FAKE_DIGEST.into());
                }
            }
        }
        let g = a.graphs.iter().find(|g| g.env == env.name).unwrap();
        let input = helmfile::PinnedInput {
            project: &a.checked.project,
            sources: &a.loaded.sources,
            root: &a.loaded.root,
            lock: &lock,
            overrides: &overrides,
            lock_command: format!("shipc lock --env {}", env.name),
        };
        let (tree, problems) = if env.kind() == "flux" {
            flux::emit(env, g, &input)
        } else {
            helmfile::emit(env, g, &input)
        };
        assert!(problems.is_empty(), "{problems:#?}");
        out.push((env.name.clone(), tree));
    }
    out
}

#[test]
fn pinned_outputs_are_stable() {
    let mut count = 0;
    for (name, path) in examples() {
        let first = compile_pinned_envs(&path);
        assert_eq!(
            first,
            compile_pinned_envs(&path),
            "{name}: output differs between runs"
        );
        for (env, tree) in first {
            for (file, bytes) in &tree.files {
                // The built-in chart is the same for every env: snapshot it once.
                if file.starts_with("charts") && !(name == "ameide" && env == "staging") {
                    continue;
                }
                count += 1;
                let text = String::from_utf8(bytes.clone()).unwrap();
                let snap = format!("{name}__{env}__{}", file.replace('/', "__"));
                insta::with_settings!({snapshot_path => "snapshots/emit", prepend_module_to_snapshot => false, omit_expression => true}, {
                    insta::assert_snapshot!(snap, text);
                });
            }
        }
    }
    assert!(
        count >= 20,
        "expected helmfile and flux output for the examples, got {count} files"
    );
}

#[test]
fn tilt_outputs_are_stable() {
    let mut count = 0;
    for (name, path) in examples() {
        let first = compile_tilt_envs(&path);
        let second = compile_tilt_envs(&path);
        assert_eq!(first, second, "{name}: output differs between runs");
        for (env, tree) in first {
            for (file, bytes) in &tree.files {
                count += 1;
                let text = String::from_utf8(bytes.clone()).unwrap();
                let snap = format!("{name}__{env}__{}", file.replace('/', "__"));
                insta::with_settings!({snapshot_path => "snapshots/emit", prepend_module_to_snapshot => false, omit_expression => true}, {
                    insta::assert_snapshot!(snap, text);
                });
            }
        }
    }
    assert!(
        count >= 10,
        "expected tilt output for the examples, got {count} files"
    );
}

#[test]
fn manifests_parse_back_and_keep_strings() {
    let tricky = [
        "yes", "on", "0123", "1e3", "null", "~", "true", "12:30", "-1", " padded", "a: b", "#x",
    ];
    let mut env_vars = String::new();
    for (i, v) in tricky.iter().enumerate() {
        env_vars.push_str(&format!("    V{i} = \"{v}\"\n"));
    }
    let src = format!("service www {{\n  image = external(\"nginx:1.27\")\n  port http = 80\n  env_vars {{\n{env_vars}  }}\n}}\nenv local {{ kind = tilt }}\n");
    let (a, diags) = common::analyze_text(&[("main.ship", &src)]);
    assert!(diags.is_empty(), "{diags:#?}");
    let a = a.unwrap();
    let env = &a.checked.envs[0];
    let input = tilt::TiltInput {
        project: &a.checked.project,
        sources: &a.loaded.sources,
        root: &a.loaded.root,
        root_from_output: ".",
    };
    let tree = tilt::emit(env, &a.graphs[0], &input);
    let text = String::from_utf8(tree.files["manifests/www-tilt.yaml"].clone()).unwrap();
    let first_doc = text.split("\n---\n").next().unwrap();
    let v: serde_yaml::Value = serde_yaml::from_str(first_doc).unwrap();
    let env_list = &v["spec"]["template"]["spec"]["containers"][0]["env"];
    for (i, want) in tricky.iter().enumerate() {
        let got = env_list
            .as_sequence()
            .unwrap()
            .iter()
            .find(|e| e["name"] == format!("V{i}").as_str())
            .unwrap();
        assert_eq!(got["value"].as_str(), Some(*want), "V{i} in:\n{first_doc}");
    }
    // Every value that a YAML 1.1 parser could read as non-string is quoted.
    for t in ["yes", "on", "0123", "1e3", "null", "~"] {
        assert!(text.contains(&format!("value: \"{t}\"")), "{t} not quoted");
    }
    let _ = yaml::quote("x");
}

#[test]
fn tiltfile_strings_cannot_inject() {
    let src = "image evil { context = \"a\\\"), local('rm -rf /')#\" }\nservice evil { port http = 80 }\nenv local { kind = tilt, cluster { context = \"x\\\")\\nlocal('boom')\" } }\n";
    let (a, diags) = common::analyze_text(&[("main.ship", src)]);
    assert!(diags.is_empty(), "{diags:#?}");
    let a = a.unwrap();
    let input = tilt::TiltInput {
        project: &a.checked.project,
        sources: &a.loaded.sources,
        root: &a.loaded.root,
        root_from_output: ".",
    };
    let tree = tilt::emit(&a.checked.envs[0], &a.graphs[0], &input);
    let t = String::from_utf8(tree.files["Tiltfile"].clone()).unwrap();
    assert!(t.contains("\"a\\\"), local('rm -rf /')#\""), "{t}");
    assert!(t.contains("\"x\\\")\\nlocal('boom')\""), "{t}");
    // No line starts with an injected call.
    assert!(
        !t.lines().any(|l| l.trim_start().starts_with("local('")),
        "{t}"
    );
}
