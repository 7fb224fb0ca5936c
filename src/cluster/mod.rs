//! The cluster verbs (SPEC §11): `plan`, `apply`, `history`, `rollback` and
//! `status` of helmfile envs, straight against a Kubernetes API server.
//!
//! Shaped like `registry/` + `lock/plan.rs`: the network is the small
//! [`Cluster`] trait (one implementation on kube-rs in `kube.rs`, fakes in
//! tests); what the answers mean — field diffs, readiness, ownership,
//! revision records — is decided in pure code (`diff.rs`, `ready.rs`,
//! `owner.rs`, `record.rs`); `engine.rs` sequences a verb on any
//! `Cluster`; `render.rs` turns an env into the objects to apply, through
//! the one Kubernetes lowering (`emit::k8s`), images pinned as the chart
//! pins them.

pub mod diff;
pub mod engine;
pub mod kube;
pub mod owner;
pub mod ready;
pub mod record;
pub mod render;
pub mod status;

use std::time::Duration;

/// A Kubernetes object as JSON.
pub type Json = serde_json::Value;

/// The field manager of every write (`kubectl apply --server-side
/// --field-manager=shipc`).
pub const FIELD_MANAGER: &str = "shipc";

/// The ownership labels every applied object carries.
pub const PROJECT_LABEL: &str = "ship.dev/project";
/// See [`PROJECT_LABEL`].
pub const ENV_LABEL: &str = "ship.dev/env";

/// Which object: apiVersion, kind, namespace (none for cluster-scoped
/// kinds) and name. Ordered, so sets of keys print in a stable order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Key {
    /// `apps/v1`.
    pub api_version: String,
    /// `Deployment`.
    pub kind: String,
    /// The namespace, or none for a cluster-scoped object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
}

impl Key {
    /// The key of an object (its apiVersion, kind and metadata).
    pub fn of(obj: &Json) -> Option<Key> {
        let s = |p: &str| obj.pointer(p).and_then(Json::as_str).map(str::to_string);
        Some(Key {
            api_version: s("/apiVersion")?,
            kind: s("/kind")?,
            namespace: s("/metadata/namespace").filter(|n| !n.is_empty()),
            name: s("/metadata/name")?,
        })
    }

    /// The key of a `kind`/`name` in a namespace.
    pub fn new(api_version: &str, kind: &str, namespace: Option<&str>, name: &str) -> Key {
        Key {
            api_version: api_version.into(),
            kind: kind.into(),
            namespace: namespace.map(str::to_string),
            name: name.into(),
        }
    }
}

impl std::fmt::Display for Key {
    /// `Deployment shop/web`, `Namespace shop`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// What discovery says of a kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kind {
    /// The resource (`deployments`).
    pub plural: String,
    /// Whether objects of the kind live in a namespace.
    pub namespaced: bool,
}

/// How to write an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Write {
    /// `dryRun=All`: the server computes the result and stores nothing.
    pub dry_run: bool,
    /// `force=true`: take over fields another field manager owns.
    pub force: bool,
}

/// Why a request failed. What it means for the user (a K code, a help
/// line) is decided by [`engine`], not here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No answer (connection refused, DNS, TLS).
    Unreachable(String),
    /// The request took longer than the client's timeout.
    Timeout(String),
    /// The server answered with an error status.
    Status {
        /// HTTP status (401, 403, 404, 409, 422, 500, …).
        code: u16,
        /// The `reason` of the Status object (`Conflict`, `Invalid`, …).
        reason: String,
        /// Its message.
        message: String,
    },
    /// Discovery does not know the apiVersion/kind.
    NotServed {
        /// apiVersion.
        api_version: String,
        /// kind.
        kind: String,
    },
    /// An answer that is not what the API promises.
    Invalid(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Unreachable(m) => write!(f, "the API server is unreachable: {m}"),
            Failure::Timeout(m) => write!(f, "the request timed out: {m}"),
            Failure::Status {
                code,
                reason,
                message,
            } => write!(f, "HTTP {code} {reason}: {message}"),
            Failure::NotServed { api_version, kind } => {
                write!(f, "the cluster does not serve {kind} in {api_version}")
            }
            Failure::Invalid(m) => write!(f, "unexpected answer: {m}"),
        }
    }
}

/// The network half of the cluster verbs: the few requests they make, on
/// JSON objects. Errors are [`Failure`]s; the engine decides what they
/// mean. The clock lives here too, so the engine stays pure.
#[allow(async_fn_in_trait)] // used on one thread, generically: no `Send` bound needed
pub trait Cluster {
    /// Discovery: the resource of an apiVersion/kind.
    async fn kind(&self, api_version: &str, kind: &str) -> Result<Kind, Failure>;
    /// The live object, or none.
    async fn get(&self, key: &Key) -> Result<Option<Json>, Failure>;
    /// Server-side apply of a whole object (field manager `shipc`); the
    /// object as the server stored (or, dry-run, would store) it.
    async fn apply(&self, key: &Key, object: &Json, how: Write) -> Result<Json, Failure>;
    /// Every object of a kind matching a label selector, in a namespace or
    /// (none) in all of them.
    async fn list(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        selector: &str,
    ) -> Result<Vec<Json>, Failure>;
    /// A JSON merge patch (RFC 7386) of an object, as `kubectl patch
    /// --type=merge` and `flux reconcile` send it: for annotations and
    /// switches (`spec.suspend`) that must not take over the object's
    /// other fields the way an apply would.
    async fn merge_patch(&self, key: &Key, patch: &Json) -> Result<Json, Failure>;
    /// Delete an object (background propagation, as kubectl does); gone already is fine.
    async fn delete(&self, key: &Key) -> Result<(), Failure>;
    /// Wait (between readiness polls).
    async fn sleep(&self, d: Duration);
    /// Time since the client was made (for `--timeout` and progress).
    fn elapsed(&self) -> Duration;
}
