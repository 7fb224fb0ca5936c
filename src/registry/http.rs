//! The registry transport: the few OCI distribution requests `lock` and
//! `verify` make (`HEAD`/`GET` a manifest, `GET` a blob, the bearer-token
//! exchange), on `reqwest`, with every read bounded.
//!
//! Why not `oci-client` for these: it reads whole bodies (manifests, token
//! answers, error bodies) before anything can check their size, so a
//! registry announcing a 3 GB manifest made `lock` allocate 3 GB. Here each
//! body is refused by its announced length, then streamed with a cap; every
//! manifest and blob read by digest is checked against that digest.
//!
//! Credentials: a `Bearer` challenge's token realm must be HTTPS (or a host
//! named insecure): Basic credentials are never sent in clear text. Redirects
//! are followed (blobs live behind them) up to five times, never to plain
//! HTTP unless that host is insecure; `reqwest` drops `Authorization` when
//! a redirect leaves the host.

use super::auth::Credential;
use super::{Failure, FailureKind};
use base64::Engine;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// The largest token answer or error body read.
const MAX_SMALL: u64 = 1 << 20;

/// A failure and whether the request is worth another try.
pub type Error = (Failure, bool);

/// One registry host.
pub struct Http {
    client: reqwest::Client,
    scheme: &'static str,
    host: String,
    credential: Credential,
    insecure: BTreeSet<String>,
    /// The `Authorization` value per repository, once negotiated.
    authz: tokio::sync::Mutex<BTreeMap<String, String>>,
}

/// What the client needs to know.
pub struct Setup<'a> {
    /// `host[:port]`.
    pub host: &'a str,
    /// Hosts spoken to over plain HTTP.
    pub insecure: &'a BTreeSet<String>,
    /// Extra trusted CAs (PEM).
    pub certificates: Vec<Vec<u8>>,
    /// Per request (connect, and the whole answer).
    pub timeout: Duration,
    /// The host's credentials.
    pub credential: Credential,
}

