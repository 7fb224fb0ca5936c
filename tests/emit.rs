//! The emitters, on every example: every output file is snapshotted, and a
//! second run gives the same bytes. (Real-tool validation of these files —
//! kubernetes-validate, tiltfile-check — is the next step of the compile
//! issue.)

mod common;

use common::{examples, FsHost};
use shipc::emit::{flux, helmfile, tilt, OutputTree};
use shipc::images::Overrides;
use shipc::model::Value;
use shipc::yaml;

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
            for (_, c) in shipc::model::extra_containers(&s.value) {
                if let Some(n) = c.get("name").and_then(Value::as_str) {
                    overrides.insert(format!("{name}.{n}"), FAKE_DIGEST.into());
                }
            }
        }
        let g = a.graphs.iter().find(|g| g.env == env.name).unwrap();
        let input = shipc::emit::PinnedInput {
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

/// A config's content change rolls exactly the pods that use it: the
/// ConfigMap's data and the checksum annotation of those pod templates
/// change, and no other byte of any env's output.
#[test]
#[allow(clippy::disallowed_methods)] // reads the compiled tree
fn a_config_change_changes_only_its_data_and_the_pod_checksum() {
    let program = |level: &str| {
        format!(
            r#"service api {{
  image = external("ghcr.io/acme/api:1.0@sha256:{d}")
  port http = 8080
  volumes {{ conf = config_files(app, "/etc/app") }}
}}
service worker {{
  image = external("ghcr.io/acme/worker:1.0@sha256:{d}")
  env_vars {{ LEVEL = config(app, "level") }}
}}
service other {{
  image = external("ghcr.io/acme/other:1.0@sha256:{d}")
}}
config app {{
  files {{
    "level" = "{level}"
    "app.yaml" = {{ upstream = api.port.http.url }}
    "banner.txt" = file("conf/banner.txt")
  }}
}}
env local {{ kind = tilt }}
env prod {{ kind = helmfile }}
env gitops {{ kind = flux, flux {{ git {{ url = "https://example.com/deploy.git" }} }} }}
"#,
            d = "3".repeat(64)
        )
    };
    let compile = |tag: &str, level: &str, banner: &str| {
        let text = program(level);
        let dir = common::temp_project(
            tag,
            &[
                ("ship/main.ship", text.as_str()),
                ("conf/banner.txt", banner),
            ],
        );
        let (code, _, err) = common::shipc_in(&dir, &["compile", "--all"]);
        assert_eq!(code, 0, "{err}");
        let mut files = std::collections::BTreeMap::new();
        let mut stack = vec![dir.join("out")];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let rel = p.strip_prefix(dir.join("out")).unwrap().to_path_buf();
                    files.insert(rel, std::fs::read_to_string(&p).unwrap());
                }
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
        files
    };
    let a = compile("cfg-a", "info", "hello\n");
    let b = compile("cfg-b", "debug", "hello\n");
    let c = compile("cfg-c", "info", "hello again\n");
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (other, changed_line) in [(&b, "level: debug"), (&c, "hello again")] {
        let mut checksums = 0;
        for (path, text) in &a {
            let new = &other[path];
            for (x, y) in text.lines().zip(new.lines()) {
                if x == y {
                    continue;
                }
                if x.contains("ship.dev/config-checksum") {
                    checksums += 1;
                    assert!(y.contains("ship.dev/config-checksum"), "{path:?}: {y}");
                } else {
                    assert!(
                        y.contains(changed_line.split(": ").last().unwrap()),
                        "{path:?}: unexpected change `{x}` -> `{y}`"
                    );
                }
            }
            assert_eq!(text.lines().count(), new.lines().count(), "{path:?}");
        }
        // api and worker roll in each of the three envs; `other` does not.
        assert_eq!(checksums, 6, "pods rolled");
    }
    let local = &a[std::path::Path::new("local/manifests/other-tilt.yaml")];
    assert!(!local.contains("config-checksum"));
}
