//! The evaluated model: per-environment values where every value keeps the
//! span it came from (invariant 4), so graph, policy and emit errors point at
//! `.ship` lines.

use crate::source::Span;
use crate::syntax::ast::DeclKind;
use std::collections::BTreeMap;

pub mod dev;
mod fields;
pub mod view;
pub use fields::{Fields, Hint, Key};

/// What a quantity measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum QuantityKind {
    /// Millicores.
    Cpu,
    /// Bytes.
    Memory,
    /// Bytes.
    Storage,
    /// Milliseconds.
    Duration,
    /// Percent (`70%` is 70).
    Percent,
}

/// A reference to a declaration.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DeclRef {
    /// The kind.
    pub kind: DeclKind,
    /// The declaration name.
    pub name: String,
}

/// The in-cluster address of a Service (or infra) port.
#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    /// The declaration.
    pub target: DeclRef,
    /// Host name (suffix applied for services).
    pub host: String,
    /// The Service port.
    pub port: i64,
    /// The container port.
    pub number: i64,
}

impl Address {
    /// `host:port`.
    pub fn host_port(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// A value with the span of the expression that produced it.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    /// The value.
    pub kind: V,
    /// Where it came from.
    pub span: Span,
}

// A model holds millions of values (a record entry is its name, its value
// and 8 bytes): keep large or rare payloads boxed so every value stays this
// size.
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<Value>() == 48);

/// Value forms.
#[derive(Debug, Clone, PartialEq)]
pub enum V {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A Bool.
    Bool(bool),
    /// A number with a unit not yet interpreted (no expected type yet).
    Number(String),
    /// An interpreted quantity: `amount` in millicores, bytes or milliseconds;
    /// `text` as written (emitted verbatim).
    Quantity(Box<Quantity>),
    /// `[…]`
    List(Vec<Value>),
    /// Records and maps.
    Record(Fields),
    /// `request .. limit`, or a request only.
    Range(Box<Value>, Option<Box<Value>>),
    /// A name that may refer to a declaration of several kinds, not yet
    /// resolved by an expected type.
    Name {
        /// The name (a `Box<str>`, so that every value stays 32 bytes).
        name: Box<str>,
        /// Under `weak()` or through `self`: adds no graph edge.
        weak: bool,
    },
    /// A resolved declaration reference.
    Decl(DeclRef),
    /// `X.port` (an intermediate value; boxed, so that every value stays 32 bytes).
    Ports(Box<DeclRef>, bool),
    /// `X.port.P`.
    Addr(Box<Address>),
    /// A stdlib function's result: `http("/", port = http)`.
    Call(Box<Call>),
    /// `std`, `std.security`.
    Namespace(String),
    /// An unset optional field.
    None,
    /// The result of an expression that already failed: unifies with
    /// anything, so one mistake is reported once.
    Unknown,
}

/// An interpreted quantity (boxed in [`V::Quantity`], as [`Call`] is).
#[derive(Debug, Clone, PartialEq)]
pub struct Quantity {
    /// What it measures.
    pub kind: QuantityKind,
    /// The amount in base units: millicores, bytes or milliseconds.
    pub amount: f64,
    /// As written (emitted verbatim).
    pub text: String,
}

/// A stdlib function's result (boxed in [`V::Call`]: calls are rare, and
/// every other value would otherwise be as large as one).
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The function.
    pub func: std::sync::Arc<str>,
    /// Its result type.
    pub ret: std::sync::Arc<str>,
    /// Arguments by parameter name (defaults filled, unset optionals absent).
    pub args: Fields,
}

impl Value {
    /// A value at a span.
    pub fn new(kind: V, span: Span) -> Value {
        Value { kind, span }
    }

    /// Whether two values are the same in every respect: `==`, and also
    /// the order each record's keys were set in (`==` ignores it;
    /// [`Fields::in_order`] reads it). Values equal this way may share one
    /// allocation.
    pub fn identical(&self, other: &Value) -> bool {
        if self.span != other.span {
            return false;
        }
        match (&self.kind, &other.kind) {
            (V::Record(a), V::Record(b)) => a.identical(b),
            (V::List(a), V::List(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.identical(y))
            }
            (V::Range(a, b), V::Range(c, d)) => {
                a.identical(c)
                    && match (b, d) {
                        (Some(b), Some(d)) => b.identical(d),
                        (None, None) => true,
                        _ => false,
                    }
            }
            (V::Call(a), V::Call(b)) => {
                a.func == b.func && a.ret == b.ret && a.args.identical(&b.args)
            }
            (a, b) => a == b,
        }
    }

