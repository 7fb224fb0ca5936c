//! Evaluating once what does not depend on the env.
//!
//! With several envs to evaluate, the first (in name order) is evaluated on
//! its own and every declaration whose evaluation did not read the env
//! (`env`, `env.F`, a let that does, a message naming the env) and that the
//! env does not override is kept, with the edges and diagnostics it
//! recorded and the addresses (ports, host, name) of the declarations it
//! read. Another env then takes such a declaration as it is when it does not
//! override it either and every address it read is the same there; it
//! replays the edges and diagnostics, and sets the name's release suffix.
//! Anything else is evaluated again. The result is what evaluating every
//! env on its own gives (a test compares both on every ui case).

use crate::diag::Diagnostic;
use crate::eval::{Evaluator, PortsInfo};
use crate::model::{Decl, DeclRef, Edge};
use std::collections::BTreeMap;

/// An address as [`Evaluator::address`] gives it.
type Address = Option<(PortsInfo, Vec<Diagnostic>)>;

/// One declaration as the first env evaluated it.
#[derive(Debug)]
pub(crate) struct SharedDecl {
    decl: Decl,
    edges: Vec<Edge>,
    diags: Vec<Diagnostic>,
    /// The addresses it read, and what they were.
    reads: Vec<(DeclRef, Address)>,
}

/// The declarations of the first env that do not depend on it.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    decls: BTreeMap<DeclRef, SharedDecl>,
}

impl Shared {
    pub(crate) fn extend(&mut self, decls: impl IntoIterator<Item = (DeclRef, SharedDecl)>) {
        self.decls.extend(decls);
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
) -> (Option<Decl>, Option<(DeclRef, SharedDecl)>) {
    match mode {
        Mode::Alone => (ev.eval_decl(id.kind, &id.name), None),
        Mode::Reuse(shared) => {
            if let Some(s) = shared.decls.get(id) {
                if !ev.has_override(id) && s.reads.iter().all(|(t, a)| ev.address(t) == *a) {
                    ev.replay(&s.edges, &s.diags);
                    let mut decl = s.decl.clone();
                    decl.k8s_name = ev.k8s_name(id, &decl.value);
                    return (Some(decl), None);
                }
            }
            (ev.eval_decl(id.kind, &id.name), None)
        }
        Mode::Record => {
            let (reads, edges, diags) = (ev.env_reads(), ev.edge_count(), ev.diag_count());
            ev.take_touched();
            let decl = ev.eval_decl(id.kind, &id.name);
            let touched = ev.take_touched();
            let Some(decl) = decl else {
                return (None, None);
            };
            if ev.env_reads() != reads {
                return (Some(decl), None);
            }
            let edges = ev.edges_since(edges).to_vec();
            let diags = ev.diags_since(diags);
            let reads = touched
                .into_iter()
                .map(|t| {
                    let a = ev.address(&t);
                    (t, a)
                })
                .collect();
            ev.take_touched();
            let kept = SharedDecl {
                decl: decl.clone(),
                edges,
                diags,
                reads,
            };
            (Some(decl), Some((id.clone(), kept)))
        }
    }
}
