//! Registry credentials the way the Docker CLI keeps them (`config.json` in
//! `$DOCKER_CONFIG`, else `~/.docker`):
//!
//! 1. `credHelpers.<host>`: run `docker-credential-<helper> get`;
//! 2. `auths.<host>`: `auth` (base64 `user:password`) or `username` +
//!    `password`;
//! 3. `credsStore`: the default helper for every other host;
//! 4. otherwise anonymous.
//!
//! Then the containers auth files that skopeo, podman and buildah write
//! (`$REGISTRY_AUTH_FILE`, `$XDG_RUNTIME_DIR/containers/auth.json`,
//! `~/.config/containers/auth.json`): the same `auths` format, first file
//! with an entry wins.
//!
//! `auths` keys may be written with a scheme and a path
//! (`https://index.docker.io/v1/`); they are matched by host. Docker Hub's
//! names (`docker.io`, `index.docker.io`, `registry-1.docker.io`) are one
//! host. A helper that answers "credentials not found" means anonymous; a
//! helper that cannot be run, fails otherwise, or takes longer than the
//! timeout is an error (R009), never a silent anonymous pull. An identity
//! token (helper user `<token>`) is sent as the password of HTTP basic
//! auth; the OAuth refresh-token exchange is not implemented.

use base64::Engine;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Credentials for one registry.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// No credentials.
    Anonymous,
    /// HTTP basic (also used for the bearer-token exchange).
    Basic {
        /// User name.
        user: String,
        /// Password or token.
        password: String,
    },
}

impl std::fmt::Debug for Credential {
    // Never print a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Anonymous => f.write_str("Anonymous"),
            Credential::Basic { user, .. } => write!(f, "Basic({user}, ***)"),
        }
    }
}

/// The Docker config file's parts shipc reads.
#[derive(Debug, Default, serde::Deserialize)]
struct DockerConfig {
    #[serde(default)]
    auths: std::collections::BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

/// `host[:port]` of a config key or registry name; Docker Hub's aliases
/// become `index.docker.io`.
pub fn normalize_host(key: &str) -> String {
    let no_scheme = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = no_scheme.split('/').next().unwrap_or(no_scheme);
    match host {
        "docker.io" | "registry-1.docker.io" | "index.docker.io" => "index.docker.io".into(),
        h => h.to_ascii_lowercase(),
    }
}

/// The credentials for `host` from the Docker config in `config_dir` (no
/// folder or no `config.json`: anonymous). Errors name the file or helper.
pub fn lookup(
    config_dir: Option<&Path>,
    host: &str,
    timeout: Duration,
) -> Result<Credential, String> {
    let Some(dir) = config_dir else {
        return Ok(Credential::Anonymous);
    };
    lookup_file(&dir.join("config.json"), host, timeout)
}

fn lookup_file(path: &Path, host: &str, timeout: Duration) -> Result<Credential, String> {
    let path = path.to_path_buf();
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Credential::Anonymous),
        Err(e) => return Err(format!("cannot read `{}`: {e}", path.display())),
    };
    let config: DockerConfig = serde_json::from_str(&text)
        .map_err(|e| format!("`{}` is not a valid Docker config: {e}", path.display()))?;
    let want = normalize_host(host);
    if let Some((_, helper)) = config
        .cred_helpers
        .iter()
        .find(|(k, _)| normalize_host(k) == want)
    {
        return helper_get(helper, &server_url(host), timeout);
    }
    if let Some((_, entry)) = config.auths.iter().find(|(k, _)| normalize_host(k) == want) {
        if let Some(c) = entry_credential(entry, &path)? {
            return Ok(c);
        }
    }
    match &config.creds_store {
        Some(store) if !store.is_empty() => helper_get(store, &server_url(host), timeout),
        _ => Ok(Credential::Anonymous),
    }
}

/// The credentials for `host` from the first containers auth file (same
/// format as a Docker config) that has an entry for it.
pub fn lookup_auth_files(
    files: &[std::path::PathBuf],
    host: &str,
    timeout: Duration,
) -> Result<Credential, String> {
    for file in files {
        let c = lookup_file(file, host, timeout)?;
        if c != Credential::Anonymous {
            return Ok(c);
        }
    }
    Ok(Credential::Anonymous)
}

/// What Docker passes to a helper: the host, or Docker Hub's legacy URL.
fn server_url(host: &str) -> String {
    if normalize_host(host) == "index.docker.io" {
        "https://index.docker.io/v1/".into()
    } else {
        host.to_string()
    }
}

fn entry_credential(entry: &AuthEntry, path: &Path) -> Result<Option<Credential>, String> {
    if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|e| format!("`{}`: an `auth` value is not base64: {e}", path.display()))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| format!("`{}`: an `auth` value is not UTF-8", path.display()))?;
        let (user, password) = text.split_once(':').ok_or_else(|| {
            format!(
                "`{}`: an `auth` value is not `user:password`",
                path.display()
            )
        })?;
        return Ok(Some(Credential::Basic {
            user: user.into(),
            password: password.into(),
        }));
    }
    match (&entry.username, &entry.password) {
        (Some(u), Some(p)) if !u.is_empty() => Ok(Some(Credential::Basic {
            user: u.clone(),
            password: p.clone(),
        })),
        _ => Ok(None),
    }
}