    /// This record with `fields` set to `values` in place (each keeps its
    /// position in [`Fields::in_order`]), sharing this one's entries (see
    /// [`Fields::with_values`]); `None` when it is not a record or lacks
    /// one of them.
    pub fn with_fields(&self, fields: &[Key], values: Vec<Value>) -> Option<Value> {
        let V::Record(record) = &self.kind else {
            return None;
        };
        let set = fields.iter().map(Key::as_str).zip(values);
        Some(Value::new(V::Record(record.with_values(set)?), self.span))
    }

    /// Whether `fields` of this record are identical to `values` (see
    /// [`Value::identical`]).
    pub fn has_fields(&self, fields: &[Key], values: &[Value]) -> bool {
        fields.len() == values.len()
            && fields
                .iter()
                .zip(values)
                .all(|(f, x)| self.get(f).is_some_and(|old| old.identical(x)))
    }

    /// The poison value.
    pub fn unknown(span: Span) -> Value {
        Value::new(V::Unknown, span)
    }

    /// A field of a record value.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match &self.kind {
            V::Record(m) => m.get(key).filter(|v| !matches!(v.kind, V::None)),
            V::Call(c) => c.args.get(key).filter(|v| !matches!(v.kind, V::None)),
            _ => None,
        }
    }

    /// [`Value::get`] for a view's accessor: `hint` remembers where `key`
    /// was found last time. Records of one schema are complete (every field
    /// present) and sorted, so the key sits at the same place in all of them
    /// and one comparison finds it; a miss searches as `get` does.
    pub fn get_hinted(&self, key: &str, hint: &Hint) -> Option<&Value> {
        match &self.kind {
            V::Record(m) => m
                .get_hinted(key, hint)
                .filter(|v| !matches!(v.kind, V::None)),
            V::Call(c) => c
                .args
                .get_hinted(key, hint)
                .filter(|v| !matches!(v.kind, V::None)),
            _ => None,
        }
    }

    /// A field of a record value, to change it.
    pub fn field_mut(&mut self, key: &str) -> Option<&mut Value> {
        match &mut self.kind {
            V::Record(m) => m.get_mut(key).filter(|v| !matches!(v.kind, V::None)),
            _ => None,
        }
    }

    /// A dotted path into nested records.
    pub fn path(&self, path: &str) -> Option<&Value> {
        path.split('.').try_fold(self, |v, k| v.get(k))
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            V::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if this is one.
    pub fn as_int(&self) -> Option<i64> {
        match self.kind {
            V::Int(n) => Some(n),
            _ => None,
        }
    }

    /// The Bool, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self.kind {
            V::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The items, if this is a list.
    pub fn as_list(&self) -> &[Value] {
        match &self.kind {
            V::List(items) => items,
            _ => &[],
        }
    }

    /// The strings of a list field (`labels`, `command`); non-strings skipped.
    pub fn strings(&self) -> Vec<&str> {
        self.as_list().iter().filter_map(Value::as_str).collect()
    }

    /// The entries, if this is a record or map (unset entries skipped).
    pub fn entries(&self) -> impl Iterator<Item = (&Key, &Value)> {
        let map = match &self.kind {
            V::Record(m) => Some(m),
            _ => None,
        };
        map.into_iter()
            .flat_map(|m| m.iter())
            .filter(|(_, v)| !matches!(v.kind, V::None))
    }

    /// As [`Value::entries`], in the order the keys were first set (source
    /// order through the layers: env vars).
    pub fn entries_in_order(&self) -> Vec<(&Key, &Value)> {
        match &self.kind {
            V::Record(m) => m
                .in_order()
                .into_iter()
                .filter(|(_, v)| !matches!(v.kind, V::None))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Whether this is the poison value.
    pub fn is_unknown(&self) -> bool {
        matches!(self.kind, V::Unknown)
    }

    /// A short description for messages ("a string", "Service `api`").
    pub fn describe(&self) -> String {
        match &self.kind {
            V::Str(s) => format!("String \"{}\"", truncate(s)),
            V::Int(n) => format!("Int `{n}`"),
            V::Bool(b) => format!("Bool `{b}`"),
            V::Number(t) => format!("the number `{t}`"),
            V::Quantity(q) => format!("{:?} `{}`", q.kind, q.text),
            V::List(_) => "a list".into(),
            V::Record(_) => "a record".into(),
            V::Range(..) => "a range".into(),
            V::Name { name, .. } => format!("`{name}`"),
            V::Decl(d) => format!("{} `{}`", d.kind.type_name(), d.name),
            V::Ports(d, _) => format!("the ports of `{}`", d.name),
            V::Addr(a) => format!("the address `{}`", a.host_port()),
            V::Call(c) => format!("{} (from `{}()`)", c.ret, c.func),
            V::Namespace(n) => format!("the module `{n}`"),
            V::None => "an unset value".into(),
            V::Unknown => "an unknown value".into(),
        }
    }
}

fn truncate(s: &str) -> String {
    if s.chars().count() > 40 {
        let t: String = s.chars().take(37).collect();
        format!("{t}...")
    } else {
        s.to_string()
    }
}

/// Merge `top` over `base`: records and maps key by key, anything else replaced.
pub fn merge(base: Value, top: Value) -> Value {
    match (base.kind, top.kind) {
        (V::Record(mut b), V::Record(t)) => {
            // A key set again keeps its place; new keys go last, in `top`'s order.
            for (k, v) in t.into_in_order() {
                b.upsert(k, v, merge);
            }
            Value::new(V::Record(b), top.span)
        }
        (_, kind) => Value::new(kind, top.span),
    }
}

/// What a container besides the main one does in its pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerRole {
    /// `init_containers`: runs to completion, in order, before the others start.
    Init,
    /// `sidecars`: runs beside the main container for the pod's life.
    Sidecar,
}

/// Every container of a service's pod besides the main one (its
/// `container()` records), init containers first, in source order. The one
/// list each phase walks (images, lock keys, policy, checks, lowering).
pub fn extra_containers(service: &Value) -> impl Iterator<Item = (ContainerRole, &Value)> {
    let s = view::Service::of(service);
    let inits = s.init_containers().map(Value::as_list).unwrap_or(&[]);
    let sidecars = s.sidecars().map(Value::as_list).unwrap_or(&[]);
    inits
        .iter()
        .map(|c| (ContainerRole::Init, c))
        .chain(sidecars.iter().map(|c| (ContainerRole::Sidecar, c)))
}

/// One evaluated declaration in one environment.
#[derive(Debug, Clone)]
pub struct Decl {
    /// Which declaration.
    pub id: DeclRef,
    /// The Kubernetes name, suffix applied (services) — or the image repository.
    pub k8s_name: String,
    /// The name's span in the declaration.
    pub name_span: Span,
    /// The whole declaration.
    pub decl_span: Span,
    /// The completed record (every schema field present; unset optionals
    /// `None`). Envs that evaluate a declaration the same share one record
    /// (see `check::shared`); a change for one env is `Arc::make_mut`.
    pub value: std::sync::Arc<Value>,
}

/// A dependency edge found while evaluating: one allocation shared by
/// every copy (the first env's model, what it kept for others, each env
/// taking the declaration), so copying an edge copies a pointer. Its parts
/// are read through [`EdgeData`].
#[derive(Clone, PartialEq)]
pub struct Edge(std::sync::Arc<EdgeData>);

impl Edge {
    /// A new edge.
    pub fn new(data: EdgeData) -> Edge {
        Edge(std::sync::Arc::new(data))
    }
}

impl std::ops::Deref for Edge {
    type Target = EdgeData;
    fn deref(&self) -> &EdgeData {
        &self.0
    }
}

impl std::fmt::Debug for Edge {
    /// As the edge's parts, named `Edge`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let e = &*self.0;
        f.debug_struct("Edge")
            .field("from", &e.from)
            .field("to", &e.to)
            .field("why", &e.why)
            .field("span", &e.span)
            .field("port", &e.port)
            .field("weak", &e.weak)
            .finish()
    }
}

