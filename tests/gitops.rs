#![allow(clippy::disallowed_methods)] // the tests make repositories, run git and shipc
//! Releases of flux envs through a real Git remote: bare repositories on
//! `file://` and served by `git daemon` on 127.0.0.1, the user's git
//! configuration (an `insteadOf` rule maps the env's URL to the test
//! remote, as users map URLs to their mirrors), and a second clone that
//! pushes between shipc's fetch and push.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

const WEB: &str = "docker.io/library/nginx@sha256:1111111111111111111111111111111111111111111111111111111111111111";
const URL: &str = "https://git.example.com/shop/gitops";

fn ship(replicas: u32, extra_env: &str) -> String {
    format!(
        "project {{ name = \"shop\" }}\n\
         service web {{\n  image = external(\"{WEB}\")\n  port http = 8080\n  expose {{ http = 80 }}\n  replicas = {replicas}\n}}\n\
         env prod {{\n  kind = flux\n  cluster {{ namespace = \"shop\"{extra_env} }}\n  flux {{ git {{ url = \"{URL}\", branch = \"main\", path = \"./clusters/prod\" }} }}\n}}\n"
    )
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_GLOBAL", dir.join("no-such-config"))
        .env("GIT_AUTHOR_NAME", "Team B")
        .env("GIT_AUTHOR_EMAIL", "b@example.com")
        .env("GIT_COMMITTER_NAME", "Team B")
        .env("GIT_COMMITTER_EMAIL", "b@example.com")
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

struct Setup {
    dir: PathBuf,
    project: PathBuf,
    remote: PathBuf,
    gitconfig: PathBuf,
    path: Option<std::ffi::OsString>,
}

impl Setup {
    /// A project, an empty bare remote, and a git config mapping the env's
    /// URL onto `remote_url` (default: the remote over file://).
    fn new(tag: &str, remote_url: Option<&str>) -> Setup {
        let project = common::temp_project(
            &format!("gitops-{tag}"),
            &[("ship/main.ship", &ship(1, ""))],
        );
        let dir = project.join("work");
        std::fs::create_dir_all(&dir).unwrap();
        let remote = dir.join("remote.git");
        git(
            &dir,
            &[
                "init",
                "-q",
                "--bare",
                "--initial-branch=main",
                remote.to_str().unwrap(),
            ],
        );
        let gitconfig = dir.join("gitconfig");
        let target = remote_url
            .map(str::to_string)
            .unwrap_or_else(|| format!("file://{}", remote.display()));
        std::fs::write(
            &gitconfig,
            format!("[user]\n  name = Release Bot\n  email = bot@example.com\n[url \"{target}\"]\n  insteadOf = {URL}\n"),
        )
        .unwrap();
        Setup {
            dir,
            project,
            remote,
            gitconfig,
            path: None,
        }
    }

    fn shipc(&self, args: &[&str]) -> (i32, String, String) {
        let mut c = Command::new(env!("CARGO_BIN_EXE_shipc"));
        c.args(args)
            .current_dir(&self.project)
            .env("NO_COLOR", "1")
            .env("GIT_CONFIG_GLOBAL", &self.gitconfig)
            .env("SHIPC_CACHE_DIR", self.dir.join("cache"))
            .env("KUBECONFIG", self.dir.join("no-kubeconfig"));
        if let Some(p) = &self.path {
            c.env("PATH", p);
        }
        let out = c.output().expect("run shipc");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn write(&self, text: &str) {
        std::fs::write(self.project.join("ship/main.ship"), text).unwrap();
    }

    fn remote_git(&self, args: &[&str]) -> String {
        git(&self.remote, args)
    }

    /// A working clone of the remote (team B).
    fn clone(&self, name: &str) -> PathBuf {
        let c = self.dir.join(name);
        git(
            &self.dir,
            &[
                "clone",
                "-q",
                self.remote.to_str().unwrap(),
                c.to_str().unwrap(),
            ],
        );
        c
    }
}

fn have_git() -> bool {
    let ok = Command::new("git")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        common::skip("git is not installed");
    }
    ok
}

#[test]
fn first_publish_update_nothing_to_commit_and_rollback() {
    if !have_git() {
        return;
    }
    let s = Setup::new("flow", None);
    let (code, out, err) = s.shipc(&["plan", "--env", "prod"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        out.contains("new branch") && out.contains("+ create  Deployment shop/web"),
        "{out}"
    );

    // Without a terminal, --yes is needed.
    let (code, _, err) = s.shipc(&["apply", "--env", "prod", "--skip-verify"]);
    assert_eq!(code, 3, "{err}");

    let (code, _, err) = s.shipc(&["apply", "--env", "prod", "--yes", "--skip-verify"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("apply: pushed"), "{err}");
    let files = s.remote_git(&["ls-tree", "-r", "--name-only", "main"]);
    assert!(
        files.lines().all(|f| f.starts_with("clusters/prod/")),
        "{files}"
    );
    assert!(
        files.contains("clusters/prod/apps/web.yaml")
            && files.contains("clusters/prod/.shipc-output"),
        "{files}"
    );
    let msg = s.remote_git(&["log", "-1", "--format=%an <%ae>%n%B", "main"]);
    assert!(msg.starts_with("Release Bot <bot@example.com>"), "{msg}");
    assert!(
        msg.contains("shipc: release shop env prod") && msg.contains("Env: prod"),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("Deployment shop/web web: {WEB}")),
        "{msg}"
    );

    // Nothing changed: plan 0, apply "up to date", no new commit.
    let (code, out, _) = s.shipc(&["plan", "--env", "prod"]);
    assert_eq!(code, 0, "{out}");
    let (code, _, err) = s.shipc(&["apply", "--env", "prod", "--yes", "--skip-verify"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("up to date"), "{err}");
    assert_eq!(s.remote_git(&["rev-list", "--count", "main"]), "1");

    // Another team's files elsewhere in the repository stay byte-identical.
    let b = s.clone("team-b");
    std::fs::create_dir_all(b.join("teams/b")).unwrap();
    std::fs::write(
        b.join("teams/b/app.yaml"),
        "kind: Secret # team b's, not shipc's\n",
    )
    .unwrap();
    git(&b, &["add", "."]);
    git(&b, &["commit", "-qm", "team b"]);
    git(&b, &["push", "-q", "origin", "HEAD:main"]);
    let theirs = s.remote_git(&["rev-parse", "main:teams/b"]);

    s.write(&ship(3, ""));
    let (code, out, _) = s.shipc(&["plan", "--env", "prod"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("spec.replicas: 1 → 3"), "{out}");
    let (code, _, err) = s.shipc(&[
        "apply",
        "--env",
        "prod",
        "--yes",
        "--skip-verify",
        "--author",
        "Ada <ada@example.com>",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        s.remote_git(&["rev-parse", "main:teams/b"]),
        theirs,
        "other files untouched"
    );
    let changed = s.remote_git(&["diff", "--name-only", "main~1", "main"]);
    assert!(
        changed.lines().all(|f| f.starts_with("clusters/prod/")),
        "{changed}"
    );
    assert_eq!(s.remote_git(&["log", "-1", "--format=%an", "main"]), "Ada");

    let (code, out, _) = s.shipc(&["history", "--env", "prod"]);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 3, "header and two releases: {out}");

    // Rollback: release 1's tree as a new commit; history is not rewritten.
    let (code, _, err) = s.shipc(&["rollback", "--env", "prod", "--yes"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(s.remote_git(&["rev-list", "--count", "main"]), "4");
    let first = s.remote_git(&[
        "log",
        "--format=%H",
        "--reverse",
        "main",
        "--",
        "clusters/prod",
    ]);
    let first = first.lines().next().unwrap();
    assert_eq!(
        s.remote_git(&["rev-parse", &format!("{first}:clusters/prod")]),
        s.remote_git(&["rev-parse", "main:clusters/prod"]),
        "the path holds release 1 again"
    );
    assert!(s
        .remote_git(&["log", "-1", "--format=%s", "main"])
        .contains("rollback to"));
    let (code, _, err) = s.shipc(&["rollback", "--env", "prod", "--yes", "--to", "deadbeef"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("G008"), "{err}");
}

#[test]
fn files_shipc_did_not_write_are_never_replaced_silently() {
    if !have_git() {
        return;
    }
    let s = Setup::new("foreign", None);
    let b = s.clone("team-b");
    std::fs::create_dir_all(b.join("clusters/prod")).unwrap();
    std::fs::write(b.join("clusters/prod/README.md"), "hand-written\n").unwrap();
    git(&b, &["add", "."]);
    git(&b, &["commit", "-qm", "notes"]);
    git(&b, &["push", "-q", "origin", "HEAD:main"]);
    let (code, out, err) = s.shipc(&["plan", "--env", "prod"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("not shipc's: README.md"), "{out}");
    let (code, _, err) = s.shipc(&["apply", "--env", "prod", "--yes", "--skip-verify"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("G006") && err.contains("README.md"), "{err}");
    assert_eq!(
        s.remote_git(&["rev-list", "--count", "main"]),
        "1",
        "nothing pushed"
    );
    let (code, _, err) = s.shipc(&[
        "apply",
        "--env",
        "prod",
        "--yes",
        "--skip-verify",
        "--force",
    ]);
    assert_eq!(code, 0, "{err}");
}

/// A `git` on PATH that, before each `push`, lets a second clone push a
/// commit first (once, or every time).
fn racing_git(s: &mut Setup, always: bool) {
    let other = s.clone(if always { "racer-always" } else { "racer" });
    let real = String::from_utf8_lossy(
        &Command::new("sh")
            .args(["-c", "command -v git"])
            .output()
            .unwrap()
            .stdout,
    )
    .trim()
    .to_string();
    let bin = s.dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let flag = s.dir.join(if always { "raced-always" } else { "raced" });
    let script = format!(
        "#!/bin/sh\ncase \" $* \" in *\" push \"*)\n  if [ ! -e '{flag}' ] || [ -n '{always}' ]; then\n    touch '{flag}'\n    ( cd '{other}' && GIT_CONFIG_GLOBAL=/dev/null '{real}' -c user.name=r -c user.email=r@x pull -q --no-rebase origin main; date +%s%N >> race.txt; '{real}' add race.txt; GIT_CONFIG_GLOBAL=/dev/null '{real}' -c user.name=r -c user.email=r@x commit -qm race; '{real}' push -q origin HEAD:main ) >/dev/null 2>&1\n  fi ;;\nesac\nexec '{real}' \"$@\"\n",
        flag = flag.display(),
        always = if always { "yes" } else { "" },
        other = other.display(),
    );
    common::write_executable(&bin.join("git"), &script);
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![bin];
    paths.extend(std::env::split_paths(&path));
    s.path = Some(std::env::join_paths(paths).unwrap());
}

#[test]
fn a_remote_that_moves_between_fetch_and_push() {
    if !have_git() {
        return;
    }
    let mut s = Setup::new("race", None);
    // The branch exists (the racer needs something to pull).
    let (code, _, err) = s.shipc(&["apply", "--env", "prod", "--yes", "--skip-verify"]);
    assert_eq!(code, 0, "{err}");
    racing_git(&mut s, false);
    s.write(&ship(2, ""));
    let (code, _, err) = s.shipc(&["apply", "--env", "prod", "--yes", "--skip-verify"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("after 1 retry"), "{err}");
    // Both commits are there: the racer's and the release on top of it.
    let log = s.remote_git(&["log", "--format=%s", "main"]);
    let subjects: Vec<&str> = log.lines().collect();
    assert!(
        subjects[0].starts_with("shipc: release") && subjects[1] == "race",
        "{log}"
    );
    assert!(s
        .remote_git(&["show", "main:clusters/prod/apps/web.yaml"])
        .contains("replicas: 2"));

    // A remote that moves every time: G004 after the retries, never forced.
    racing_git(&mut s, true);
    s.write(&ship(5, ""));
    let (code, _, err) = s.shipc(&["apply", "--env", "prod", "--yes", "--skip-verify"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("G004"), "{err}");
    assert_eq!(s.remote_git(&["log", "-1", "--format=%s", "main"]), "race");
}

#[test]
fn a_rejected_push_and_an_unreachable_remote_quote_git() {
    if !have_git() {
        return;
    }
    let s = Setup::new("reject", None);
    let hook = s.remote.join("hooks/pre-receive");
    common::write_executable(
        &hook,
        "#!/bin/sh\necho 'protected branch: releases need a review' >&2\nexit 1\n",
    );
    let (code, _, err) = s.shipc(&["apply", "--env", "prod", "--yes", "--skip-verify"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("G005") && err.contains("protected branch"),
        "{err}"
    );

    let dead = Setup::new("dead", Some("git://127.0.0.1:1/nothing.git"));
    let (code, _, err) = dead.shipc(&["plan", "--env", "prod"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("G003"), "{err}");
}

#[test]
fn a_remote_served_by_git_daemon_on_loopback() {
    if !have_git() {
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let s = Setup::new(
        "daemon",
        Some(&format!("git://127.0.0.1:{port}/remote.git")),
    );
    // `git daemon` runs `git-daemon` as a child: stop that one by its
    // pid file, and give neither our stdout (the harness waits on it).
    let pid_file = s.dir.join("daemon.pid");
    let mut daemon = Command::new("git")
        .args([
            "daemon",
            "--reuseaddr",
            "--export-all",
            "--enable=receive-pack",
            "--listen=127.0.0.1",
        ])
        .arg(format!("--port={port}"))
        .arg(format!("--pid-file={}", pid_file.display()))
        .arg(format!("--base-path={}", s.dir.display()))
        .arg(&s.dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("git daemon");
    let stop = |daemon: &mut std::process::Child| {
        if let Ok(pid) = std::fs::read_to_string(&pid_file) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
        let _ = daemon.kill();
        let _ = daemon.wait();
    };
    // Wait until it listens.
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let (code, _, err) = s.shipc(&["apply", "--env", "prod", "--yes", "--skip-verify"]);
    stop(&mut daemon);
    assert_eq!(code, 0, "{err}");
    assert!(s
        .remote_git(&["ls-tree", "-r", "--name-only", "main"])
        .contains("clusters/prod/apps/web.yaml"));
}

#[test]
fn no_git_and_a_path_outside_the_repository_are_clear_errors() {
    if !have_git() {
        return;
    }
    let mut s = Setup::new("nogit", None);
    let empty = s.dir.join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    s.path = Some(empty.into_os_string());
    let (code, _, err) = s.shipc(&["plan", "--env", "prod"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("G001"), "{err}");

    let s = Setup::new("badpath", None);
    s.write(&ship(1, "").replace("./clusters/prod", "../elsewhere"));
    let (code, _, err) = s.shipc(&["apply", "--env", "prod", "--yes", "--skip-verify"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("G007") && err.contains("leaves the repository"),
        "{err}"
    );
}
