//! The registry client: one HTTP client per registry host (its own CAs and
//! scheme, [`super::http`]), credentials looked up once per host, queries
//! run [`Options::concurrency`] at a time on a small tokio runtime.
//!
//! A query resolves a tag with `HEAD /v2/<repo>/manifests/<tag>` (the
//! `Docker-Content-Digest` header), falling back to `GET` and the sha256 of
//! the bytes, as `crane digest` does. An inspected query then reads the
//! manifest *by that digest* (so a tag moving meanwhile cannot mix two
//! images), the linux/amd64 manifest of an index, and its image config;
//! every read is bounded ([`MAX_DOCUMENT`]) and checked against its digest.
//!
//! Every request is bounded by [`Options::timeout`]; timeouts, 5xx and 429
//! answers are retried [`Options::retries`] times with exponential backoff
//! (250 ms, 500 ms, …); nothing else is retried.

use super::auth::{self, Credential};
use super::http::{Http, Setup};
use super::{
    DigestResolver, Failure, FailureKind, Found, ImageConfig, Options, Progress, Query, Reference,
};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Manifest media types we accept (OCI and Docker, single and multi-platform).
const ACCEPT: &[&str] = &[
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

/// Config media types of container images (others — Helm charts, WASM —
/// have no ports or user to check).
const IMAGE_CONFIGS: &[&str] = &[
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
];

/// The largest manifest or image config read (a real one is a few KiB).
pub const MAX_DOCUMENT: u64 = 4 << 20;

/// The real registry client.
#[derive(Debug, Clone, Default)]
pub struct Oci {
    /// Transport settings.
    pub options: Options,
}

/// A registry host's client.
struct Conn {
    http: Http,
    host: String,
}

impl DigestResolver for Oci {
    fn resolve(&self, queries: &[Query], progress: Progress<'_>) -> Vec<Result<Found, Failure>> {
        let mut results: Vec<Option<Result<Found, Failure>>> = vec![None; queries.len()];
        let runtime = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
        {
            Ok(r) => r,
            Err(e) => {
                return queries
                    .iter()
                    .map(|q| {
                        Err(Failure {
                            kind: FailureKind::Server,
                            registry: q.host().to_string(),
                            detail: format!("cannot start the network runtime: {e}"),
                        })
                    })
                    .collect();
            }
        };
        // Connections (and credential helpers) once per host, before any
        // request: a helper runs once even for 200 images.
        let mut conns: BTreeMap<String, Result<Arc<Conn>, Failure>> = BTreeMap::new();
        for q in queries {
            if !conns.contains_key(q.host()) {
                conns.insert(q.host().to_string(), self.connect(q.host()).map(Arc::new));
            }
        }
        let total = queries.len();
        let options = Arc::new(self.options.clone());
        runtime.block_on(async {
            let permits = Arc::new(tokio::sync::Semaphore::new(options.concurrency.max(1)));
            let mut tasks = tokio::task::JoinSet::new();
            let mut done = 0;
            for (i, q) in queries.iter().enumerate() {
                match conns.get(q.host()) {
                    Some(Ok(conn)) => {
                        let (conn, q, permits, options) =
                            (conn.clone(), q.clone(), permits.clone(), options.clone());
                        tasks.spawn(async move {
                            let _permit = permits.acquire_owned().await;
                            (i, query(&conn, &q, &options).await)
                        });
                    }
                    Some(Err(f)) => {
                        if let Some(slot) = results.get_mut(i) {
                            *slot = Some(Err(f.clone()));
                        }
                        done += 1;
                    }
                    None => {}
                }
            }
            while let Some(joined) = tasks.join_next().await {
                let Ok((i, r)) = joined else { continue };
                done += 1;
                if let Some(q) = queries.get(i) {
                    progress(done, total, &q.display());
                }
                if let Some(slot) = results.get_mut(i) {
                    *slot = Some(r);
                }
            }
        });
        runtime.shutdown_background();
        results
            .into_iter()
            .zip(queries)
            .map(|(r, q)| {
                r.unwrap_or_else(|| {
                    Err(Failure {
                        kind: FailureKind::Server,
                        registry: q.host().to_string(),
                        detail: "the query was lost (internal error)".into(),
                    })
                })
            })
            .collect()
    }
}

impl Oci {
    fn connect(&self, host: &str) -> Result<Conn, Failure> {
        let fail = |kind, detail: String| Failure {
            kind,
            registry: host.to_string(),
            detail,
        };
        let mut certificates = Vec::new();
        for f in &self.options.ca_files {
            let data = std::fs::read(f).map_err(|e| {
                fail(
                    FailureKind::Tls,
                    format!("cannot read CA file `{}`: {e}", f.display()),
                )
            })?;
            certificates.push(data);
        }
        for dir in &self.options.certs_d {
            let Ok(entries) = std::fs::read_dir(dir.join(host)) else {
                continue;
            };
            let mut files: Vec<_> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "crt"))
                .collect();
            files.sort();
            for f in files {
                if let Ok(data) = std::fs::read(&f) {
                    certificates.push(data);
                }
            }
        }
        let mut credential = auth::lookup(
            self.options.docker_config.as_deref(),
            host,
            self.options.timeout,
        )
        .map_err(|e| fail(FailureKind::Credentials, e))?;
        if credential == Credential::Anonymous {
            credential =
                auth::lookup_auth_files(&self.options.auth_files, host, self.options.timeout)
                    .map_err(|e| fail(FailureKind::Credentials, e))?;
        }
        let http = Http::new(Setup {
            host,
            insecure: &self.options.insecure,
            certificates,
            timeout: self.options.timeout,
            credential,
        })?;
        Ok(Conn {
            http,
            host: host.to_string(),
        })
    }
}