/// The parts of an [`Edge`].
#[derive(Debug, Clone, PartialEq)]
pub struct EdgeData {
    /// The declaration that refers.
    pub from: DeclRef,
    /// The declaration referred to.
    pub to: DeclRef,
    /// Why: the field it came from (`image`, `env_vars.API`, `depends_on`).
    pub why: String,
    /// The reference's span.
    pub span: Span,
    /// The container port of `X.port.P` (None: a reference without a
    /// port, `X.host`, `depends_on`, `image`).
    pub port: Option<i64>,
    /// Under `weak()` or through `self`: no ordering (the graph skips it),
    /// but still traffic (network policies follow it).
    pub weak: bool,
}

/// One environment, evaluated.
#[derive(Debug, Clone)]
pub struct EnvModel {
    /// The env's name.
    pub name: String,
    /// The env declaration's name span.
    pub span: Span,
    /// The env record, derived defaults filled (`name`, `images`,
    /// `release_suffix`, `cluster.namespace`, `routing`).
    pub env: Value,
    /// Images used by the deployed services, by declaration name.
    pub images: BTreeMap<String, Decl>,
    /// Deployed services, by declaration name.
    pub services: BTreeMap<String, Decl>,
    /// Deployed infra, by declaration name.
    pub infras: BTreeMap<String, Decl>,
    /// ConfigMaps the deployed services use, by declaration name.
    pub configs: BTreeMap<String, Decl>,
    /// Raw Kubernetes objects (every env deploys every one), by
    /// declaration name.
    pub objects: BTreeMap<String, Decl>,
    /// Dependency edges between deployed declarations.
    pub edges: Vec<Edge>,
}

