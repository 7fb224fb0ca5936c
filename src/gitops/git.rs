//! The [`Remote`] on the `git` command line: a cache clone per remote URL,
//! fetch of the one branch, a commit built in a private index (the cache
//! has no checkout to disturb), and a push that is never forced. Git runs
//! with `GIT_TERMINAL_PROMPT=0`, so a missing credential is an error, not
//! a hang; everything else (SSH keys, credential helpers, `insteadOf`) is
//! the user's git configuration.

#![allow(clippy::disallowed_methods)] // runs git, reads and writes the cache

use super::{Commit, GitFailure, Pushed, Remote, Tree};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A flux env's repository, branch and path, through a cache clone.
pub struct GitRemote {
    /// `flux.git.url`.
    pub url: String,
    /// `flux.git.branch`.
    pub branch: String,
    /// `flux.git.path`, normalised (empty: the root).
    pub path: String,
    /// The cache clone (created on first use).
    pub cache: PathBuf,
    /// `Name <email>` for the commit, else git's own configuration.
    pub author: Option<(String, String)>,
    /// Held while the cache is in use.
    lock: Option<std::fs::File>,
    /// Run ssh in batch mode (never a password prompt): unless the user
    /// chose an ssh command (`GIT_SSH_COMMAND`, `GIT_SSH`, `core.sshCommand`).
    ssh_batch: bool,
}

/// The largest file read back from the repository (16 MiB).
const MAX_FILE: usize = 16 << 20;

