//! Releases of flux envs through Git (SPEC §11): a release is a commit of
//! the env's rendered tree at `flux.git.path` on `flux.git.branch`, which
//! Flux reconciles.
//!
//! Shaped like `cluster/`: the network is the small [`Remote`] trait (one
//! implementation on the `git` command line in `git.rs`, so users' SSH
//! keys, credential helpers and `insteadOf` rules work as for git); what a
//! release does — which files are shipc's, what changed object by object,
//! the commit message, the retry when the remote moved — is decided here
//! and in `tree.rs`, in pure code; `flux.rs` talks to the env's Flux
//! objects in the cluster (reconcile, wait, suspend) through
//! [`crate::cluster::Cluster`].

pub mod flux;
pub mod git;
pub mod tree;

use crate::diag::{Code, Diagnostic};
use crate::source::Span;
use std::collections::BTreeMap;

/// Files under the env's path: path relative to it (`/`-separated) →
/// bytes.
pub type Tree = BTreeMap<String, Vec<u8>>;

pub use crate::emit::MARKER;

/// One commit of the release history.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Commit {
    /// Full SHA.
    pub sha: String,
    /// Committer time, ISO 8601.
    pub time: String,
    /// The subject line.
    pub subject: String,
}

/// What a push did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    /// The new commit is the branch head.
    Commit(String),
    /// The tree is what the base already holds: nothing was committed.
    UpToDate,
    /// The remote moved since the fetch (non-fast-forward): fetch and try
    /// again.
    Moved(String),
}

/// Why a git operation failed. What it means for the user (a code, a help
/// line) is decided by [`diagnose`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitFailure {
    /// `git` is not installed.
    NoGit(String),
    /// The remote refused the credentials, or there are none.
    Auth(String),
    /// The remote cannot be reached or is not a repository.
    Unreachable(String),
    /// Anything else git said.
    Other(String),
}

/// The Git side of a flux env's releases.
pub trait Remote {
    /// Fetch the branch; its head, or none when the branch does not exist
    /// yet (an empty repository).
    fn fetch(&mut self) -> Result<Option<String>, GitFailure>;
    /// The files under the env's path at `commit`, relative to the path.
    fn tree(&self, commit: &str) -> Result<Tree, GitFailure>;
    /// Make `tree` the whole content of the env's path on top of `base`
    /// (none: a new branch), commit with `message` and push — never forced.
    fn publish(&self, base: Option<&str>, tree: &Tree, message: &str)
        -> Result<Pushed, GitFailure>;
    /// The commits of `head` that touched the env's path, oldest first.
    fn log(&self, head: &str) -> Result<Vec<Commit>, GitFailure>;
}

/// A git failure as a diagnostic at `span` (the env's `flux.git`).
pub fn diagnose(f: &GitFailure, doing: &str, span: Span) -> Diagnostic {
    let quote = |m: &str| format!("git said: {}", redact_text(m.trim()));
    match f {
        GitFailure::NoGit(m) => Diagnostic::new(Code::G001, span, format!("cannot run `git` while {doing}: {m}"))
            .help("install Git (https://git-scm.com) and make sure `git` is on PATH"),
        GitFailure::Auth(m) => Diagnostic::new(Code::G002, span, format!("the Git remote refused the credentials while {doing}"))
            .note(quote(m))
            .help("check that `git ls-remote URL` works in this shell: an SSH key, a credential helper, or a token in the URL's `insteadOf` rule"),
        GitFailure::Unreachable(m) => Diagnostic::new(Code::G003, span, format!("cannot reach the Git remote while {doing}"))
            .note(quote(m))
            .help("check `flux.git.url` and the network; `git ls-remote URL` shows what git sees"),
        GitFailure::Other(m) => Diagnostic::new(Code::G005, span, format!("git failed while {doing}"))
            .note(quote(m)),
    }
}

/// The marker text for a tree (the `compile` format).
pub fn marker(files: &Tree) -> Vec<u8> {
    crate::emit::marker(files.keys().map(String::as_str)).into_bytes()
}

/// Files in `old` that shipc did not write: not listed in its marker (all
/// of them when there is no marker).
pub fn foreign(old: &Tree) -> Vec<String> {
    let text = old
        .get(MARKER)
        .and_then(|m| std::str::from_utf8(m).ok())
        .unwrap_or("");
    let listed = crate::emit::marker_files(text);
    old.keys()
        .filter(|f| f.as_str() != MARKER && !listed.contains(&f.as_str()))
        .cloned()
        .collect()
}