impl Http {
    /// A client for one host.
    pub fn new(s: Setup<'_>) -> Result<Http, Failure> {
        let fail = |detail: String| Failure {
            kind: FailureKind::Tls,
            registry: s.host.to_string(),
            detail,
        };
        let mut certs = Vec::new();
        for pem in &s.certificates {
            certs.push(
                reqwest::Certificate::from_pem(pem)
                    .map_err(|e| fail(format!("a CA certificate is not valid PEM: {e}")))?,
            );
        }
        let insecure = s.insecure.clone();
        let redirect_insecure = s.insecure.clone();
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            let url = attempt.url().clone();
            let host_port = host_port(&url);
            if attempt.previous().len() >= 5 {
                attempt.error(format!("more than 5 redirects (last to {url})"))
            } else if url.scheme() != "https" && !redirect_insecure.contains(&host_port) {
                attempt.error(format!(
                    "refused a redirect to {url}: it is not HTTPS and `{host_port}` is not an insecure registry"
                ))
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .tls_certs_merge(certs)
            .connect_timeout(s.timeout)
            .read_timeout(s.timeout)
            .redirect(policy)
            .user_agent(concat!("shipc/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| fail(format!("cannot set up a client: {e}")))?;
        Ok(Http {
            client,
            scheme: if insecure.contains(s.host) {
                "http"
            } else {
                "https"
            },
            host: s.host.to_string(),
            credential: s.credential,
            insecure,
            authz: tokio::sync::Mutex::new(BTreeMap::new()),
        })
    }

    fn failure(&self, kind: FailureKind, detail: impl Into<String>) -> Failure {
        Failure {
            kind,
            registry: self.host.clone(),
            detail: detail.into(),
        }
    }

    fn with_credentials(&self) -> bool {
        self.credential != Credential::Anonymous
    }

    /// A request to `/v2/<path>` of `repository`, authorising on a 401
    /// challenge once. Any status comes back; transport errors are
    /// classified.
    async fn send(
        &self,
        head: bool,
        repository: &str,
        path: &str,
        accept: &[&str],
    ) -> Result<reqwest::Response, Error> {
        let url = format!("{}://{}/v2/{path}", self.scheme, self.host);
        for attempt in 0..2 {
            let method = if head {
                reqwest::Method::HEAD
            } else {
                reqwest::Method::GET
            };
            let mut req = self.client.request(method, &url);
            if !accept.is_empty() {
                req = req.header(reqwest::header::ACCEPT, accept.join(", "));
            }
            if let Some(a) = self.authz.lock().await.get(repository) {
                req = req.header(reqwest::header::AUTHORIZATION, a.clone());
            }
            let resp = req.send().await.map_err(|e| self.transport(&e))?;
            if resp.status() != reqwest::StatusCode::UNAUTHORIZED || attempt == 1 {
                return Ok(resp);
            }
            let challenge = resp
                .headers()
                .get(reqwest::header::WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            let value = self.authorize(&challenge, repository).await?;
            self.authz
                .lock()
                .await
                .insert(repository.to_string(), value);
        }
        Err((self.failure(FailureKind::Server, "unreachable"), false))
    }

    /// The `Authorization` value a challenge asks for.
    async fn authorize(&self, challenge: &str, repository: &str) -> Result<String, Error> {
        let unauthorized = |detail: String| {
            (
                self.failure(
                    FailureKind::Unauthorized {
                        status: 401,
                        with_credentials: self.with_credentials(),
                    },
                    detail,
                ),
                false,
            )
        };
        let (scheme, params) = parse_challenge(challenge);
        let basic = match &self.credential {
            Credential::Basic { user, password } => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            )),
            Credential::Anonymous => None,
        };
        if scheme.eq_ignore_ascii_case("basic") {
            return basic.ok_or_else(|| {
                unauthorized("401 Unauthorized (the registry asks for credentials)".into())
            });
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(unauthorized(format!(
                "401 Unauthorized (challenge `{}`)",
                first_line(challenge)
            )));
        }
        let realm = params.get("realm").cloned().unwrap_or_default();
        let url = reqwest::Url::parse(&realm).map_err(|_| {
            (
                self.failure(
                    FailureKind::Server,
                    format!("the token realm `{realm}` is not a URL"),
                ),
                false,
            )
        })?;
        let realm_host = host_port(&url);
        if url.scheme() != "https" && !self.insecure.contains(&realm_host) {
            return Err((
                self.failure(
                    FailureKind::Tls,
                    format!(
                        "the token service `{realm}` is not HTTPS: refusing to send credentials there in clear text (name `{realm_host}` an insecure registry only if that is intended)"
                    ),
                ),
                false,
            ));
        }
        let scope = params
            .get("scope")
            .cloned()
            .unwrap_or_else(|| format!("repository:{repository}:pull"));
        let mut url = url;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("scope", &scope);
            if let Some(service) = params.get("service") {
                q.append_pair("service", service);
            }
        }
        let mut req = self.client.get(url);
        if let Some(b) = &basic {
            req = req.header(reqwest::header::AUTHORIZATION, b.clone());
        }
        let resp = req.send().await.map_err(|e| self.transport(&e))?;
        let status = resp.status();
        let body = self.read(resp, MAX_SMALL).await?;
        if !status.is_success() {
            let said = String::from_utf8_lossy(&body);
            return Err(unauthorized(format!(
                "the token service refused ({status}): {}",
                first_line(&said)
            )));
        }
        let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
            (
                self.failure(
                    FailureKind::Server,
                    format!("the token answer is not JSON: {e}"),
                ),
                false,
            )
        })?;
        let token = v
            .get("token")
            .or_else(|| v.get("access_token"))
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| unauthorized("the token service answered without a token".into()))?;
        Ok(format!("Bearer {token}"))
    }

    /// The body, refused past `cap` bytes (announced or read).
    async fn read(&self, mut resp: reqwest::Response, cap: u64) -> Result<Vec<u8>, Error> {
        let what = resp.url().path().to_string();
        let too_big = |n: u64| {
            (
                self.failure(
                    FailureKind::Server,
                    format!(
                        "the answer for `{what}` is larger than {} ({n} bytes announced or read)",
                        size(cap)
                    ),
                ),
                false,
            )
        };
        if let Some(n) = resp.content_length().filter(|n| *n > cap) {
            return Err(too_big(n));
        }
        let mut out: Vec<u8> = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.transport(&e))? {
            if (out.len() + chunk.len()) as u64 > cap {
                return Err(too_big((out.len() + chunk.len()) as u64));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }

    /// The failure for a non-success status.
    async fn status_failure(&self, resp: reqwest::Response) -> Error {
        let status = resp.status();
        let code = status.as_u16();
        let body = self.read(resp, 64 << 10).await.unwrap_or_default();
        let text = String::from_utf8_lossy(&body);
        let said = registry_errors(&text).unwrap_or_else(|| first_line(&text).to_string());
        let msg = if said.is_empty() {
            format!("HTTP {status}")
        } else {
            format!("HTTP {status}: {said}")
        };
        let unauthorized = |status| FailureKind::Unauthorized {
            status,
            with_credentials: self.with_credentials(),
        };
        match code {
            401 => (self.failure(unauthorized(401), msg), false),
            403 => (self.failure(unauthorized(403), msg), false),
            404 => (self.failure(FailureKind::NotFound, msg), false),
            400 if text.contains("HTTP request to an HTTPS server") => (
                self.failure(
                    FailureKind::Tls,
                    "the registry speaks HTTPS, but it is named an insecure (plain HTTP) registry: remove it from `insecure_registries` / `--insecure-registry`",
                ),
                false,
            ),
            429 => (self.failure(FailureKind::Server, msg), true),
            c if c >= 500 => (self.failure(FailureKind::Server, msg), true),
            c if (300..400).contains(&c) => (
                self.failure(FailureKind::Server, format!("{msg} (a redirect that was not followed)")),
                false,
            ),
            _ => (self.failure(FailureKind::Server, msg), false),
        }
    }

    /// The digest of the manifest `reference` (a tag or digest) names:
    /// `HEAD` and its `Docker-Content-Digest`, else `GET` and the sha256 of
    /// the bytes.
    pub async fn digest(
        &self,
        repository: &str,
        reference: &str,
        accept: &[&str],
        cap: u64,
    ) -> Result<String, Error> {
        let path = format!("{repository}/manifests/{reference}");
        let resp = self.send(true, repository, &path, accept).await?;
        if resp.status().is_success() {
            if let Some(d) = resp
                .headers()
                .get("docker-content-digest")
                .and_then(|v| v.to_str().ok())
            {
                return Ok(d.trim().to_string());
            }
        } else if matches!(resp.status().as_u16(), 401 | 403 | 404 | 429)
            || resp.status().is_server_error()
        {
            return Err(self.status_failure(resp).await);
        }
        // No digest header, HEAD not allowed, or another answer whose body
        // (which a HEAD does not have) says why: ask with GET.
        let (bytes, _) = self.manifest(repository, reference, accept, cap).await?;
        Ok(sha256(&bytes))
    }

    /// A manifest's bytes and media type; by digest, checked against it.
    pub async fn manifest(
        &self,
        repository: &str,
        reference: &str,
        accept: &[&str],
        cap: u64,
    ) -> Result<(Vec<u8>, String), Error> {
        let path = format!("{repository}/manifests/{reference}");
        let resp = self.send(false, repository, &path, accept).await?;
        if !resp.status().is_success() {
            return Err(self.status_failure(resp).await);
        }
        let media = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let bytes = self.read(resp, cap).await?;
        self.verify(reference, &bytes)?;
        Ok((bytes, media))
    }

    /// A blob by digest, checked against it.
    pub async fn blob(&self, repository: &str, digest: &str, cap: u64) -> Result<Vec<u8>, Error> {
        let path = format!("{repository}/blobs/{digest}");
        let resp = self.send(false, repository, &path, &[]).await?;
        if !resp.status().is_success() {
            return Err(self.status_failure(resp).await);
        }
        let bytes = self.read(resp, cap).await?;
        self.verify(digest, &bytes)?;
        Ok(bytes)
    }

    /// Bytes read by digest must have that digest.
    fn verify(&self, reference: &str, bytes: &[u8]) -> Result<(), Error> {
        if reference.starts_with("sha256:") && sha256(bytes) != reference {
            return Err((
                self.failure(
                    FailureKind::Server,
                    format!("the registry answered `{reference}` with content of another digest"),
                ),
                false,
            ));
        }
        Ok(())
    }

    /// A transport error: refused, DNS, TLS, timeout or a refused redirect.
    fn transport(&self, e: &reqwest::Error) -> Error {
        let (kind, retry, detail) = if e.is_redirect() {
            let mut chain = Vec::new();
            let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
            while let Some(s) = source {
                chain.push(s.to_string());
                source = s.source();
            }
            (
                FailureKind::Server,
                false,
                chain.last().cloned().unwrap_or_default(),
            )
        } else if e.is_timeout() {
            (
                FailureKind::Timeout,
                true,
                "no answer (timed out)".to_string(),
            )
        } else {
            classify_transport(e)
        };
        (self.failure(kind, detail), retry)
    }
}

