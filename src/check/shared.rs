//! Evaluating once what does not depend on the env.
//!
//! With several envs to evaluate, one is evaluated first (the first in name
//! order among those with the most common release suffix) and every
//! declaration whose evaluation did not read the env
//! (`env`, `env.F`, a let that does, a message naming the env) and that the
//! env does not override is kept, with the edges and diagnostics it
//! recorded and the addresses (ports, host, name) of the declarations it
//! read. Another env then takes such a declaration as it is when it does not
//! override it either and every address it read is the same there; it
//! replays the edges and diagnostics, and sets the name's release suffix.
//! A declaration where only some top-level fields read the env (`replicas =
//! if env.name == "prod" then 3 else 1`) is kept too when it reported
//! nothing and those fields made no edge: another env evaluates just those
//! fields and takes the rest (the first env's record itself when they come
//! out the same, or the one another env made with the same fields: see
//! [`SharedDecl::variant`]). An env with another release suffix (its
//! services' addresses carry it) also evaluates again the top-level fields
//! that read an address that differs there (`env_vars { API =
//! api.port.http.url }`), when only such fields read it, the first env
//! reported nothing of the declaration, and those fields make the edges
//! they made there. Anything else is evaluated again. The result is what
//! evaluating every env on its own gives (a test compares both on every ui
//! case).

use crate::diag::Diagnostic;
use crate::eval::{Evaluator, PortsInfo};
use crate::model::{Decl, DeclRef, Edge, Key, Value};
use std::collections::BTreeMap;

/// An address as [`Evaluator::address`] gives it.
type Address = Option<(PortsInfo, Vec<Diagnostic>)>;

/// One declaration as the first env evaluated it.
#[derive(Debug)]
pub(crate) struct SharedDecl {
    decl: Decl,
    /// The top-level fields that read the env (evaluated again in every
    /// env; empty: none did). Such a declaration reported nothing and its
    /// edges come from the other fields.
    env_fields: Vec<Key>,
    edges: Vec<Edge>,
    diags: Vec<Diagnostic>,
    /// The declarations whose addresses it read.
    reads: Vec<DeclRef>,
    /// Those each top-level field read (fields that read none are absent):
    /// an env where some of them differ evaluates just those fields when
    /// nothing else read them (see [`take`]).
    field_addresses: Vec<(Key, Vec<DeclRef>)>,
    /// Those read outside the top-level fields (template arguments,
    /// defaults).
    outside_reads: Vec<DeclRef>,
    /// The records taking envs made of it whose env fields came out
    /// otherwise than in the first env, so that envs making the same record
    /// share one (see [`SharedDecl::variant`]).
    variants: std::sync::Mutex<Vec<std::sync::Arc<Value>>>,
}

impl SharedDecl {
    /// The record of this declaration whose env fields are `made` (when
    /// they differ from the first env's), as one allocation every taking
    /// env making the same record shares. A declaration whose env fields
    /// read only the env's name (`replicas = if env.name == "prod" then 3
    /// else 1`) then has one record per distinct result, not one per env.
    /// Every such record is the first env's with the env fields set again,
    /// so two are identical (the same spans, keys set in the same order)
    /// when those fields are, and every reader sees what it would have.
    fn variant(&self, made: Vec<Value>) -> Option<std::sync::Arc<Value>> {
        let fields = &self.env_fields;
        let Ok(mut known) = self.variants.lock() else {
            return Some(std::sync::Arc::new(
                self.decl.value.with_fields(fields, made)?,
            ));
        };
        if let Some(v) = known.iter().find(|v| v.has_fields(fields, &made)) {
            return Some(v.clone());
        }
        let value = std::sync::Arc::new(self.decl.value.with_fields(fields, made)?);
        known.push(value.clone());
        Some(value)
    }
}