/// A repository path as `flux.git.path` writes it (`./clusters/prod`),
/// normalised (`clusters/prod`; empty for the root), or why it is refused.
pub fn normalise_path(p: &str) -> Result<String, String> {
    let mut parts = Vec::new();
    if p.starts_with('/') {
        return Err(format!(
            "`{p}` is absolute: give a path inside the repository"
        ));
    }
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(format!("`{p}` leaves the repository (`..`)")),
            ".git" => return Err(format!("`{p}` points into `.git`")),
            x if x.contains('\\') || x.chars().any(char::is_control) => {
                return Err(format!("`{p}` has a character git paths cannot have"))
            }
            x => parts.push(x),
        }
    }
    Ok(parts.join("/"))
}

/// Check a remote URL and branch before they reach git's command line: a
/// URL that git would read as an option, or a branch that is not a plain
/// branch name (a `:` or `+` would turn the push refspec into another one).
pub fn check_remote(url: &str, branch: &str) -> Result<(), String> {
    if url.is_empty() {
        return Err("`flux.git.url` is empty".into());
    }
    if url.starts_with('-') || url.chars().any(char::is_control) {
        return Err(format!("`{}` is not a repository URL", redact_url(url)));
    }
    let ok_char = |c: char| c.is_ascii_alphanumeric() || "._/-".contains(c);
    let bad = branch.is_empty()
        || !branch.chars().all(ok_char)
        || branch.starts_with(['-', '/', '.'])
        || branch.ends_with(['/', '.'])
        || branch.ends_with(".lock")
        || branch.contains("..")
        || branch.contains("//")
        || branch.contains("/.");
    if bad {
        return Err(format!(
            "branch `{branch}` is not a plain branch name (letters, digits, `.`, `_`, `-` and `/`)"
        ));
    }
    Ok(())
}

/// A URL as it may be printed: `https://user:token@host/…` →
/// `https://***@host/…`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find('/').unwrap_or(rest.len());
    match rest.get(..end).and_then(|auth| auth.rsplit_once('@')) {
        Some((_, host)) => format!("{scheme}://***@{host}{}", rest.get(end..).unwrap_or("")),
        None => url.to_string(),
    }
}

/// Every URL in `text` with its user information (a token) replaced.
pub fn redact_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c == '/' || c.is_whitespace() || c == '\'' || c == '"')
            .unwrap_or(tail.len());
        let authority = tail.get(..end).unwrap_or("");
        match authority.rsplit_once('@') {
            Some((_, host)) => {
                out.push_str("***@");
                out.push_str(host);
            }
            None => out.push_str(authority),
        }
        rest = tail.get(end..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// What [`release`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Released {
    /// A new commit on the branch.
    Commit {
        /// Its SHA.
        sha: String,
        /// The head it was made on (none: the branch is new).
        base: Option<String>,
        /// Pushes the remote refused because it had moved.
        retries: usize,
    },
    /// The branch already holds this tree at the path.
    UpToDate(Option<String>),
}

/// Why a release stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// Git failed.
    Git(GitFailure),
    /// The path holds files shipc did not write (and no `--force`).
    Foreign(Vec<String>),
    /// The remote kept moving: every push was refused.
    Rejected(usize, String),
}