/// Whether `word` occurs in `text` with no letter or digit on either side:
/// HTTP's `error: 403`, not the `403` inside a commit id that git quotes.
fn has_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, _)| {
        let before = text.get(..at).and_then(|s| s.chars().next_back());
        let after = text.get(at + word.len()..).and_then(|s| s.chars().next());
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

fn classify(stderr: &str) -> GitFailure {
    let s = stderr.trim().to_string();
    let l = s.to_ascii_lowercase();
    if l.contains("authentication failed")
        || l.contains("permission denied")
        || l.contains("could not read username")
        || l.contains("could not read password")
        || l.contains("terminal prompts disabled")
        || has_word(&l, "403")
        || has_word(&l, "401")
    {
        GitFailure::Auth(s)
    } else if l.contains("could not resolve host")
        || l.contains("connection refused")
        || l.contains("unable to access")
        || l.contains("does not appear to be a git repository")
        || l.contains("repository not found")
        || l.contains("could not read from remote repository")
        || l.contains("unable to connect")
        || l.contains("no such file or directory")
    {
        GitFailure::Unreachable(s)
    } else {
        GitFailure::Other(s)
    }
}

impl GitRemote {
    /// A remote with its cache at `cache` (locked for this process while
    /// it is used: two releases never share one cache at once).
    pub fn new(
        url: &str,
        branch: &str,
        path: &str,
        cache: PathBuf,
        author: Option<(String, String)>,
    ) -> Result<GitRemote, GitFailure> {
        std::fs::create_dir_all(&cache).map_err(|e| {
            GitFailure::Other(format!(
                "cannot create the cache `{}`: {e}",
                cache.display()
            ))
        })?;
        let lock_path = cache.join(".shipc-lock");
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| {
                GitFailure::Other(format!("cannot open `{}`: {e}", lock_path.display()))
            })?;
        lock.lock().map_err(|e| {
            GitFailure::Other(format!("cannot lock `{}`: {e}", lock_path.display()))
        })?;
        let user_ssh = std::env::var_os("GIT_SSH_COMMAND").is_some()
            || std::env::var_os("GIT_SSH").is_some()
            || Command::new("git")
                .args(["config", "--get", "core.sshCommand"])
                .stdin(Stdio::null())
                .output()
                .is_ok_and(|o| o.status.success() && !o.stdout.is_empty());
        let r = GitRemote {
            ssh_batch: !user_ssh,
            url: url.to_string(),
            branch: branch.to_string(),
            path: path.to_string(),
            cache,
            author,
            lock: Some(lock),
        };
        r.prepare()?;
        Ok(r)
    }

    fn repo(&self) -> PathBuf {
        self.cache.join("repo.git")
    }

    fn git(&self) -> Command {
        let mut c = Command::new("git");
        c.arg("-C")
            .arg(self.repo())
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_ASKPASS", "")
            .env("SSH_ASKPASS", "")
            .env("GCM_INTERACTIVE", "never")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE")
            .stdin(Stdio::null());
        if self.ssh_batch {
            c.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
        }
        c
    }

    /// Run git; stdout, or the failure with git's stderr.
    fn run(&self, mut cmd: Command, input: Option<&[u8]>) -> Result<Vec<u8>, GitFailure> {
        if input.is_some() {
            cmd.stdin(Stdio::piped());
        }
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                GitFailure::NoGit("`git` is not on PATH".into())
            } else {
                GitFailure::NoGit(e.to_string())
            }
        })?;
        if let (Some(data), Some(mut stdin)) = (input, child.stdin.take()) {
            // A writer thread: git may fill its stdout before reading all of stdin.
            let data = data.to_vec();
            std::thread::spawn(move || {
                let _ = stdin.write_all(&data);
            });
        }
        let out = child
            .wait_with_output()
            .map_err(|e| GitFailure::Other(e.to_string()))?;
        if out.status.success() {
            Ok(out.stdout)
        } else {
            Err(classify(&String::from_utf8_lossy(&out.stderr)))
        }
    }

    fn text(&self, args: &[&str]) -> Result<String, GitFailure> {
        let mut c = self.git();
        c.args(args);
        self.run(c, None)
            .map(|o| String::from_utf8_lossy(&o).trim().to_string())
    }

    /// The cache: a bare repository whose `origin` is the URL.
    fn prepare(&self) -> Result<(), GitFailure> {
        let repo = self.repo();
        if !repo.join("HEAD").is_file() {
            let mut c = Command::new("git");
            c.args(["init", "-q", "--bare"])
                .arg(&repo)
                .stdin(Stdio::null());
            self.run(c, None)?;
        }
        if self.text(&["remote", "get-url", "origin"]).is_err() {
            self.text(&["remote", "add", "origin", &self.url])?;
        } else {
            self.text(&["remote", "set-url", "origin", &self.url])?;
        }
        Ok(())
    }

    fn tracking(&self) -> String {
        format!("refs/shipc/{}", self.branch)
    }

    fn pathspec(&self) -> String {
        if self.path.is_empty() {
            ".".into()
        } else {
            self.path.clone()
        }
    }

    /// Where the branch points on the remote, without fetching objects.
    pub fn remote_head(&self) -> Result<Option<String>, GitFailure> {
        let out = self.text(&[
            "ls-remote",
            "--heads",
            "origin",
            &format!("refs/heads/{}", self.branch),
        ])?;
        Ok(out.split_whitespace().next().map(str::to_string))
    }
}

impl Drop for GitRemote {
    fn drop(&mut self) {
        if let Some(l) = self.lock.take() {
            let _ = l.unlock();
        }
    }
}

impl Remote for GitRemote {
    fn fetch(&mut self) -> Result<Option<String>, GitFailure> {
        // ls-remote first: a missing branch (an empty repository) is not an error.
        let Some(_) = self.remote_head()? else {
            return Ok(None);
        };
        let refspec = format!("+refs/heads/{}:{}", self.branch, self.tracking());
        self.text(&["fetch", "-q", "--no-tags", "origin", &refspec])?;
        self.text(&[
            "rev-parse",
            "--verify",
            &format!("{}^{{commit}}", self.tracking()),
        ])
        .map(Some)
    }