/// The declarations of the first env that do not depend on it.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    decls: BTreeMap<DeclRef, SharedDecl>,
    /// The addresses they read, as they were in the first env.
    addresses: BTreeMap<DeclRef, Address>,
    /// The first env's release suffix.
    suffix: Option<String>,
    /// What `constraints::service` reported of each kept service there,
    /// in that env's kind.
    checked: BTreeMap<DeclRef, (crate::model::EnvKind, Vec<Diagnostic>)>,
}

/// What one evaluator knows of the addresses shared declarations read.
#[derive(Debug, Default)]
pub(crate) struct Addresses {
    /// Recording: each address read, as it is in this env.
    seen: BTreeMap<DeclRef, Address>,
    /// Taking: whether each is the same in this env as in the first.
    same: BTreeMap<DeclRef, bool>,
    /// Recording: the env's release suffix.
    suffix: Option<String>,
}

impl Shared {
    /// Add what an evaluator kept, with the addresses it read.
    pub(crate) fn extend(
        &mut self,
        decls: impl IntoIterator<Item = (DeclRef, SharedDecl)>,
        addresses: Addresses,
    ) {
        self.absorb(Shared {
            decls: decls.into_iter().collect(),
            addresses: addresses.seen,
            suffix: addresses.suffix,
            checked: BTreeMap::new(),
        });
    }

    /// Add what another evaluation kept.
    pub(crate) fn absorb(&mut self, other: Shared) {
        self.decls.extend(other.decls);
        self.addresses.extend(other.addresses);
        self.suffix = self.suffix.take().or(other.suffix);
        self.checked.extend(other.checked);
    }

    /// How many declarations are shared.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.decls.len()
    }

    /// Whether no declaration is shared.
    pub(crate) fn is_empty(&self) -> bool {
        self.decls.is_empty()
    }
}

/// What evaluating an env does with [`Shared`].
#[derive(Clone, Copy)]
pub(crate) enum Mode<'a> {
    /// Evaluate every declaration.
    Alone,
    /// Evaluate every declaration and keep those that do not depend on the env.
    Record,
    /// Take what can be taken.
    Reuse(&'a Shared),
}

/// Evaluate one declaration (or take it from `mode`'s shared ones): its
/// edges and diagnostics are recorded in `ev` either way. When recording,
/// also returns what the next envs may take.
pub(crate) fn eval_one(
    ev: &mut Evaluator<'_>,
    id: &DeclRef,
    mode: Mode<'_>,
    addresses: &mut Addresses,
) -> (Option<Decl>, Option<(DeclRef, SharedDecl)>) {
    match mode {
        Mode::Alone => (ev.eval_decl(id.kind, &id.name), None),
        Mode::Reuse(shared) => {
            if let Some(s) = shared.decls.get(id) {
                let mut same = |t: &DeclRef| {
                    if let Some(same) = addresses.same.get(t) {
                        return *same;
                    }
                    // An address that read nothing of its env is the same
                    // where the suffix is and no override moves it.
                    let same = shared.addresses.get(t).is_some_and(|a| match a {
                        Some((p, _))
                            if p.own
                                && shared.suffix.as_deref() == Some(ev.suffix())
                                && !ev.has_override(t) =>
                        {
                            true
                        }
                        _ => ev.address_is(t, a),
                    });
                    addresses.same.insert(t.clone(), same);
                    same
                };
                let differ: Vec<&DeclRef> = s.reads.iter().filter(|t| !same(t)).collect();
                if !ev.has_override(id) {
                    if let Some(fields) = address_fields(s, &differ) {
                        if let Some(decl) = take(ev, id, s, &fields) {
                            return (Some(decl), None);
                        }
                    }
                }
            }
            (ev.eval_decl(id.kind, &id.name), None)
        }
        Mode::Record => {
            let (reads, edges, diags) = (ev.env_reads(), ev.edge_count(), ev.diag_count());
            ev.take_touched();
            ev.take_field_touches();
            let (decl, fields) = ev.eval_decl_noting_fields(id.kind, &id.name);
            // Addresses read outside the top-level fields, then by each.
            let outside = ev.take_touched();
            let field_touches = ev.take_field_touches();
            let mut touched = outside.clone();
            for t in field_touches.values() {
                touched.extend(t.iter().cloned());
            }
            let Some(decl) = decl else {
                return (None, None);
            };
            let env_fields = if ev.env_reads() == reads {
                Vec::new()
            } else {
                // Only some fields read the env: kept when they reported
                // nothing and made no edge.
                let Some(fields) = fields else {
                    return (Some(decl), None);
                };
                let quiet = ev.diag_count() == diags
                    && !ev
                        .edges_since(edges)
                        .iter()
                        .any(|e| fields.iter().any(|f| f == top(&e.why)));
                if !quiet {
                    return (Some(decl), None);
                }
                fields
            };
            let edges = ev.edges_since(edges).to_vec();
            let diags = ev.diags_since(diags);
            if addresses.suffix.is_none() {
                addresses.suffix = Some(ev.suffix().to_string());
            }
            for t in &touched {
                if !addresses.seen.contains_key(t) {
                    let a = ev.address(t);
                    addresses.seen.insert(t.clone(), a);
                }
            }
            let reads = touched.into_iter().collect();
            ev.take_touched();
            let kept = SharedDecl {
                decl: decl.clone(),
                env_fields,
                edges,
                diags,
                reads,
                field_addresses: field_touches
                    .into_iter()
                    .map(|(f, t)| (f, t.into_iter().collect()))
                    .collect(),
                outside_reads: outside.into_iter().collect(),
                variants: Default::default(),
            };
            (Some(decl), Some((id.clone(), kept)))
        }
    }
}

