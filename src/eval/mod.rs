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

use crate::diag::{suggest, Code, Diagnostic, Diagnostics};
use crate::model::{self, DeclRef, Edge, Fields, Value, V};
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
}

/// Which top-level fields a layer evaluation looks at.
#[derive(Clone, Copy)]
enum Filter {
    All,
    Addressing,
}

impl Filter {
    fn admits(self, field: &str) -> bool {
        match self {
            Filter::All => true,
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
}

/// An evaluated let: its value, the declarations it references, what it
/// reported and which addresses it read — replayed on every use.
#[derive(Debug, Clone)]
pub(crate) struct LetCached {
    pub(crate) value: Value,
    pub(crate) targets: Vec<(DeclRef, Span)>,
    pub(crate) diags: Vec<Diagnostic>,
    pub(crate) touched: BTreeSet<DeclRef>,
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
        .map(|r| r.fields.keys().cloned().collect())
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
            let target = [DeclKind::Service, DeclKind::Infra, DeclKind::Config]
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
            m.insert(
                "name".into(),
                Value::new(V::Str(decl.name.name.clone()), span),
            );
            if m.get("images").is_none_or(|v| matches!(v.kind, V::None)) {
                let mode = if kind == "tilt" { "build" } else { "pinned" };
                m.insert("images".into(), Value::new(V::Str(mode.into()), span));
            }
            if m.get("release_suffix")
                .is_none_or(|v| matches!(v.kind, V::None))
            {
                let sfx = if kind == "tilt" { "-tilt" } else { "" };
                m.insert(
                    "release_suffix".into(),
                    Value::new(V::Str(sfx.into()), span),
                );
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
                    c.insert("namespace".into(), Value::new(V::Str(ns), span));
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
        let saved = std::mem::replace(
            &mut self.frame,
            Frame {
                self_: Some(id.clone()),
                current: Some(id.clone()),
                env_allowed: true,
                ..Frame::default()
            },
        );
        let acc = self.layers(decl, &id, Filter::All);
        let schema = self.p.schema(kind);
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
                    m.insert("image".into(), Value::new(V::Decl(to), decl.name.span));
                }
            }
        }
        self.frame = saved;
        let base = value
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| names::k8s_name(name));
        let k8s_name = match kind {
            DeclKind::Service | DeclKind::Config => format!("{base}{}", self.suffix),
            _ => base,
        };
        Some(model::Decl {
            id,
            k8s_name,
            name_span: decl.name.span,
            decl_span: decl.span,
            value,
        })
    }

    /// Take the edges recorded so far.
    pub fn take_edges(&mut self) -> Vec<Edge> {
        std::mem::take(&mut self.edges)
    }

    /// Merge a declaration's layers (template, body, env override) into a
    /// partial record, unchecked for completeness.
    fn layers(&mut self, decl: &ast::Decl, id: &DeclRef, filter: Filter) -> Fields {
        let schema = self.p.schema(decl.kind);
        let mut acc = Fields::new();
        // Templates merge left to right (`from a, b`), then the body.
        if matches!(decl.kind, DeclKind::Service | DeclKind::Infra) {
            for from in decl.templates() {
                self.template_layer(from, &schema, filter, &mut acc);
            }
        }
        let entries: Vec<(&ast::Entry, usize)> = decl.body.entries.iter().map(|e| (e, 0)).collect();
        self.apply_entries(&entries, &schema, filter, &mut acc);
        if let Some(ovr) = self.overrides.get(id).cloned() {
            let entries: Vec<(&ast::Entry, usize)> = ovr.into_iter().map(|e| (e, 1)).collect();
            self.apply_entries(&entries, &schema, filter, &mut acc);
        }
        acc
    }

    fn template_layer(
        &mut self,
        from: &ast::FromClause,
        schema: &Ty,
        filter: Filter,
        acc: &mut Fields,
    ) {
        let Some(t) = self.p.templates.get(&from.name.name) else {
            return;
        };
        if self.frame.templates.contains(&t.name.name) {
            return; // E1009, reported when collecting
        }
        let p = self.p;
        let params: &[ParamTy] = p
            .template_params
            .get(&t.name.name)
            .map_or(&[], Vec::as_slice);
        let what = || format!("template `{}`", t.name.name);
        let args = self.bind_args(params, &from.args, from.span, Code::E2014, &what);
        self.frame.templates.push(t.name.name.clone());
        self.frame.locals.push(args);
        if let Some(parent) = &t.from {
            self.template_layer(parent, schema, filter, acc);
        }
        let entries: Vec<(&ast::Entry, usize)> = t.body.entries.iter().map(|e| (e, 0)).collect();
        self.apply_entries(&entries, schema, filter, acc);
        self.frame.locals.pop();
        self.frame.templates.pop();
    }

    /// Bind call or template arguments to parameters, evaluating each with
    /// its parameter's type; defaults filled, unset optionals left out.
    fn bind_args(
        &mut self,
        params: &[ParamTy],
        args: &[ast::Arg],
        span: Span,
        code: Code,
        what: &dyn Fn() -> String,
    ) -> Fields {
        let mut out = Fields::new();
        let mut given: BTreeMap<String, Span> = BTreeMap::new();
        let mut positional = 0usize;
        for a in args {
            let param = match &a.name {
                Some(n) => match params.iter().find(|p| p.name == n.name) {
                    Some(p) => p,
                    None => {
                        let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
                        self.err(
                            Diagnostic::new(
                                code,
                                n.span,
                                format!("{} has no parameter `{}`", what(), n.name),
                            )
                            .label("unknown parameter")
                            .maybe_help(
                                suggest::did_you_mean(&n.name, &names)
                                    .or_else(|| Some(format!("parameters: {}", names.join(", ")))),
                            ),
                        );
                        continue;
                    }
                },
                None => {
                    positional += 1;
                    match params.get(positional - 1) {
                        Some(p) => p,
                        None => {
                            self.err(
                                Diagnostic::new(
                                    code,
                                    a.value.span,
                                    format!(
                                        "{} takes {} arguments, but more were given",
                                        what(),
                                        params.len()
                                    ),
                                )
                                .label("extra argument"),
                            );
                            continue;
                        }
                    }
                }
            };
            if let Some(first) = given.insert(param.name.clone(), a.value.span) {
                self.err(
                    Diagnostic::new(
                        code,
                        a.value.span,
                        format!("parameter `{}` is given twice", param.name),
                    )
                    .label("second value")
                    .secondary(first, "first value here"),
                );
                continue;
            }
            // An edge made while evaluating an argument says where it came
            // from: `template uses(target)`, not an empty reason.
            let saved_why = if self.frame.why.is_empty() {
                let why = format!("{}({})", what().replace('`', ""), param.name);
                Some(std::mem::replace(&mut self.frame.why, why))
            } else {
                None
            };
            let v = self.expr(&a.value, &param.ty);
            if let Some(w) = saved_why {
                self.frame.why = w;
            }
            out.insert(param.name.clone(), v);
        }
        for param in params {
            if out.contains_key(&param.name) || given.contains_key(&param.name) {
                continue;
            }
            if let Some(d) = &param.default {
                let v = self.expr(d, &param.ty);
                out.insert(param.name.clone(), Value::new(v.kind, span));
            } else if param.optional {
                continue;
            } else {
                out.insert(param.name.clone(), Value::unknown(span));
                self.err(
                    Diagnostic::new(
                        code,
                        span,
                        format!("{} needs the argument `{}`", what(), param.name),
                    )
                    .label(format!("`{}` is missing", param.name))
                    .help(format!("add `{} = …` (type {})", param.name, param.ty)),
                );
            }
        }
        out
    }

    /// Record an edge from the current declaration.
    fn edge(&mut self, to: DeclRef, span: Span, weak: bool) {
        if weak || self.weak_depth > 0 {
            return;
        }
        let Some(from) = self.frame.current.clone() else {
            return;
        };
        if from == to {
            return;
        }
        self.edges.push(Edge {
            from,
            to,
            why: self.frame.why.clone(),
            span,
        });
    }

    /// The ports and host of a service or infra in this env (cached).
    pub(crate) fn ports_info(
        &mut self,
        target: &DeclRef,
        span: Span,
    ) -> Option<std::rc::Rc<PortsInfo>> {
        if !self.touched.contains(target) {
            self.touched.insert(target.clone());
        }
        if let Some(info) = self.ports.get(target) {
            let info = info.clone();
            if let Some(ds) = self.ports_diags.get(target) {
                self.diags.extend(ds.iter().cloned());
            }
            return info;
        }
        let before = self.diags.len();
        let info = self.compute_ports_info(target, span);
        let produced = self.diags.since(before);
        self.ports_diags.insert(target.clone(), produced);
        info
    }

    /// A declaration's address in this env (ports, host, name) and what
    /// computing it reports, for the incremental checker to compare. The
    /// report is not added to this evaluator's diagnostics.
    pub fn address(&mut self, target: &DeclRef) -> Option<(PortsInfo, Vec<Diagnostic>)> {
        if !matches!(target.kind, DeclKind::Service | DeclKind::Infra) {
            return None;
        }
        let before = self.diags.len();
        let span = self
            .p
            .decl(target.kind, &target.name)
            .map(|d| d.name.span)?;
        let info = self.ports_info(target, span);
        self.diags.truncate(before);
        let diags = self.ports_diags.get(target).cloned().unwrap_or_default();
        Some(((*info?).clone(), diags))
    }

    fn compute_ports_info(
        &mut self,
        target: &DeclRef,
        span: Span,
    ) -> Option<std::rc::Rc<PortsInfo>> {
        let decl = self.p.decl(target.kind, &target.name)?;
        if !self.ports_active.insert(target.clone()) {
            self.err(
                Diagnostic::new(
                    Code::E3001,
                    span,
                    format!("the ports of `{}` depend on themselves", target.name),
                )
                .label("needed to compute this address"),
            );
            return None;
        }
        let saved = std::mem::replace(
            &mut self.frame,
            Frame {
                self_: Some(target.clone()),
                current: None,
                env_allowed: true,
                ..Frame::default()
            },
        );
        let acc = self.layers(decl, target, Filter::Addressing);
        self.frame = saved;
        self.ports_active.remove(target);
        let rec = Value::new(V::Record(acc), decl.span);
        let base = rec
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| names::k8s_name(&target.name));
        let host = match target.kind {
            DeclKind::Service => format!("{base}{}", self.suffix),
            _ => {
                let h = rec
                    .get("host")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| base.clone());
                match rec.get("namespace").and_then(Value::as_str) {
                    Some(ns) if !h.contains('.') => format!("{h}.{ns}"),
                    _ => h,
                }
            }
        };
        let mut ports = BTreeMap::new();
        for (label, v) in rec
            .get("ports")
            .map(|p| p.entries().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            let number = match &v.kind {
                V::Int(n) => *n,
                V::Call { args, .. } => args.get("number").and_then(Value::as_int).unwrap_or(0),
                _ => 0,
            };
            let exposed = rec
                .get("expose")
                .and_then(|e| e.get(label))
                .and_then(Value::as_int)
                .unwrap_or(number);
            ports.insert(label.clone(), (exposed, number));
        }
        let internal = rec
            .get("internal")
            .map(Value::strings)
            .unwrap_or_default()
            .into_iter()
            .map(str::to_string)
            .collect();
        let ns = rec
            .get("namespace")
            .and_then(Value::as_str)
            .map(str::to_string);
        let services = rec
            .get("services")
            .map(|s| s.entries().collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .map(|(name, svc)| {
                let h = svc
                    .get("host")
                    .and_then(Value::as_str)
                    .unwrap_or(name)
                    .to_string();
                let h = match &ns {
                    Some(ns) if !h.contains('.') => format!("{h}.{ns}"),
                    _ => h,
                };
                let ports = svc
                    .get("ports")
                    .map(|p| p.entries().collect::<Vec<_>>())
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(label, v)| {
                        let n = match &v.kind {
                            V::Int(n) => *n,
                            V::Call { args, .. } => {
                                args.get("number").and_then(Value::as_int).unwrap_or(0)
                            }
                            _ => 0,
                        };
                        (label.clone(), n)
                    })
                    .collect();
                (name.clone(), (h, ports))
            })
            .collect();
        // Shared: every address of this target reads the same record.
        let info = std::rc::Rc::new(PortsInfo {
            services,
            host,
            k8s_name: base,
            ports,
            internal,
        });
        self.ports.insert(target.clone(), Some(info.clone()));
        Some(info)
    }
}

impl Evaluator<'_> {
    /// Coerce a value to a type (completing records), reporting problems.
    pub fn coerce_public(&mut self, v: Value, ty: &Ty) -> Value {
        self.coerce_report(v, ty, true)
    }
}
