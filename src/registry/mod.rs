//! Talking to OCI registries (SPEC §8): the only part of shipc besides the
//! CLI that touches the network. [`oci`] resolves tags to manifest digests
//! and reads image configs with the `oci-client` crate; [`auth`] finds the
//! user's Docker credentials. What the answers *mean* (lock entries,
//! `R…` diagnostics, the image contract check) is decided in pure code, in
//! [`crate::lock::plan`]: this module only reports what the registry said.

#![allow(clippy::disallowed_methods)] // the network, credential files and the clock live here

pub mod auth;
pub mod http;
pub mod oci;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

/// One thing to ask a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// Full repository, registry host first (`127.0.0.1:5000/demo/api`).
    pub repository: String,
    /// A tag or a `sha256:…` digest.
    pub reference: Reference,
    /// Also read the manifest (and the image config) for the contract check.
    pub inspect: bool,
}

/// What a query names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reference {
    /// A tag, resolved to the digest it points at now.
    Tag(String),
    /// A digest, checked to exist.
    Digest(String),
}

impl Query {
    /// `repository:tag` or `repository@sha256:…`.
    pub fn display(&self) -> String {
        match &self.reference {
            Reference::Tag(t) => format!("{}:{t}", self.repository),
            Reference::Digest(d) => format!("{}@{d}", self.repository),
        }
    }

    /// The registry host (`host[:port]`), the first path component.
    pub fn host(&self) -> &str {
        self.repository
            .split('/')
            .next()
            .unwrap_or(&self.repository)
    }
}

/// What the registry said about one query.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Found {
    /// The manifest digest (of the index, for a multi-platform image).
    pub digest: String,
    /// `os/arch` of every manifest of an index, or of the image itself;
    /// empty when not inspected or not an image.
    pub platforms: Vec<String>,
    /// The image config of the linux/amd64 image (else the first one), when
    /// inspected and the artifact is a container image.
    pub config: Option<ImageConfig>,
}

/// The parts of an image config the contract check reads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImageConfig {
    /// `EXPOSE`d ports as `8080/tcp`.
    pub exposed: BTreeSet<String>,
    /// `USER` (empty when unset, which means root).
    pub user: String,
}

/// Why a query failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The kind, which picks the `R` code.
    pub kind: FailureKind,
    /// The registry host.
    pub registry: String,
    /// What the transport or registry said.
    pub detail: String,
}

/// The failure kinds that get their own diagnostic code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// HTTP 401 or 403.
    Unauthorized {
        /// 401 or 403.
        status: u16,
        /// Whether any credentials were sent.
        with_credentials: bool,
    },
    /// HTTP 404 / MANIFEST_UNKNOWN / NAME_UNKNOWN.
    NotFound,
    /// The TCP connection was refused.
    Refused,
    /// The host name did not resolve.
    Dns,
    /// The TLS handshake failed (unknown CA, wrong name, plain HTTP server).
    Tls,
    /// No answer within the timeout, after the retries.
    Timeout,
    /// Any other HTTP status or protocol violation, after the retries.
    Server,
    /// Credentials could not be read (Docker config, credential helper).
    Credentials,
}

/// How to reach registries: transport settings shared by every query.
#[derive(Debug, Clone)]
pub struct Options {
    /// Queries in flight at once.
    pub concurrency: usize,
    /// The bound of one request (connect, and each read).
    pub timeout: Duration,
    /// Extra attempts after a timeout or a 5xx answer.
    pub retries: u32,
    /// `host:port` spoken to over plain HTTP; everything else is TLS-verified.
    pub insecure: BTreeSet<String>,
    /// PEM files of extra trusted CAs, for every registry (`--ca-file`,
    /// `SSL_CERT_FILE`).
    pub ca_files: Vec<PathBuf>,
    /// Folders holding `<host:port>/*.crt` CAs (Docker's `certs.d`).
    pub certs_d: Vec<PathBuf>,
    /// The Docker config folder (`$DOCKER_CONFIG`, else `~/.docker`).
    pub docker_config: Option<PathBuf>,
    /// The containers auth files skopeo, podman and buildah write
    /// (`$REGISTRY_AUTH_FILE`, `$XDG_RUNTIME_DIR/containers/auth.json`,
    /// `~/.config/containers/auth.json`), asked after the Docker config.
    pub auth_files: Vec<PathBuf>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            concurrency: 8,
            timeout: Duration::from_secs(30),
            retries: 2,
            insecure: BTreeSet::new(),
            ca_files: Vec::new(),
            certs_d: Vec::new(),
            docker_config: None,
            auth_files: Vec::new(),
        }
    }
}

/// Progress of a batch: `(done, total, the query just finished)`.
pub type Progress<'a> = &'a mut dyn FnMut(usize, usize, &str);

/// Something that answers queries: the real registry client ([`oci::Oci`])
/// or a fake in tests.
pub trait DigestResolver {
    /// Answer every query; the answers are in query order.
    fn resolve(&self, queries: &[Query], progress: Progress<'_>) -> Vec<Result<Found, Failure>>;
}