#[derive(serde::Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

/// Run `docker-credential-<helper> get` with `server` on stdin.
fn helper_get(helper: &str, server: &str, timeout: Duration) -> Result<Credential, String> {
    if helper.is_empty()
        || !helper
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        return Err(format!("credential helper name `{helper}` is not valid"));
    }
    let program = format!("docker-credential-{helper}");
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run credential helper `{program}`: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading gives a broken pipe: its exit
        // status tells what happened.
        let _ = stdin.write_all(server.as_bytes());
    }
    let reader = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(p) = pipe {
                let _ = p.take(1 << 20).read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = reader(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = reader(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "credential helper `{program}` did not answer within {}s",
                    timeout.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(format!("credential helper `{program}`: {e}")),
        }
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    if !status.success() {
        let out = String::from_utf8_lossy(&stdout);
        let err = String::from_utf8_lossy(&stderr);
        if out.contains("credentials not found") || err.contains("credentials not found") {
            return Ok(Credential::Anonymous);
        }
        // A helper's output can hold the secret: only the first line of its
        // error output is shown, long words redacted.
        return Err(format!(
            "credential helper `{program}` failed ({status}){}",
            redacted(&err)
        ));
    }
    let answer: HelperAnswer = serde_json::from_slice(&stdout)
        .map_err(|e| format!("credential helper `{program}` printed no credentials JSON: {e}"))?;
    if answer.username.is_empty() && answer.secret.is_empty() {
        return Ok(Credential::Anonymous);
    }
    Ok(Credential::Basic {
        user: answer.username,
        password: answer.secret,
    })
}

/// The first line of a helper's error output with every word that could be
/// a secret (long, or mixing letters and digits) replaced.
fn redacted(text: &str) -> String {
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    if line.is_empty() {
        return String::new();
    }
    let words: Vec<String> = line
        .split_whitespace()
        .take(30)
        .map(|w| {
            let letters = w.chars().any(char::is_alphabetic);
            let digits = w.chars().any(|c| c.is_ascii_digit());
            if w.len() > 16 || (letters && digits && w.len() > 6) {
                "[redacted]".to_string()
            } else {
                w.to_string()
            }
        })
        .collect();
    format!(": {}", words.join(" "))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn hosts_are_matched_without_scheme_and_path() {
        assert_eq!(
            normalize_host("https://index.docker.io/v1/"),
            "index.docker.io"
        );
        assert_eq!(normalize_host("docker.io"), "index.docker.io");
        assert_eq!(normalize_host("http://127.0.0.1:5000"), "127.0.0.1:5000");
        assert_eq!(normalize_host("Ghcr.io"), "ghcr.io");
    }

    #[test]
    fn auth_entries_decode() {
        let e = AuthEntry {
            auth: Some("dXNlcjpwYTpzcw==".into()), // user:pa:ss
            ..AuthEntry::default()
        };
        assert_eq!(
            entry_credential(&e, Path::new("c.json")).unwrap(),
            Some(Credential::Basic {
                user: "user".into(),
                password: "pa:ss".into()
            })
        );
        let bad = AuthEntry {
            auth: Some("!!".into()),
            ..AuthEntry::default()
        };
        assert!(entry_credential(&bad, Path::new("c.json")).is_err());
        assert_eq!(
            format!(
                "{:?}",
                Credential::Basic {
                    user: "u".into(),
                    password: "secret".into()
                }
            ),
            "Basic(u, ***)"
        );
    }

    #[test]
    fn helper_names_cannot_escape() {
        assert!(helper_get("../../bin/sh", "h", Duration::from_secs(1)).is_err());
    }

    #[test]
    fn helper_errors_never_echo_a_secret() {
        let said = redacted(
            "error: token ghp_9fQ2xLk8Zr1Tq0Wm5Bv7 rejected for user bob\nsecret: hunter2abc",
        );
        assert!(!said.contains("ghp_"), "{said}");
        assert!(!said.contains("hunter2"), "{said}");
        assert!(said.contains("rejected"), "{said}");
    }

    #[test]
    fn containers_auth_files_are_read_after_the_docker_config() {
        #![allow(clippy::disallowed_methods)]
        let dir = std::env::temp_dir().join(format!("shipc-auth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("auth.json");
        let auth = base64::engine::general_purpose::STANDARD.encode("pod:man");
        std::fs::write(
            &file,
            format!("{{\"auths\": {{\"quay.io\": {{\"auth\": \"{auth}\"}}}}}}"),
        )
        .unwrap();
        let missing = dir.join("missing.json");
        let c = lookup_auth_files(&[missing, file], "quay.io", Duration::from_secs(1)).unwrap();
        assert_eq!(
            c,
            Credential::Basic {
                user: "pod".into(),
                password: "man".into()
            }
        );
        let c =
            lookup_auth_files(&[dir.join("auth.json")], "ghcr.io", Duration::from_secs(1)).unwrap();
        assert_eq!(c, Credential::Anonymous);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