/// `host[:port]` of a URL, as registries are named.
fn host_port(url: &reqwest::Url) -> String {
    match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or("")),
        None => url.host_str().unwrap_or("").to_string(),
    }
}

/// `Bearer realm="…",service="…"` → ("Bearer", {realm, service}).
fn parse_challenge(h: &str) -> (String, BTreeMap<String, String>) {
    let h = h.trim();
    let (scheme, rest) = h.split_once(' ').unwrap_or((h, ""));
    let mut params = BTreeMap::new();
    let mut rest = rest.trim();
    while !rest.is_empty() {
        let Some((k, after)) = rest.split_once('=') else {
            break;
        };
        let k = k.trim().trim_start_matches(',').trim().to_ascii_lowercase();
        let after = after.trim_start();
        let (v, next) = if let Some(q) = after.strip_prefix('"') {
            let mut v = String::new();
            let mut end = q.len();
            let mut chars = q.char_indices();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            v.push(n);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => v.push(c),
                }
            }
            (v, q.get(end..).unwrap_or(""))
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (
                after.get(..end).unwrap_or("").trim().to_string(),
                after.get(end..).unwrap_or(""),
            )
        };
        params.insert(k, v);
        rest = next.trim_start_matches([',', ' ']);
    }
    (scheme.to_string(), params)
}

