#![allow(clippy::disallowed_methods)] // the tests make folders and run shipc
//! `shipc init`: a project that `check`, `compile --env local` and `fmt
//! --check` accept at once, and nothing overwritten.

mod common;

#[test]
fn init_writes_a_working_project_and_never_overwrites() {
    let dir = std::env::temp_dir().join(format!("shipc-init-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (code, _, err) = common::shipc_in(&dir, &["init", "My Shop"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("created project `my-shop`") && err.contains("shipc check"),
        "{err}"
    );
    let p = dir.join("My Shop");
    for f in ["ship/main.ship", "Dockerfile", ".gitignore"] {
        assert!(p.join(f).is_file(), "{f}");
    }
    let text = std::fs::read_to_string(p.join("ship/main.ship")).unwrap();
    for env in [
        "env local",
        "env staging",
        "env prod",
        "kind = tilt",
        "kind = helmfile",
        "kind = flux",
    ] {
        assert!(text.contains(env), "{env}");
    }
    let (code, _, err) = common::shipc_in(&p, &["check"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = common::shipc_in(&p, &["compile", "--env", "local"]);
    assert_eq!(code, 0, "{err}");
    assert!(p.join("out/local/Tiltfile").is_file());
    let (code, out, err) = common::shipc_in(&p, &["fmt", "--check"]);
    assert_eq!(code, 0, "the starter project is formatted: {out}{err}");

    // A second init changes nothing.
    std::fs::write(p.join("Dockerfile"), "FROM mine\n").unwrap();
    let (code, _, err) = common::shipc_in(&p, &["init", "."]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("refusing to overwrite"), "{err}");
    assert_eq!(
        std::fs::read_to_string(p.join("Dockerfile")).unwrap(),
        "FROM mine\n"
    );
    let (code, _, err) = common::shipc_in(&dir, &["init", "other", "--name", "Not A Label"]);
    assert_eq!(code, 3, "{err}");
}

#[test]
fn completions_and_the_manual_page() {
    let dir = std::env::temp_dir();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let (code, out, err) = common::shipc_in(&dir, &["completions", shell]);
        assert_eq!(code, 0, "{shell}: {err}");
        assert!(out.contains("shipc") && out.contains("rollback"), "{shell}");
    }
    let (code, out, _) = common::shipc_in(&dir, &["man"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with(".ie") || out.contains(".TH shipc"),
        "{}",
        &out[..out.len().min(200)]
    );
    assert!(out.contains("apply"), "every verb is in the page");
    let (code, out, _) = common::shipc_in(&dir, &["apply", "--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("Examples:"), "{out}");
}