    fn tree(&self, commit: &str) -> Result<Tree, GitFailure> {
        let mut c = self.git();
        c.args(["ls-tree", "-r", "-z", "--full-tree", commit, "--"]);
        if !self.path.is_empty() {
            c.arg(format!("{}/", self.path));
        }
        let listing = self.run(c, None)?;
        let prefix = if self.path.is_empty() {
            String::new()
        } else {
            format!("{}/", self.path)
        };
        let mut entries: Vec<(String, String)> = Vec::new();
        for rec in listing.split(|b| *b == 0).filter(|r| !r.is_empty()) {
            let rec = String::from_utf8_lossy(rec);
            let Some((meta, path)) = rec.split_once('\t') else {
                continue;
            };
            let mut m = meta.split_whitespace();
            let (_mode, kind, sha) = (m.next(), m.next(), m.next());
            if kind != Some("blob") {
                continue;
            }
            let Some(rel) = path.strip_prefix(&prefix) else {
                continue;
            };
            entries.push((rel.to_string(), sha.unwrap_or_default().to_string()));
        }
        // Every blob through one `cat-file --batch`.
        let mut input = String::new();
        for (_, sha) in &entries {
            input.push_str(sha);
            input.push('\n');
        }
        let mut c = self.git();
        c.args(["cat-file", "--batch"]);
        let out = self.run(c, Some(input.as_bytes()))?;
        let mut tree = Tree::new();
        let mut rest: &[u8] = &out;
        for (rel, _) in entries {
            let nl = rest
                .iter()
                .position(|b| *b == b'\n')
                .ok_or_else(|| GitFailure::Other("short cat-file answer".into()))?;
            let header = String::from_utf8_lossy(rest.get(..nl).unwrap_or_default()).to_string();
            let size: usize = header
                .rsplit(' ')
                .next()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| GitFailure::Other(format!("cat-file: `{header}`")))?;
            if size > MAX_FILE {
                return Err(GitFailure::Other(format!(
                    "`{rel}` in the repository is larger than 16 MiB"
                )));
            }
            let body = rest
                .get(nl + 1..nl + 1 + size)
                .ok_or_else(|| GitFailure::Other("short cat-file answer".into()))?;
            tree.insert(rel, body.to_vec());
            rest = rest.get(nl + 2 + size..).unwrap_or_default();
        }
        Ok(tree)
    }

    fn publish(
        &self,
        base: Option<&str>,
        tree: &Tree,
        message: &str,
    ) -> Result<Pushed, GitFailure> {
        let index = self.cache.join("shipc-index");
        let stage = self.cache.join("stage");
        let _ = std::fs::remove_file(&index);
        let _ = std::fs::remove_dir_all(&stage);
        let with_index = |args: &[&str]| -> Result<String, GitFailure> {
            let mut c = self.git();
            c.env("GIT_INDEX_FILE", &index).args(args);
            self.run(c, None)
                .map(|o| String::from_utf8_lossy(&o).trim().to_string())
        };
        match base {
            Some(b) => with_index(&["read-tree", b])?,
            None => with_index(&["read-tree", "--empty"])?,
        };
        with_index(&[
            "rm",
            "-r",
            "-q",
            "--cached",
            "--ignore-unmatch",
            "--",
            &self.pathspec(),
        ])?;
        // The new files, written under a staging work tree and added in one go.
        let root = if self.path.is_empty() {
            stage.clone()
        } else {
            stage.join(&self.path)
        };
        for (rel, bytes) in tree {
            let p = root.join(rel);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| GitFailure::Other(format!("{}: {e}", parent.display())))?;
            }
            std::fs::write(&p, bytes)
                .map_err(|e| GitFailure::Other(format!("{}: {e}", p.display())))?;
        }
        if !tree.is_empty() {
            let mut c = self.git();
            c.env("GIT_INDEX_FILE", &index)
                .arg("--work-tree")
                .arg(&stage)
                .args(["add", "-f", "--", &self.pathspec()]);
            self.run(c, None)?;
        }
        let new_tree = with_index(&["write-tree"])?;
        let _ = std::fs::remove_dir_all(&stage);
        let _ = std::fs::remove_file(&index);
        if let Some(b) = base {
            if self.text(&["rev-parse", &format!("{b}^{{tree}}")])? == new_tree {
                return Ok(Pushed::UpToDate);
            }
        }
        let mut c = self.git();
        c.args(["commit-tree", &new_tree, "-F", "-"]);
        if let Some(b) = base {
            c.args(["-p", b]);
        }
        if let Some((name, email)) = &self.author {
            c.env("GIT_AUTHOR_NAME", name)
                .env("GIT_AUTHOR_EMAIL", email)
                .env("GIT_COMMITTER_NAME", name)
                .env("GIT_COMMITTER_EMAIL", email);
        }
        let commit = String::from_utf8_lossy(&self.run(c, Some(message.as_bytes()))?)
            .trim()
            .to_string();
        // `--porcelain` prints each ref's fate on stdout (`[rejected] (fetch
        // first)`); git's hints go to stderr. Both decide.
        let mut c = self.git();
        c.args([
            "push",
            "--porcelain",
            "origin",
            &format!("{commit}:refs/heads/{}", self.branch),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let out = c.output().map_err(|e| GitFailure::NoGit(e.to_string()))?;
        if out.status.success() {
            let _ = self.text(&["update-ref", &self.tracking(), &commit]);
            return Ok(Pushed::Commit(commit));
        }
        let said = format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
        let moved = [
            "non-fast-forward",
            "fetch first",
            "remote contains work",
            "stale info",
        ]
        .iter()
        .any(|m| said.contains(m));
        if moved {
            Ok(Pushed::Moved(said.trim().to_string()))
        } else {
            Err(classify(&said))
        }
    }

    fn log(&self, head: &str) -> Result<Vec<Commit>, GitFailure> {
        let out = self.text(&[
            "log",
            "--format=%H%x1f%cI%x1f%s",
            head,
            "--",
            &self.pathspec(),
        ])?;
        let mut v: Vec<Commit> = out
            .lines()
            .filter_map(|l| {
                let mut p = l.split('\u{1f}');
                Some(Commit {
                    sha: p.next()?.to_string(),
                    time: p.next()?.to_string(),
                    subject: p.next().unwrap_or("").to_string(),
                })
            })
            .collect();
        v.reverse();
        Ok(v)
    }
}