/// Publish `tree` (the rendered env, marker added here): fetch, check
/// that the path holds only shipc's files (unless `force`), commit on the
/// head and push; when the remote moved meanwhile, fetch and do it again on
/// the new head, at most `tries` times. `message` is given the tree the
/// head held (for the images that changed).
pub fn release<R: Remote>(
    remote: &mut R,
    tree: &Tree,
    force: bool,
    tries: usize,
    message: &dyn Fn(&Tree) -> String,
) -> Result<Released, Stop> {
    let mut full = tree.clone();
    full.insert(MARKER.to_string(), marker(tree));
    let mut last = String::new();
    for attempt in 0..tries.max(1) {
        let head = remote.fetch().map_err(Stop::Git)?;
        let old = match &head {
            Some(h) => remote.tree(h).map_err(Stop::Git)?,
            None => Tree::new(),
        };
        if !force {
            let f = foreign(&old);
            if !f.is_empty() {
                return Err(Stop::Foreign(f));
            }
        }
        if old == full {
            return Ok(Released::UpToDate(head));
        }
        match remote
            .publish(head.as_deref(), &full, &message(&old))
            .map_err(Stop::Git)?
        {
            Pushed::Commit(sha) => {
                return Ok(Released::Commit {
                    sha,
                    base: head,
                    retries: attempt,
                })
            }
            Pushed::UpToDate => return Ok(Released::UpToDate(head)),
            Pushed::Moved(why) => last = why,
        }
    }
    Err(Stop::Rejected(tries, last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(normalise_path("./clusters/prod").unwrap(), "clusters/prod");
        assert_eq!(normalise_path("./").unwrap(), "");
        assert_eq!(normalise_path("flux/").unwrap(), "flux");
        assert!(normalise_path("../other").is_err());
        assert!(normalise_path("a/../../b").is_err());
        assert!(normalise_path("/etc").is_err());
        assert!(normalise_path("x/.git/hooks").is_err());
    }

    #[test]
    fn remotes_and_branches() {
        assert!(check_remote("https://github.com/a/b", "main").is_ok());
        assert!(check_remote("git@github.com:a/b.git", "release/prod-1.2").is_ok());
        assert!(check_remote("--upload-pack=touch /tmp/x", "main").is_err());
        for b in [
            "main:refs/heads/other",
            "+main",
            "-f",
            "a..b",
            "x.lock",
            "",
            "a b",
            "/main",
        ] {
            assert!(check_remote("https://h/r", b).is_err(), "{b}");
        }
        assert_eq!(
            redact_url("https://bot:s3cret@git.example.com/x.git"),
            "https://***@git.example.com/x.git"
        );
        assert_eq!(
            redact_url("https://git.example.com/x.git"),
            "https://git.example.com/x.git"
        );
        assert_eq!(
            redact_url("git@github.com:a/b.git"),
            "git@github.com:a/b.git"
        );
        assert_eq!(
            redact_text("fatal: unable to access 'https://bot:tok@h.example/x.git/': 403"),
            "fatal: unable to access 'https://***@h.example/x.git/': 403"
        );
    }

    #[test]
    fn foreign_files() {
        let mut t = Tree::new();
        t.insert("apps/a.yaml".into(), b"x".to_vec());
        assert_eq!(foreign(&t), vec!["apps/a.yaml".to_string()]);
        t.insert(MARKER.into(), marker(&t));
        assert!(foreign(&t).is_empty());
        t.insert("README.md".into(), b"mine".to_vec());
        assert_eq!(foreign(&t), vec!["README.md".to_string()]);
    }

    /// A remote in memory that moves `moves` times before it accepts.
    struct Fake {
        head: Option<String>,
        files: Tree,
        moves: usize,
        pushes: std::cell::Cell<usize>,
    }

    impl Remote for Fake {
        fn fetch(&mut self) -> Result<Option<String>, GitFailure> {
            Ok(self.head.clone())
        }
        fn tree(&self, _: &str) -> Result<Tree, GitFailure> {
            Ok(self.files.clone())
        }
        fn publish(&self, _: Option<&str>, _: &Tree, _: &str) -> Result<Pushed, GitFailure> {
            let n = self.pushes.get();
            self.pushes.set(n + 1);
            Ok(if n < self.moves {
                Pushed::Moved("fetch first".into())
            } else {
                Pushed::Commit("c1".into())
            })
        }
        fn log(&self, _: &str) -> Result<Vec<Commit>, GitFailure> {
            Ok(Vec::new())
        }
    }

    #[test]
    fn a_remote_that_keeps_moving_stops_the_release() {
        let mut t = Tree::new();
        t.insert("apps/a.yaml".into(), b"x".to_vec());
        let mut r = Fake {
            head: None,
            files: Tree::new(),
            moves: 10,
            pushes: Default::default(),
        };
        assert!(matches!(
            release(&mut r, &t, false, 3, &|_| String::new()),
            Err(Stop::Rejected(3, _))
        ));
        let mut r = Fake {
            head: None,
            files: Tree::new(),
            moves: 0,
            pushes: Default::default(),
        };
        assert!(matches!(
            release(&mut r, &t, false, 3, &|_| String::new()),
            Ok(Released::Commit { .. })
        ));
    }

    #[test]
    fn foreign_files_stop_the_release_unless_forced() {
        let mut old = Tree::new();
        old.insert("notes.txt".into(), b"team b".to_vec());
        let mut r = Fake {
            head: Some("h".into()),
            files: old,
            moves: 0,
            pushes: Default::default(),
        };
        let t = Tree::new();
        assert!(
            matches!(release(&mut r, &t, false, 3, &|_| String::new()), Err(Stop::Foreign(f)) if f == vec!["notes.txt".to_string()])
        );
        assert!(matches!(
            release(&mut r, &t, true, 3, &|_| String::new()),
            Ok(Released::Commit { .. })
        ));
    }
}