/// An env's delivery kind: the stdlib's `EnvKind` union. Match it
/// exhaustively: a new kind is then a compile error wherever a back end
/// decides by kind, never a silent fall-through to another target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvKind {
    /// A Tiltfile and dev manifests.
    Tilt,
    /// A Helmfile with the built-in chart.
    Helmfile,
    /// A Flux GitOps tree.
    Flux,
}

impl EnvKind {
    /// The kind as written in `.ship` files.
    pub fn as_str(self) -> &'static str {
        match self {
            EnvKind::Tilt => "tilt",
            EnvKind::Helmfile => "helmfile",
            EnvKind::Flux => "flux",
        }
    }

    /// Does this kind deploy images by digest?
    pub fn pinned(self) -> bool {
        match self {
            EnvKind::Tilt => false,
            EnvKind::Helmfile | EnvKind::Flux => true,
        }
    }
}

impl EnvModel {
    /// The deployed declarations of a kind (none for `env`).
    pub fn decls(&self, kind: DeclKind) -> Option<&BTreeMap<String, Decl>> {
        match kind {
            DeclKind::Image => Some(&self.images),
            DeclKind::Service => Some(&self.services),
            DeclKind::Infra => Some(&self.infras),
            DeclKind::Config => Some(&self.configs),
            DeclKind::Object => Some(&self.objects),
            DeclKind::Env => None,
        }
    }

    /// The env's delivery kind (`tilt`, `helmfile`, `flux`).
    pub fn kind(&self) -> &str {
        self.env_kind().as_str()
    }

    /// The env's name as a label value (`prod_eu` → `prod-eu`): the
    /// `ship.dev/env` label, Flux object names, release records.
    pub fn label(&self) -> String {
        crate::names::k8s_name(&self.name)
    }

    /// The env's delivery kind. The checker admits only the union's
    /// values, so anything else (an env that failed to check) is `Tilt`,
    /// the kind that deploys nothing pinned.
    pub fn env_kind(&self) -> EnvKind {
        self.settings().env_kind()
    }

    /// The release suffix.
    pub fn suffix(&self) -> &str {
        self.settings()
            .release_suffix()
            .and_then(Value::as_str)
            .unwrap_or("")
    }
}