/// `constraints::service` of a service in an env of `kind`: what the first
/// env reported of it when this env took its record as it was (the same
/// record, the same name: the constraints read nothing else) in an env of
/// the same kind, else checked here; when recording, what it reports is
/// kept.
pub(crate) fn service_constraints(
    d: &Decl,
    kind: crate::model::EnvKind,
    mode: Mode<'_>,
    kept: &mut Shared,
    diags: &mut crate::diag::Diagnostics,
) {
    let shared = |s: &Shared| {
        s.decls
            .get(&d.id)
            .filter(|s| std::sync::Arc::ptr_eq(&s.decl.value, &d.value))
            .filter(|s| s.decl.k8s_name == d.k8s_name)
            .is_some()
    };
    match mode {
        Mode::Reuse(s) if shared(s) => {
            if let Some((_, ds)) = s.checked.get(&d.id).filter(|(k, _)| *k == kind) {
                diags.extend(ds.iter().cloned());
                return;
            }
        }
        Mode::Record if shared(kept) => {
            let mut mine = crate::diag::Diagnostics::new();
            crate::check::constraints::service(d, Some(kind), &mut mine);
            let reported = mine.into_sorted();
            kept.checked.insert(d.id.clone(), (kind, reported.clone()));
            diags.extend(reported);
            return;
        }
        _ => {}
    }
    crate::check::constraints::service(d, Some(kind), diags);
}

/// The top-level field an edge's `why` names.
fn top(why: &str) -> &str {
    why.split('.').next().unwrap_or(why)
}

/// The top-level fields of `s` that read an address in `differ` (those
/// that are not the same in this env as in the first), to evaluate here
/// again; `None` when one was read elsewhere too (a template argument, a
/// default), or the first env reported something of it (a message may
/// quote an address).
fn address_fields(s: &SharedDecl, differ: &[&DeclRef]) -> Option<Vec<Key>> {
    if differ.is_empty() {
        return Some(Vec::new());
    }
    if !s.diags.is_empty() || differ.iter().any(|t| s.outside_reads.contains(t)) {
        return None;
    }
    let mut fields = Vec::new();
    for t in differ {
        let mut read = false;
        for (f, reads) in &s.field_addresses {
            if reads.contains(t) {
                read = true;
                if !fields.contains(f) && !s.env_fields.contains(f) {
                    fields.push(f.clone());
                }
            }
        }
        if !read {
            return None;
        }
    }
    fields.sort();
    Some(fields)
}

