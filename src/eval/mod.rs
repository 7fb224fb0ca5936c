//! Per-environment evaluation (SPEC §5, §13): every declaration is evaluated
//! once per env, its layers merged (stdlib default → template → body → env
//! override), and the result type-checked against its stdlib schema with
//! unit literals read by the expected type. Port references become Service
//! addresses; every reference to another declaration records a graph edge
//! with its span (none under `weak()` or through `self`).
//!
//! Type checking happens here, on values: an expression is evaluated with the
//! type it is expected to have, and the result is coerced to that type. Both
//! branches of an `if` are not checked; only the one the env takes (noted in
//! ARCHITECTURE.md). Codes owned: E1001, E1003, E1012–E1015, E2001–E2029.

mod body;
mod coerce;
mod expr;
mod member;
pub use crate::units;

mod address;
mod layers;

use crate::diag::{suggest, Code, Diagnostic, Diagnostics};
use crate::model::{self, DeclRef, Edge, EdgeData, Fields, Value, V};
use crate::names;
use crate::program::types::{ParamTy, Ty};
use crate::program::Program;
use crate::source::Span;
use crate::syntax::ast::{self, DeclKind, EntryKind};
use std::collections::{BTreeMap, BTreeSet};

/// The per-declaration evaluation frame.
#[derive(Debug, Clone, Default)]
struct Frame {
    /// What `self` names.
    self_: Option<DeclRef>,
    /// The declaration edges are recorded from (None: record nothing).
    current: Option<DeclRef>,
    /// Template parameters, innermost last.
    locals: Vec<Fields>,
    /// The field being evaluated (edge `why`).
    why: String,
    /// Whether `env` may be referenced.
    env_allowed: bool,
    /// Templates being expanded (recursion guard).
    templates: Vec<String>,
    /// Field paths of the records being evaluated (nested bodies).
    why_stack: Vec<String>,
}

impl Frame {
    /// The frame a declaration is evaluated in: `self` is it, edges are
    /// recorded from it, `env` may be read.
    fn of_decl(id: &DeclRef) -> Frame {
        Frame {
            self_: Some(id.clone()),
            current: Some(id.clone()),
            env_allowed: true,
            ..Frame::default()
        }
    }
}

/// Ports of a declaration, as seen from references.
#[derive(Debug, Clone, PartialEq)]
pub struct PortsInfo {
    host: String,
    k8s_name: String,
    /// label → (service port, container port)
    ports: BTreeMap<String, (i64, i64)>,
    /// Port labels kept off the Service (`internal`): not addressable.
    pub(crate) internal: BTreeSet<String>,
    /// An infra's further Services: name → (host, label → port).
    pub(crate) services: BTreeMap<String, (String, BTreeMap<String, i64>)>,
    /// Whether computing it read neither the env nor another address: then
    /// it is the same in every env with the same release suffix that does
    /// not override the declaration.
    pub(crate) own: bool,
}

/// Which top-level fields a layer evaluation looks at.
#[derive(Clone, Copy)]
enum Filter<'a> {
    All,
    Addressing,
    /// These fields (a declaration evaluated again for the fields that
    /// read the env).
    Only(&'a [model::Key]),
}

impl Filter<'_> {
    fn admits(self, field: &str) -> bool {
        match self {
            Filter::All => true,
            Filter::Only(fields) => fields.iter().any(|f| f == field),
            Filter::Addressing => {
                matches!(
                    field,
                    "ports" | "expose" | "name" | "host" | "namespace" | "internal" | "services"
                )
            }
        }
    }
}