/// The messages of an OCI error body (`{"errors": [{code, message}]}`).
fn registry_errors(body: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let said: Vec<String> = v
        .get("errors")?
        .as_array()?
        .iter()
        .map(|e| {
            let code = e.get("code").and_then(|c| c.as_str()).unwrap_or("");
            let msg = e.get("message").and_then(|c| c.as_str()).unwrap_or("");
            format!("{code} {msg}").trim().to_string()
        })
        .collect();
    (!said.is_empty()).then(|| said.join("; "))
}

/// A transport error told apart by its chain (reqwest wraps hyper, which
/// wraps io and rustls errors).
pub fn classify_transport(e: &(dyn std::error::Error + 'static)) -> (FailureKind, bool, String) {
    use FailureKind as K;
    let mut chain = Vec::new();
    let mut refused = false;
    let mut source = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            refused |= io.kind() == std::io::ErrorKind::ConnectionRefused;
        }
        chain.push(s.to_string());
        source = s.source();
    }
    let text = chain.join(": ").to_ascii_lowercase();
    let detail = chain.last().cloned().unwrap_or_default();
    if text.contains("timed out") || text.contains("timeout") {
        (K::Timeout, true, "no answer (timed out)".into())
    } else if refused || text.contains("connection refused") {
        (K::Refused, false, "connection refused".into())
    } else if text.contains("dns error")
        || text.contains("failed to lookup address")
        || text.contains("name or service not known")
        || text.contains("no address associated")
    {
        (K::Dns, false, detail)
    } else if text.contains("invalidcontenttype")
        || text.contains("corrupt message")
        || text.contains("wrong version number")
    {
        (
            K::Tls,
            false,
            "the registry does not speak TLS on this port (a plain-HTTP registry? name it in `insecure_registries` or `--insecure-registry`)".into(),
        )
    } else if text.contains("certificate")
        || text.contains("tls")
        || text.contains("handshake")
        || text.contains("invalid peer")
    {
        (K::Tls, false, detail)
    } else if text.contains("error trying to connect") || text.contains("client error (connect)") {
        (K::Refused, false, detail)
    } else {
        // A connection reset or closed mid-answer: worth another try.
        (K::Server, true, detail)
    }
}

fn first_line(s: &str) -> &str {
    let l = s.lines().next().unwrap_or("").trim();
    l.get(..l.len().min(300)).unwrap_or(l)
}

fn size(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{} MiB", n >> 20)
    } else {
        format!("{} KiB", n >> 10)
    }
}

/// `sha256:<hex>` of bytes.
pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    let h = sha2::Sha256::digest(bytes);
    let mut out = String::with_capacity(71);
    out.push_str("sha256:");
    for b in h.iter() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_parse() {
        let (s, p) = parse_challenge(
            r#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull""#,
        );
        assert_eq!(s, "Bearer");
        assert_eq!(
            p.get("realm").map(String::as_str),
            Some("https://auth.example.com/token")
        );
        assert_eq!(
            p.get("service").map(String::as_str),
            Some("registry.example.com")
        );
        assert_eq!(
            p.get("scope").map(String::as_str),
            Some("repository:a/b:pull")
        );
        let (s, p) = parse_challenge(r#"Basic realm="Registry Realm""#);
        assert_eq!(s, "Basic");
        assert_eq!(p.get("realm").map(String::as_str), Some("Registry Realm"));
    }

    #[test]
    fn digests_of_bytes() {
        assert_eq!(
            sha256(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