/// `s` in this env (its overrides already checked): as it is, or with its
/// env fields and `address_fields` (those reading an address that differs
/// here) evaluated here when they report nothing and read no other
/// address, the env fields make no edge, and the address fields make the
/// edges they made in the first env (edges carry no address). `None`:
/// evaluate it whole.
fn take(
    ev: &mut Evaluator<'_>,
    id: &DeclRef,
    s: &SharedDecl,
    address_fields: &[Key],
) -> Option<Decl> {
    let mut decl = s.decl.clone();
    if !s.env_fields.is_empty() || !address_fields.is_empty() {
        let fields: Vec<Key> = s.env_fields.iter().chain(address_fields).cloned().collect();
        let (edges, diags) = (ev.edge_count(), ev.diag_count());
        ev.take_touched();
        let made = ev.eval_decl_fields(id, &fields, &decl.value);
        let touched = ev.take_touched();
        // Template arguments are evaluated again: what they record is in
        // `s.edges` already.
        let of = |fields: &[Key], e: &&Edge| fields.iter().any(|f| f == top(&e.why));
        let remade: Vec<&Edge> = ev
            .edges_since(edges)
            .iter()
            .filter(|e| of(address_fields, e))
            .collect();
        let recorded: Vec<&Edge> = s.edges.iter().filter(|e| of(address_fields, e)).collect();
        let clean = ev.diag_count() == diags
            && !ev.edges_since(edges).iter().any(|e| of(&s.env_fields, &e))
            && remade == recorded
            && touched.iter().all(|t| s.reads.contains(t));
        ev.truncate_edges(edges);
        ev.truncate_diags(diags);
        let made = made.filter(|_| clean)?;
        if !address_fields.is_empty() {
            // Its addresses are this env's: a record of its own.
            decl.value = std::sync::Arc::new(decl.value.with_fields(&fields, made)?);
        } else if !decl.value.has_fields(&s.env_fields, &made) {
            // Otherwise it shares the first env's record (and its
            // constraint check, [`service_constraints`]).
            decl.value = s.variant(made)?;
        }
    }
    ev.replay(&s.edges, &s.diags);
    decl.k8s_name = ev.k8s_name(id, &decl.value);
    Some(decl)
}

/// What an env does with the shared declarations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Evaluated first, keeping what the others may take.
    Record,
    /// Evaluated alone (no env would take).
    Alone,
    /// Evaluated after it, with another release suffix: its services'
    /// addresses differ, so it evaluates again the fields that read them.
    TakeApart,
    /// Evaluated after it, taking what it kept.
    Take,
}

/// The role of each of `names` (envs): the first of those whose release
/// suffix the most envs have records, the others with its suffix take, the
/// rest are evaluated alone. All alone when no env would take.
pub(crate) fn roles(
    program: &crate::program::Program,
    names: &[&str],
    project: &crate::model::Value,
) -> Vec<Role> {
    let suffixes: Vec<String> = names
        .iter()
        .map(|n| {
            let Some(decl) = program.decl(crate::syntax::ast::DeclKind::Env, n) else {
                return String::new();
            };
            let mut ev = Evaluator::new(program);
            ev.bind_env(decl, project);
            ev.env_value()
                .and_then(|e| e.get("release_suffix"))
                .and_then(crate::model::Value::as_str)
                .unwrap_or("")
                .to_string()
        })
        .collect();
    let count = |s: &String| suffixes.iter().filter(|x| *x == s).count();
    let mut best = 0;
    for (i, s) in suffixes.iter().enumerate() {
        if suffixes.get(best).is_some_and(|b| count(s) > count(b)) {
            best = i;
        }
    }
    let Some(chosen) = suffixes.get(best).filter(|s| count(s) >= 2) else {
        return vec![Role::Alone; names.len()];
    };
    suffixes
        .iter()
        .enumerate()
        .map(|(i, s)| match (i == best, s == chosen) {
            (true, _) => Role::Record,
            (false, true) => Role::Take,
            (false, false) => Role::TakeApart,
        })
        .collect()
}