/// The evaluator for one environment (or for no env at all).
pub struct Evaluator<'p> {
    p: &'p Program,
    diags: Diagnostics,
    env: Option<Value>,
    env_name: Option<String>,
    suffix: String,
    frame: Frame,
    edges: Vec<Edge>,
    lets_active: Vec<String>,
    ports: BTreeMap<DeclRef, Option<std::rc::Rc<PortsInfo>>>,
    ports_active: BTreeSet<DeclRef>,
    overrides: BTreeMap<DeclRef, Vec<&'p ast::Entry>>,
    weak_depth: u32,
    /// Constant defaults of record fields, by the default expression's
    /// address (doubled, plus `keep_unset`).
    defaults: BTreeMap<usize, Value>,
    /// Stdlib lets (constants), by the `Let`'s address.
    std_consts: BTreeMap<usize, Value>,
    /// How many record defaults are being completed inside each other.
    default_depth: u32,
    /// Whether completed records keep unset optionals as `V::None` entries.
    /// Declaration values (services, infra, images) drop them: nothing reads
    /// a declaration's record by member access, and every reader of the
    /// model (`Value::get`, `entries`) treats `V::None` as absent, so they
    /// were only memory. Env, project and `let` records keep them, so that
    /// `env.domain` is an unset value, not an unknown field.
    keep_unset: bool,
    /// Evaluated lets with the declarations they reference.
    let_cache: BTreeMap<String, LetCached>,
    /// What computing each declaration's address reported (replayed on
    /// every use, so each declaration's diagnostics are complete).
    ports_diags: BTreeMap<DeclRef, Vec<Diagnostic>>,
    /// The declarations whose ports, host or name were read (addresses),
    /// since the last [`Evaluator::take_touched`]: what a declaration's
    /// value depends on besides its own layers (incremental checking).
    touched: BTreeSet<DeclRef>,
    /// How many times the env was read (`env`, `env.F`, a message naming
    /// the env, a let that did): a declaration whose evaluation left it
    /// unchanged, and that no override of the env touches, evaluates the
    /// same in every env whose addresses it reads are the same
    /// (see `check::shared`). Computing an address does not count: the
    /// address itself is compared.
    env_reads: u64,
    /// While a declaration is evaluated for sharing: the top-level fields
    /// whose values read the env, and how many reads they account for.
    field_reads: Option<(BTreeSet<model::Key>, u64)>,
    /// Whether the entries being applied are a declaration's own top-level
    /// ones, while `field_reads` notes them.
    top_level: bool,
    /// While `field_reads` notes: the addresses each top-level field read,
    /// which are then not in `touched` (see
    /// [`Evaluator::take_field_touches`]).
    field_touches: BTreeMap<model::Key, BTreeSet<DeclRef>>,
}

/// An evaluated let: its value, the declarations it references, what it
/// reported and which addresses it read — replayed on every use.
#[derive(Debug, Clone)]
pub(crate) struct LetCached {
    pub(crate) value: Value,
    pub(crate) targets: Vec<Edge>,
    pub(crate) diags: Vec<Diagnostic>,
    pub(crate) touched: BTreeSet<DeclRef>,
    /// Whether evaluating it read the env.
    pub(crate) reads_env: bool,
}

/// The pseudo-declaration that lets are evaluated "from" while their edges
/// are collected.
pub(crate) fn let_sentinel() -> DeclRef {
    DeclRef {
        kind: DeclKind::Env,
        name: String::new(),
    }
}

/// The names of the env schema's fields.
fn env_fields(p: &Program) -> BTreeSet<String> {
    p.types
        .record(&p.schema(DeclKind::Env))
        .map(|r| r.fields.keys().map(|k| k.to_string()).collect())
        .unwrap_or_default()
}