/// The commit a project's work tree is at (`abc1234`, `+ uncommitted
/// changes` when dirty), or why there is none.
pub fn source_revision(root: &Path) -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match git(&["rev-parse", "HEAD"]) {
        Some(sha) => {
            let dirty = git(&["status", "--porcelain", "--", "."]).is_some_and(|s| !s.is_empty());
            if dirty {
                format!("{sha} (with uncommitted changes)")
            } else {
                sha
            }
        }
        None => "not a Git work tree".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An HTTP status is an auth failure; the same digits inside the commit
    /// id of a hook's rejection are not (that push was refused, not its
    /// credentials).
    #[test]
    fn status_codes_are_words_not_digits_in_a_commit_id() {
        let http = "fatal: unable to access 'https://git.example.com/x.git/': \
                    The requested URL returned error: 403";
        assert!(matches!(classify(http), GitFailure::Auth(_)));
        let hook = "To file:///tmp/remote.git\n\
                    !\t17940326c7d7332bc2a433fe16e645794228c3c0:refs/heads/main\t\
                    [remote rejected] (pre-receive hook declined)\n\
                    remote: protected branch: releases need a review\n\
                    error: failed to push some refs to 'file:///tmp/remote.git'";
        assert!(matches!(classify(hook), GitFailure::Other(_)));
        assert!(has_word("error: 401", "401"));
        assert!(!has_word("a401b", "401") && !has_word("4013", "401"));
    }
}