/// One query: the digest, then (inspected) the manifest and image config.
async fn query(conn: &Conn, q: &Query, options: &Options) -> Result<Found, Failure> {
    let path = q
        .repository
        .split_once('/')
        .map(|(_, p)| p.to_string())
        .unwrap_or_default();
    let reference = match &q.reference {
        Reference::Tag(t) => t.clone(),
        Reference::Digest(d) => d.clone(),
    };
    let call = Call {
        options,
        registry: &conn.host,
    };
    let digest = call
        .run(|| conn.http.digest(&path, &reference, ACCEPT, MAX_DOCUMENT))
        .await?;
    let mut found = Found {
        digest: digest.clone(),
        ..Found::default()
    };
    if !q.inspect || crate::names::digest(&digest).is_err() {
        // A malformed digest is refused by `settle` (R007), never fetched.
        return Ok(found);
    }
    let manifest = fetch_json(&call, conn, &path, &digest).await?;
    let image_manifest = if let Some(list) = manifest.get("manifests").and_then(|m| m.as_array()) {
        // linux/amd64, else the first linux image, else the first image.
        let mut chosen: Option<(u8, String)> = None;
        for m in list {
            let os = m.pointer("/platform/os").and_then(|v| v.as_str());
            let arch = m.pointer("/platform/architecture").and_then(|v| v.as_str());
            let (Some(os), Some(arch), Some(digest)) =
                (os, arch, m.get("digest").and_then(|d| d.as_str()))
            else {
                continue;
            };
            if os == "unknown" {
                continue; // build attestations, not images
            }
            found.platforms.push(
                match m.pointer("/platform/variant").and_then(|v| v.as_str()) {
                    Some(v) => format!("{os}/{arch}/{v}"),
                    None => format!("{os}/{arch}"),
                },
            );
            let rank = match (os, arch) {
                ("linux", "amd64") => 0,
                ("linux", _) => 1,
                _ => 2,
            };
            if chosen.as_ref().is_none_or(|(r, _)| rank < *r) {
                chosen = Some((rank, digest.to_string()));
            }
        }
        match chosen {
            Some((_, d)) if crate::names::digest(&d).is_ok() => {
                Some(fetch_json(&call, conn, &path, &d).await?)
            }
            _ => None,
        }
    } else {
        Some(manifest)
    };
    let Some(m) = image_manifest else {
        return Ok(found);
    };
    let media = m
        .pointer("/config/mediaType")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    let digest = m.pointer("/config/digest").and_then(|v| v.as_str());
    let size = m
        .pointer("/config/size")
        .and_then(|v| v.as_u64())
        .unwrap_or(0);
    let Some(config_digest) = digest
        .filter(|_| IMAGE_CONFIGS.contains(&media))
        .filter(|d| crate::names::digest(d).is_ok())
    else {
        return Ok(found);
    };
    if size > MAX_DOCUMENT {
        return Ok(found);
    }
    let bytes = call
        .run(|| conn.http.blob(&path, config_digest, MAX_DOCUMENT))
        .await?;
    let config: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| Failure {
        kind: FailureKind::Server,
        registry: conn.host.clone(),
        detail: format!("the image config of `{}` is not JSON: {e}", q.display()),
    })?;
    if found.platforms.is_empty() {
        let os = config.get("os").and_then(|v| v.as_str()).unwrap_or("");
        let arch = config
            .get("architecture")
            .and_then(|v| v.as_str())
            .unwrap_or("");
        if !os.is_empty() || !arch.is_empty() {
            found.platforms.push(format!("{os}/{arch}"));
        }
    }
    found.config = Some(ImageConfig {
        exposed: config
            .pointer("/config/ExposedPorts")
            .and_then(|v| v.as_object())
            .map(|m| m.keys().map(|k| k.to_ascii_lowercase()).collect())
            .unwrap_or_default(),
        user: config
            .pointer("/config/User")
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string(),
    });
    Ok(found)
}

async fn fetch_json(
    call: &Call<'_>,
    conn: &Conn,
    path: &str,
    digest: &str,
) -> Result<serde_json::Value, Failure> {
    let (bytes, _) = call
        .run(|| conn.http.manifest(path, digest, ACCEPT, MAX_DOCUMENT))
        .await?;
    serde_json::from_slice(&bytes).map_err(|e| Failure {
        kind: FailureKind::Server,
        registry: conn.host.clone(),
        detail: format!("the manifest `{digest}` is not JSON: {e}"),
    })
}

/// One request with the timeout, the retries and the error classification.
struct Call<'a> {
    options: &'a Options,
    registry: &'a str,
}

impl Call<'_> {
    async fn run<T, F, Fut>(&self, mut f: F) -> Result<T, Failure>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, super::http::Error>>,
    {
        let mut attempt: u32 = 0;
        loop {
            let (mut failure, retry) = match tokio::time::timeout(self.options.timeout, f()).await {
                Ok(Ok(v)) => return Ok(v),
                Ok(Err(e)) => e,
                Err(_) => (
                    Failure {
                        kind: FailureKind::Timeout,
                        registry: self.registry.to_string(),
                        detail: String::new(),
                    },
                    true,
                ),
            };
            if failure.kind == FailureKind::Timeout {
                failure.detail = format!("no answer within {}", seconds(self.options.timeout));
            }
            if !retry || attempt >= self.options.retries {
                if attempt > 0 {
                    failure.detail = format!("{} ({} attempts)", failure.detail, attempt + 1);
                }
                return Err(failure);
            }
            let backoff = Duration::from_millis(250u64.saturating_mul(1 << attempt.min(6)));
            tokio::time::sleep(backoff).await;
            attempt += 1;
        }
    }
}

fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}