impl<'p> Evaluator<'p> {
    /// An evaluator with no env bound.
    pub fn new(p: &'p Program) -> Evaluator<'p> {
        Evaluator {
            p,
            diags: Diagnostics::new(),
            env: None,
            env_name: None,
            suffix: String::new(),
            frame: Frame::default(),
            edges: Vec::new(),
            lets_active: Vec::new(),
            ports: BTreeMap::new(),
            ports_active: BTreeSet::new(),
            overrides: BTreeMap::new(),
            weak_depth: 0,
            defaults: BTreeMap::new(),
            std_consts: BTreeMap::new(),
            default_depth: 0,
            keep_unset: true,
            let_cache: BTreeMap::new(),
            ports_diags: BTreeMap::new(),
            touched: BTreeSet::new(),
            env_reads: 0,
            field_reads: None,
            field_touches: BTreeMap::new(),
            top_level: false,
        }
    }

    /// Take the diagnostics found so far.
    pub fn take_diagnostics(&mut self) -> Diagnostics {
        std::mem::take(&mut self.diags)
    }

    /// Take the set of declarations read through addresses so far.
    pub fn take_touched(&mut self) -> BTreeSet<DeclRef> {
        std::mem::take(&mut self.touched)
    }

    /// The addresses each top-level field of the declarations evaluated by
    /// [`Evaluator::eval_decl_noting_fields`] since the last call read
    /// (fields that read none are absent). They are kept out of
    /// [`Evaluator::take_touched`]'s, which then holds only what was read
    /// outside those fields.
    pub fn take_field_touches(&mut self) -> BTreeMap<model::Key, BTreeSet<DeclRef>> {
        std::mem::take(&mut self.field_touches)
    }

    /// The diagnostics found so far.
    pub fn into_diagnostics(self) -> Diagnostics {
        self.diags
    }

    fn err(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn types(&self) -> &'p crate::program::types::Types {
        &self.p.types
    }

    /// Evaluate one env's own fields (its body minus overrides), derived
    /// defaults filled. Also splits off the env's overrides.
    pub fn bind_env(&mut self, decl: &'p ast::Decl, project: &Value) {
        let fields = env_fields(self.p);
        let mut own: Vec<(&'p ast::Entry, usize)> = Vec::new();
        let mut overrides: BTreeMap<DeclRef, Vec<&'p ast::Entry>> = BTreeMap::new();
        for e in &decl.body.entries {
            let first = e.path.first().map(|k| k.name.as_str()).unwrap_or("");
            if matches!(e.kind, EntryKind::Labelled(_)) || fields.contains(first) {
                own.push((e, 0));
                continue;
            }
            let target = [
                DeclKind::Service,
                DeclKind::Infra,
                DeclKind::Config,
                DeclKind::Object,
            ]
            .into_iter()
            .find(|k| self.p.decl(*k, first).is_some());
            match target {
                Some(kind) if e.path.len() >= 2 => overrides
                    .entry(DeclRef {
                        kind,
                        name: first.to_string(),
                    })
                    .or_default()
                    .push(e),
                Some(_) => {
                    let k = e.path.first().map(|k| k.span).unwrap_or(e.span);
                    self.err(
                        Diagnostic::new(
                            Code::E2001,
                            k,
                            format!("`{first}` is a declaration, not an env field"),
                        )
                        .label("an override needs a field")
                        .help(format!(
                            "override one of its fields, e.g. `{first}.replicas = 2`"
                        )),
                    );
                }
                None => {
                    let k = e.path.first().map(|k| k.span).unwrap_or(e.span);
                    let field_names: Vec<String> = fields.iter().cloned().collect();
                    let mut decls: Vec<String> = self
                        .p
                        .of(DeclKind::Service)
                        .map(|(n, _)| n.clone())
                        .collect();
                    decls.extend(self.p.of(DeclKind::Infra).map(|(n, _)| n.clone()));
                    // `apii.replicas`: a misspelt declaration is a names
                    // error (E1001); `regsitry = …` a misspelt field (E2001).
                    let decl_hint = suggest::did_you_mean(first, &decls);
                    let field_hint = suggest::did_you_mean(first, &field_names);
                    let d = match (decl_hint, field_hint) {
                        (Some(h), None) => Diagnostic::new(
                            Code::E1001,
                            k,
                            format!("unknown declaration `{first}` in an override"),
                        )
                        .label("not a service or infra")
                        .help(h),
                        (dh, fh) => Diagnostic::new(
                            Code::E2001,
                            k,
                            format!("unknown env field or declaration `{first}`"),
                        )
                        .label("not a field of `env` nor a service or infra")
                        .maybe_help(fh.or(dh)),
                    };
                    self.err(d);
                }
            }
        }
        let saved = std::mem::take(&mut self.frame);
        let schema = self.p.schema(DeclKind::Env);
        let mut acc = Fields::new();
        self.apply_entries(&own, &schema, Filter::All, &mut acc);
        self.frame = saved;
        let mut env = self.coerce_report(Value::new(V::Record(acc), decl.body.span), &schema, true);
        let kind = env
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("tilt")
            .to_string();
        if let V::Record(m) = &mut env.kind {
            let span = decl.name.span;
            m.insert("name", Value::new(V::Str(decl.name.name.clone()), span));
            if m.get("images").is_none_or(|v| matches!(v.kind, V::None)) {
                let mode = if kind == "tilt" { "build" } else { "pinned" };
                m.insert("images", Value::new(V::Str(mode.into()), span));
            }
            if m.get("release_suffix")
                .is_none_or(|v| matches!(v.kind, V::None))
            {
                let sfx = if kind == "tilt" { "-tilt" } else { "" };
                m.insert("release_suffix", Value::new(V::Str(sfx.into()), span));
            }
            let ns = project
                .get("namespace")
                .or_else(|| project.get("name"))
                .and_then(Value::as_str)
                .unwrap_or("default")
                .to_string();
            if let Some(Value {
                kind: V::Record(c), ..
            }) = m.get_mut("cluster")
            {
                if c.get("namespace").is_none_or(|v| matches!(v.kind, V::None)) {
                    c.insert("namespace", Value::new(V::Str(ns), span));
                }
            }
        }
        self.suffix = env
            .get("release_suffix")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        self.env_name = Some(decl.name.name.clone());
        self.env = Some(env);
        self.overrides = overrides;
        self.ports.clear();
        self.ports_diags.clear();
        // Lets seen while evaluating the env body ran without `env`.
        self.let_cache.clear();
    }

    /// The bound env record.
    pub fn env_value(&self) -> Option<&Value> {
        self.env.as_ref()
    }

    /// Evaluate a `project { }` or `policy { }` block against a schema.
    pub fn eval_block(&mut self, block: &ast::Block, schema: &Ty) -> Value {
        let saved = std::mem::take(&mut self.frame);
        let entries: Vec<(&ast::Entry, usize)> =
            block.body.entries.iter().map(|e| (e, 0)).collect();
        let mut acc = Fields::new();
        self.apply_entries(&entries, schema, Filter::All, &mut acc);
        self.frame = saved;
        self.coerce_report(Value::new(V::Record(acc), block.body.span), schema, true)
    }

    /// Evaluate a declaration fully, recording its edges.
    pub fn eval_decl(&mut self, kind: DeclKind, name: &str) -> Option<model::Decl> {
        let decl = self.p.decl(kind, name)?;
        let id = DeclRef {
            kind,
            name: name.to_string(),
        };
        let saved = std::mem::replace(&mut self.frame, Frame::of_decl(&id));
        let acc = self.layers(decl, &id, Filter::All);
        let schema = self.p.schema(kind);
        if self.overrides.contains_key(&id) {
            // The env's override is part of the value.
            self.env_reads += 1;
        }
        self.keep_unset = false;
        let mut value =
            self.coerce_report(Value::new(V::Record(acc), decl.body.span), &schema, true);
        self.keep_unset = true;
        if kind == DeclKind::Service {
            let unset = value.get("image").is_none();
            if unset && self.p.decl(DeclKind::Image, name).is_some() {
                let to = DeclRef {
                    kind: DeclKind::Image,
                    name: name.to_string(),
                };
                self.frame.why = "image".into();
                self.edge(to.clone(), decl.name.span, false);
                if let V::Record(m) = &mut value.kind {
                    // The record was built to size: one more entry, not twice the room.
                    m.reserve_exact(1);
                    m.insert("image", Value::new(V::Decl(to), decl.name.span));
                }
            }
        }
        self.frame = saved;
        let k8s_name = self.k8s_name(&id, &value);
        Some(model::Decl {
            id,
            k8s_name,
            name_span: decl.name.span,
            decl_span: decl.span,
            value: value.into(),
        })
    }

    /// A declaration's Kubernetes name in this env: its `name` or its own,
    /// with the env's release suffix on what gets one.
    pub fn k8s_name(&self, id: &DeclRef, value: &Value) -> String {
        let base = value
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| names::k8s_name(&id.name));
        match id.kind {
            DeclKind::Service | DeclKind::Config | DeclKind::Object => {
                format!("{base}{}", self.suffix)
            }
            _ => base,
        }
    }

    /// Whether the env overrides a field of the declaration.
    pub fn has_override(&self, id: &DeclRef) -> bool {
        self.overrides.contains_key(id)
    }

    /// Evaluate a declaration fully, as [`Evaluator::eval_decl`], and say
    /// which of its top-level fields read the env: `None` when the env was
    /// read outside of them too (template arguments, defaults, an override).
    pub fn eval_decl_noting_fields(
        &mut self,
        kind: DeclKind,
        name: &str,
    ) -> (Option<model::Decl>, Option<Vec<model::Key>>) {
        let before = self.env_reads;
        let outer = self.field_reads.replace((BTreeSet::new(), 0));
        let d = self.eval_decl(kind, name);
        let noted = std::mem::replace(&mut self.field_reads, outer);
        let fields = noted
            .filter(|(_, counted)| *counted == self.env_reads - before)
            .map(|(fields, _)| fields.into_iter().collect());
        (d, fields)
    }

    /// A declaration's `fields` evaluated in this env again (in the order
    /// of `fields`), to replace those of `base`, its value where only they
    /// read the env ([`model::Value::with_fields`]). `None` when a field is
    /// missing or does not type-check: the caller evaluates the declaration
    /// whole.
    pub fn eval_decl_fields(
        &mut self,
        id: &DeclRef,
        fields: &[model::Key],
        base: &Value,
    ) -> Option<Vec<Value>> {
        let decl = self.p.decl(id.kind, &id.name)?;
        let saved = std::mem::replace(&mut self.frame, Frame::of_decl(id));
        let mut acc = self.layers(decl, id, Filter::Only(fields));
        self.frame = saved;
        let schema = self.p.schema(id.kind);
        let record = self.types().record(&schema)?;
        self.keep_unset = false;
        let mut made = Vec::with_capacity(fields.len());
        for f in fields {
            let (Some(x), Some(ty)) = (acc.remove(f), record.fields.get(f).map(|t| &t.ty)) else {
                break;
            };
            match self.coerce(x, ty, true) {
                Ok(x) if base.get(f).is_some() => made.push(x),
                _ => break,
            }
        }
        self.keep_unset = true;
        (made.len() == fields.len()).then_some(made)
    }

    /// Forget the edges recorded from `n` on.
    pub fn truncate_edges(&mut self, n: usize) {
        self.edges.truncate(n);
    }

    /// Forget the diagnostics reported from `n` on.
    pub fn truncate_diags(&mut self, n: usize) {
        self.diags.truncate(n);
    }

    /// How many times the env has been read so far (see the field).
    pub fn env_reads(&self) -> u64 {
        self.env_reads
    }

    /// How many edges have been recorded since the last
    /// [`Evaluator::take_edges`].
    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }

