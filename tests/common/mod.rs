//! Helpers shared by the integration tests.
#![allow(clippy::disallowed_methods, dead_code)]

use std::path::{Path, PathBuf};

/// A file-system host for tests (the CLI has its own).
pub struct FsHost;

impl shipc::load::Host for FsHost {
    fn read(&self, p: &Path) -> std::io::Result<Vec<u8>> {
        std::fs::read(p)
    }
    fn list_dir(&self, p: &Path) -> std::io::Result<Vec<PathBuf>> {
        std::fs::read_dir(p)?.map(|e| e.map(|e| e.path())).collect()
    }
    fn is_dir(&self, p: &Path) -> bool {
        p.is_dir()
    }
    fn exists(&self, p: &Path) -> bool {
        p.exists()
    }
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every example project folder (`examples/<name>/ship`).
pub fn examples() -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(root().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("ship").is_dir())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                p.join("ship"),
            )
        })
        .collect();
    out.sort();
    out
}

/// Check a project in memory, returning the analysis and sorted diagnostics.
pub fn analyze_text(files: &[(&str, &str)]) -> (Option<shipc::Analysis>, Vec<shipc::Diagnostic>) {
    let mut host = shipc::load::MemoryHost::new();
    for (p, t) in files {
        host.add(format!("ship/{p}"), *t);
    }
    let mut d = shipc::Diagnostics::new();
    let a = shipc::analyze(&host, Path::new("ship"), None, &mut d).ok();
    (a, d.into_sorted())
}

/// Say that a test skips part of its work, and why, where a person running
/// `cargo test` sees it: straight to the process's stderr (libtest captures
/// `eprintln!` of passing tests). With `CI` set, a skip is a failure.
pub fn skip(why: &str) {
    use std::io::Write;
    assert!(std::env::var_os("CI").is_none(), "CI must not skip: {why}");
    let _ = writeln!(std::io::stderr().lock(), "SKIPPED: {why}");
}

/// Run the real binary in `cwd` without colour: (exit code, stdout, stderr).
pub fn shipc_in(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shipc"))
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

/// A fresh project folder in the temp dir, `ship/` plus `files` (paths
/// relative to the project root).
pub fn temp_project(tag: &str, files: &[(&str, &str)]) -> PathBuf {
    let d = std::env::temp_dir().join(format!("shipc-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("ship")).unwrap();
    for (f, text) in files {
        let p = d.join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    d
}

/// Copy a folder tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let dest = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            std::fs::copy(&p, &dest).unwrap();
        }
    }
}

/// Write an executable script.
pub fn write_executable(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    let mut p = std::fs::metadata(path).unwrap().permissions();
    p.set_mode(0o755);
    std::fs::set_permissions(path, p).unwrap();
}

/// Run the real binary in `cwd` without colour, with extra environment
/// variables: (exit code, stdout, stderr).
pub fn shipc_env(
    cwd: &Path,
    args: &[&str],
    env: &[(&str, &std::ffi::OsStr)],
) -> (i32, String, String) {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_shipc"));
    c.args(args).current_dir(cwd).env("NO_COLOR", "1");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("run shipc");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `shipc compile --env ENV -o OUT examples/EXAMPLE/ship`, which must succeed.
pub fn compile_example(example: &str, env: &str, out: &Path) {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_shipc"))
        .args(["compile", "--env", env, "-o"])
        .arg(out)
        .arg(root().join("examples").join(example).join("ship"))
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "compile {example}/{env}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}
