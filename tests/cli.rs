#![allow(clippy::disallowed_methods)] // the tests make and read temporary output folders
//! The real binary: exit codes (0 ok, 1 errors, 3 usage), output streams,
//! `--format json`, `explain`, and `graph` formats.

mod common;

use std::process::Command;

fn shipc(args: &[&str]) -> (i32, String, String) {
    common::shipc_in(&common::root(), args)
}

#[test]
fn check_ok_exits_zero() {
    let (code, stdout, stderr) = shipc(&["check", "examples/ameide/ship"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("ok: 2 services checked in 3 envs"),
        "{stderr}"
    );
}

#[test]
fn check_errors_exit_one_with_json_on_stdout() {
    let (code, stdout, _) = shipc(&[
        "--format",
        "json",
        "check",
        "tests/ui/unknown_field_suggests_closest.ship",
    ]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    let d = &v["diagnostics"][0];
    assert_eq!(d["code"], "E2001");
    assert_eq!(d["line"], 4);
    assert_eq!(d["column"], 3);
    assert_eq!(d["help"], "did you mean `replicas`?");
    assert_eq!(d["file"], "tests/ui/unknown_field_suggests_closest.ship");
    assert_eq!(v["errors"], 1);
}

#[test]
fn human_diagnostics_go_to_stderr() {
    let (code, stdout, stderr) = shipc(&[
        "--color",
        "never",
        "check",
        "tests/ui/unknown_field_suggests_closest.ship",
    ]);
    assert_eq!(code, 1);
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("E2001") && stderr.contains("did you mean `replicas`?"),
        "{stderr}"
    );
    assert!(stderr.contains("1 error, 0 warnings"));
}

#[test]
fn usage_errors_exit_three() {
    assert_eq!(shipc(&["frobnicate"]).0, 3);
    assert_eq!(shipc(&["check", "--bogus"]).0, 3);
    assert_eq!(
        shipc(&["graph", "examples/ameide/ship"]).0,
        3,
        "graph needs --env"
    );
    let (code, _, stderr) = shipc(&["check", "--env", "prd", "examples/ameide/ship"]);
    assert_eq!(code, 3);
    assert!(stderr.contains("did you mean `prod`?"), "{stderr}");
    assert_eq!(
        shipc(&["--format", "yaml", "check", "examples/ameide/ship"]).0,
        3
    );
    assert_eq!(shipc(&["explain", "E9999"]).0, 3);
}

#[test]
fn missing_path_is_an_error() {
    let (code, _, stderr) = shipc(&["check", "no/such/dir"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("does not exist"), "{stderr}");
}

#[test]
fn help_and_version_exit_zero() {
    assert_eq!(shipc(&["--help"]).0, 0);
    assert_eq!(shipc(&["--version"]).0, 0);
}

#[test]
fn explain_prints_the_long_help() {
    let (code, stdout, _) = shipc(&["explain", "e2001"]);
    assert_eq!(code, 0);
    assert!(stdout.starts_with("# E2001: unknown field"), "{stdout}");
    let (code, stdout, _) = shipc(&["explain", "unknown-field"]);
    assert_eq!(code, 0);
    assert!(stdout.starts_with("# E2001"));
}

#[test]
fn graph_formats() {
    let (code, stdout, _) = shipc(&["graph", "--env", "staging", "examples/ameide/ship"]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("service/www_ameide")
            && stdout.contains("-> service/inference (env_vars.INFERENCE_URL)"),
        "{stdout}"
    );
    let (_, dot, _) = shipc(&[
        "--format",
        "dot",
        "graph",
        "--env",
        "staging",
        "examples/ameide/ship",
    ]);
    assert!(dot.starts_with("digraph \"staging\" {"), "{dot}");
    let (_, mermaid, _) = shipc(&[
        "--format",
        "mermaid",
        "graph",
        "--env",
        "staging",
        "examples/ameide/ship",
    ]);
    assert!(mermaid.starts_with("flowchart LR"));
    let (_, json, _) = shipc(&[
        "--format",
        "json",
        "graph",
        "--env",
        "staging",
        "examples/ameide/ship",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["env"], "staging");
    assert!(v["edges"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["from"] == "service/www_ameide"
            && e["to"] == "infra/redis"
            && e["why"] == "env_vars.REDIS_HOST"));
    let waves = v["waves"].as_array().unwrap();
    assert_eq!(
        waves.last().unwrap(),
        &serde_json::json!(["service/www_ameide"])
    );
}

#[test]
fn graph_with_a_cycle_fails() {
    let (code, stdout, stderr) = shipc(&[
        "graph",
        "--env",
        "local",
        "tests/ui/dependency_cycle_two_services.ship",
    ]);
    assert_eq!(code, 1);
    assert!(stdout.is_empty());
    assert!(stderr.contains("E3001"), "{stderr}");
}

#[test]
fn default_path_is_ship_folder() {
    let out = Command::new(env!("CARGO_BIN_EXE_shipc"))
        .arg("check")
        .current_dir(common::root().join("examples/cs720"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("shipc-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]

fn compile_writes_the_tilt_env_and_is_byte_identical_on_rerun() {
    let out = temp_dir("compile");
    let out_s = out.to_string_lossy().to_string();
    let (code, _, stderr) = shipc(&[
        "compile",
        "--env",
        "local",
        "-o",
        &out_s,
        "examples/ameide/ship",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let read = |p: &str| std::fs::read(out.join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
    let tiltfile = read("local/Tiltfile");
    let manifest = read("local/manifests/www-ameide-tilt.yaml");
    let (code, _, _) = shipc(&[
        "compile",
        "--env",
        "local",
        "-o",
        &out_s,
        "examples/ameide/ship",
    ]);
    assert_eq!(code, 0);
    assert_eq!(read("local/Tiltfile"), tiltfile);
    assert_eq!(read("local/manifests/www-ameide-tilt.yaml"), manifest);
    // No staging folders are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["local"]);
    let _ = std::fs::remove_dir_all(&out);
}

#[test]

fn a_failed_compile_writes_nothing() {
    let out = temp_dir("failed");
    let out_s = out.to_string_lossy().to_string();
    let (code, _, _) = shipc(&[
        "compile",
        "--all",
        "-o",
        &out_s,
        "tests/ui/unknown_field_suggests_closest.ship",
    ]);
    assert_eq!(code, 1);
    assert!(!out.exists(), "nothing may be written when checking fails");
    // An env of a target this shipc cannot emit yet is refused before writing.

    // A pinned env without ship.lock entries fails with P002, writing nothing.
    let bare = temp_dir("no-lock");
    std::fs::create_dir_all(bare.join("ship")).unwrap();
    std::fs::copy(
        common::root().join("examples/ameide/ship/main.ship"),
        bare.join("ship/main.ship"),
    )
    .unwrap();
    let bare_s = bare.join("ship").to_string_lossy().to_string();
    let (code, _, stderr) = shipc(&["compile", "--all", "-o", &out_s, &bare_s]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("P002") && stderr.contains("shipc lock --env staging --tag <TAG>"),
        "{stderr}"
    );
    assert!(!out.exists());
    // Envs are staged as they are emitted: a compile that fails after that
    // leaves an earlier output as it was, with no staging folder beside it.
    let (code, _, stderr) = shipc(&["compile", "--all", "-o", &out_s, "examples/ameide/ship"]);
    assert_eq!(code, 0, "{stderr}");
    let listing = |dir: &std::path::Path| {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        v.sort();
        v
    };
    let before = listing(&out);
    let staging_before = std::fs::read(out.join("staging/helmfile.yaml")).unwrap();
    let (code, _, _) = shipc(&["compile", "--all", "-o", &out_s, &bare_s]);
    assert_eq!(code, 1);
    assert_eq!(listing(&out), before);
    assert_eq!(
        std::fs::read(out.join("staging/helmfile.yaml")).unwrap(),
        staging_before
    );
    assert_eq!(
        shipc(&["compile", "examples/ameide/ship"]).0,
        3,
        "needs --env or --all"
    );
}

#[test]
fn diff_shows_what_a_promotion_changes() {
    let (code, stdout, stderr) = shipc(&[
        "diff",
        "--env",
        "staging",
        "--env",
        "prod",
        "examples/shop/ship",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("NAME"), "{stdout}");
    assert!(
        stdout.lines().any(|l| l.starts_with("catalog")
            && l.contains("autoscale.replicas")
            && l.contains(" 2 .. 4 ")
            && l.ends_with("3 .. 12")),
        "{stdout}"
    );
    assert!(stdout.contains("128Mi .. 256Mi") && stdout.contains("256Mi .. 512Mi"));
    let (code, json, _) = shipc(&[
        "--format",
        "json",
        "diff",
        "--env",
        "local",
        "--env",
        "staging",
        "examples/ameide/ship",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let rows = v["differences"].as_array().unwrap();
    assert!(rows.iter().any(|r| r["service"] == "www_ameide"
        && r["field"] == "env_vars.INFERENCE_URL"
        && r["a"] == "http://inference-tilt:8000"
        && r["b"] == "http://inference:8000"));
    assert_eq!(
        shipc(&["diff", "--env", "staging", "examples/shop/ship"]).0,
        3,
        "needs two envs"
    );
}

#[test]
fn lock_verbs_refuse_bad_arguments_without_touching_a_registry() {
    let shop = "examples/shop/ship";
    // A tilt env builds its images: nothing to lock.
    let (code, _, stderr) = shipc(&["lock", "--env", "local", shop]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("nothing to lock"), "{stderr}");
    // `--image` names a key the env does not pin.
    let (code, _, stderr) = shipc(&["lock", "--env", "staging", "--image", "catalogue=v1", shop]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("did you mean `catalog`"), "{stderr}");
    let (code, _, stderr) = shipc(&["lock", "--env", "staging", "--image", "catalog", shop]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("expected NAME=REF"), "{stderr}");
    // Bad transport settings.
    let (code, _, stderr) = shipc(&["lock", "--env", "staging", "--timeout", "0", shop]);
    assert_eq!(code, 3, "{stderr}");
    let (code, _, stderr) = shipc(&[
        "lock",
        "--env",
        "staging",
        "--insecure-registry",
        "http://r.example.com",
        shop,
    ]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("no scheme"), "{stderr}");
    // Unknown envs.
    let (code, _, stderr) = shipc(&["verify", "--env", "stagin", shop]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("did you mean `staging`"), "{stderr}");
    let (code, _, stderr) = shipc(&["promote", "--from", "staging", "--to", "staging"]);
    assert_eq!(code, 3, "{stderr}");
    let (code, _, stderr) = shipc(&["promote", "--from", "staging", "--to", "local", shop]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("no pins to promote into"), "{stderr}");
}

#[test]
fn promote_dry_run_on_an_example_changes_nothing() {
    // The example's ship.lock pins staging and prod: a dry run shows what
    // would move and writes nothing.
    let lock = common::root().join("examples/shop/ship.lock");
    let before = std::fs::read(&lock).unwrap();
    let (code, stdout, stderr) = shipc(&[
        "--format",
        "json",
        "promote",
        "--from",
        "staging",
        "--to",
        "prod",
        "--dry-run",
        "examples/shop/ship",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(!v["changes"].as_array().unwrap().is_empty(), "{stdout}");
    assert_eq!(v["dry_run"], true);
    assert_eq!(std::fs::read(&lock).unwrap(), before);
}

#[test]
fn cli_conventions() {
    // explain --list names every code.
    let (code, stdout, _) = shipc(&["explain", "--list"]);
    assert_eq!(code, 0);
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("E2001  unknown-field")),
        "{stdout}"
    );
    assert!(stdout.lines().count() >= shipc::Code::ALL.len());
    // Every JSON result carries a version, tool errors the same shape.
    let (_, stdout, _) = shipc(&["--format", "json", "check", "examples/shop/ship"]);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["version"], 1);
    let (code, stdout, _) = shipc(&["--format", "json", "check", "no/such/path"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["version"], 1);
    assert!(v["error"].as_str().unwrap().contains("does not exist"));
    assert!(v["diagnostics"].is_array());
    // Human diagnostics are grep-able.
    let (_, _, stderr) = shipc(&["check", "tests/ui/unknown_field_suggests_closest.ship"]);
    assert!(stderr.starts_with("error[E2001]: "), "{stderr}");
    // One service, not "1 services".
    let (_, _, stderr) = shipc(&["check", "tests/ui/ok_udp_port.ship"]);
    assert!(stderr.contains("ok: 1 service checked in"), "{stderr}");
    // CLICOLOR_FORCE colours without a terminal; TERM=dumb and NO_COLOR do not.
    let run = |vars: &[(&str, &str)]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_shipc"));
        c.args(["check", "tests/ui/unknown_field_suggests_closest.ship"])
            .current_dir(common::root())
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR")
            .env_remove("CLICOLOR_FORCE");
        for (k, v) in vars {
            c.env(k, v);
        }
        String::from_utf8_lossy(&c.output().unwrap().stderr).contains('\u{1b}')
    };
    assert!(run(&[("CLICOLOR_FORCE", "1")]));
    assert!(!run(&[]));
    assert!(!run(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]));
    assert!(!run(&[("TERM", "dumb")]));
}

#[test]
fn sarif_and_github_formats_for_ci() {
    let case = "tests/ui/dependency_cycle_three.ship";
    let (code, stdout, _) = shipc(&["--format", "sarif", "check", case]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("SARIF is JSON");
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "shipc");
    assert_eq!(run["tool"]["driver"]["rules"][0]["id"], "E3001");
    let r = &run["results"][0];
    assert_eq!(r["ruleId"], "E3001");
    assert_eq!(r["level"], "error");
    let loc = &r["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], case);
    assert_eq!(loc["region"]["startLine"], 2);
    assert!(r["relatedLocations"]
        .as_array()
        .is_some_and(|a| a.len() == 2));
    let (code, stdout, _) = shipc(&[
        "--format",
        "github",
        "compile",
        "--all",
        "-o",
        "/nonexistent",
        case,
    ]);
    assert_eq!(code, 1);
    assert!(
        stdout.starts_with(&format!("::error file={case},line=2,col=43,")),
        "{stdout}"
    );
    assert!(
        stdout.contains("title=E3001 dependency-cycle::"),
        "{stdout}"
    );
    assert_eq!(
        shipc(&["--format", "sarif", "graph", "--env", "local", case]).0,
        3
    );
}

#[test]
fn a_project_folder_means_its_ship_folder() {
    let (code, _, err) = common::shipc_in(&common::root(), &["check", "examples/shop"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("9 services checked in 3 envs"), "{err}");
}

#[test]
fn a_large_env_is_written_in_batches_as_it_is_emitted_whole() {
    // Each env's text is larger than one batch (`emit::SPILL_BYTES`), so
    // `compile` stages it in several while it is emitted.
    let n = 4000;
    let mut main = String::new();
    for i in 0..n {
        main.push_str(&format!(
            "service s{i} {{\n  image = external(\"registry.example.com/s{i}:1.0\")\n  port http = 8080\n}}\n"
        ));
    }
    main.push_str("env dev {\n  kind = tilt\n}\n");
    main.push_str("env kust {\n  kind = tilt\n  tilt { strategy = \"kustomize\" }\n}\n");
    let project = common::temp_project("batches", &[("ship/main.ship", &main)]);
    let (code, _, stderr) = common::shipc_in(&project, &["compile", "--all", "-o", "out"]);
    assert_eq!(code, 0, "{stderr}");

    // The same envs emitted whole, in memory.
    let (analysis, diags) = common::analyze_text(&[("main.ship", &main)]);
    assert!(diags.is_empty(), "{diags:?}");
    let analysis = analysis.unwrap();
    let (lock, overrides) = (shipc::lock::Lockfile::default(), Default::default());
    let root = |_: &str| "../..".to_string();
    let t = shipc::emit::Targets {
        lock: &lock,
        overrides: &overrides,
        root_from_output: &root,
        path_arg: "",
    };
    let (tree, problems) = shipc::emit::all(&analysis, &t).unwrap();
    assert!(problems.is_empty());
    for env in ["dev/", "kust/"] {
        let text: usize = tree
            .files
            .iter()
            .filter(|(k, _)| k.starts_with(env))
            .map(|(_, v)| v.len())
            .sum();
        assert!(text > shipc::emit::SPILL_BYTES, "{env}: {text} bytes");
    }

    // Every file is there with the same bytes, nothing else is, and each
    // env's marker lists every file.
    let mut written = std::collections::BTreeMap::new();
    let mut stack = vec![project.join("out")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(project.join("out")).unwrap();
                written.insert(
                    rel.to_string_lossy().replace('\\', "/"),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    for env in ["dev", "kust"] {
        let marker = written
            .remove(&format!("{env}/{}", shipc::emit::MARKER))
            .unwrap();
        let listed: Vec<String> = shipc::emit::marker_files(std::str::from_utf8(&marker).unwrap())
            .into_iter()
            .map(|f| format!("{env}/{f}"))
            .collect();
        let expected: Vec<&String> = tree
            .files
            .keys()
            .filter(|k| k.starts_with(&format!("{env}/")))
            .collect();
        assert_eq!(listed.iter().collect::<Vec<_>>(), expected, "{env}");
    }
    assert_eq!(written.len(), tree.files.len());
    for (path, bytes) in &tree.files {
        assert!(written.get(path) == Some(bytes), "{path} differs");
    }
    let _ = std::fs::remove_dir_all(&project);
}