    /// The edges recorded from `from` on.
    pub fn edges_since(&self, from: usize) -> &[Edge] {
        self.edges.get(from..).unwrap_or_default()
    }

    /// How many diagnostics have been reported so far.
    pub fn diag_count(&self) -> usize {
        self.diags.len()
    }

    /// The diagnostics reported from `from` on.
    pub fn diags_since(&self, from: usize) -> Vec<Diagnostic> {
        self.diags.since(from)
    }

    /// Record what evaluating a declaration in another env recorded: its
    /// edges and its diagnostics.
    pub fn replay(&mut self, edges: &[Edge], diags: &[Diagnostic]) {
        self.edges.extend_from_slice(edges);
        self.diags.extend(diags.iter().cloned());
    }

    /// Take the edges recorded so far.
    pub fn take_edges(&mut self) -> Vec<Edge> {
        std::mem::take(&mut self.edges)
    }

    /// Record an edge from the current declaration.
    fn edge(&mut self, to: DeclRef, span: Span, weak: bool) {
        self.edge_to_port(to, span, weak, None);
    }

    /// Record an edge from the current declaration to a port of `to`.
    fn edge_to_port(&mut self, to: DeclRef, span: Span, weak: bool, port: Option<i64>) {
        let Some(from) = self.frame.current.clone() else {
            return;
        };
        if from == to {
            return;
        }
        self.edges.push(Edge::new(EdgeData {
            from,
            to,
            why: self.frame.why.clone(),
            span,
            port,
            weak: weak || self.weak_depth > 0,
        }));
    }
}

impl Evaluator<'_> {
    /// Coerce a value to a type (completing records), reporting problems.
    pub fn coerce_public(&mut self, v: Value, ty: &Ty) -> Value {
        self.coerce_report(v, ty, true)
    }
}
