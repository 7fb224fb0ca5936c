//! The dependency graph of one env (SPEC §7): nodes are the env's images,
//! services and infra; edges come from `image = …`, references in values
//! and `depends_on` (recorded with spans during evaluation). Cycles are
//! E3001, reported once per strongly connected component with every edge's
//! span. Waves order deployment: a node comes after everything it depends on.

mod render;
pub mod traffic;

use crate::diag::{Code, Diagnostic};
use crate::model::{DeclRef, EnvModel, Key};
use crate::source::Span;
use crate::syntax::ast::DeclKind;
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::BTreeMap;

pub use render::{render, Format};

/// A node of the graph.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Node {
    /// `service/www` (inline up to 24 bytes: no allocation of its own).
    pub id: Key,
    /// The declaration.
    pub decl: DeclRef,
}

/// An edge: `from` depends on `to`.
#[derive(Debug, Clone)]
pub struct GraphEdge {
    /// Index into `nodes` of the dependent.
    pub from: usize,
    /// Index into `nodes` of the dependency.
    pub to: usize,
    /// Why (the field the reference is in; inline up to 24 bytes).
    pub why: Key,
    /// The reference.
    pub span: Span,
}

/// One env's dependency graph.
#[derive(Debug, Clone, Default)]
pub struct DepGraph {
    /// The env's name.
    pub env: String,
    /// Nodes sorted by id.
    pub nodes: Vec<Node>,
    /// Edges, de-duplicated by (from, to, why), sorted.
    pub edges: Vec<GraphEdge>,
    /// Deployment waves: indices into `nodes`; dependencies first.
    pub waves: Vec<Vec<usize>>,
    /// For each node, the nodes it depends on (sorted, unique).
    pub adjacency: Vec<Vec<usize>>,
}

/// The graph node id of a declaration.
pub fn node_id(d: &DeclRef) -> Key {
    compact_str::format_compact!("{}/{}", d.kind.keyword(), d.name)
}

impl DepGraph {
    /// The index of a declaration's node.
    pub fn index(&self, d: &DeclRef) -> Option<usize> {
        // Nodes are sorted by id; compare with `kind/name` without
        // building it.
        let (kind, name) = (d.kind.keyword().as_bytes(), d.name.as_bytes());
        self.nodes
            .binary_search_by(|n| cmp_parts(n.id.as_bytes(), [kind, b"/", name]))
            .ok()
    }

    /// What `d` depends on directly.
    pub fn deps(&self, d: &DeclRef) -> Vec<&DeclRef> {
        let Some(i) = self.index(d) else {
            return Vec::new();
        };
        // Edges are sorted by `from`: the node's edges are one run.
        let start = self.edges.partition_point(|e| e.from < i);
        let mut out: Vec<&DeclRef> = self
            .edges
            .get(start..)
            .unwrap_or_default()
            .iter()
            .take_while(|e| e.from == i)
            .filter_map(|e| self.nodes.get(e.to).map(|n| &n.decl))
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

/// `id` against the concatenation of `parts`, byte by byte, without
/// building it (slice comparisons: a byte iterator was a tenth of `deps`).
fn cmp_parts(mut id: &[u8], parts: [&[u8]; 3]) -> std::cmp::Ordering {
    for part in parts {
        let n = part.len().min(id.len());
        let (head, rest) = id.split_at(n);
        match head.cmp(part.get(..n).unwrap_or(part)) {
            std::cmp::Ordering::Equal if n < part.len() => return std::cmp::Ordering::Less,
            std::cmp::Ordering::Equal => id = rest,
            other => return other,
        }
    }
    if id.is_empty() {
        std::cmp::Ordering::Equal
    } else {
        std::cmp::Ordering::Greater
    }
}

/// Build the graph of an env, or report its cycles.
pub fn build(env: &EnvModel) -> Result<DepGraph, Vec<Diagnostic>> {
    let mut nodes: Vec<Node> = Vec::new();
    for (kind, m) in [
        (DeclKind::Image, &env.images),
        (DeclKind::Service, &env.services),
        (DeclKind::Infra, &env.infras),
        (DeclKind::Config, &env.configs),
    ] {
        for name in m.keys() {
            let decl = DeclRef {
                kind,
                name: name.clone(),
            };
            nodes.push(Node {
                id: node_id(&decl),
                decl,
            });
        }
    }
    nodes.sort();
    let index: BTreeMap<(DeclKind, &str), usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| ((n.decl.kind, n.decl.name.as_str()), i))
        .collect();
    let at = |d: &DeclRef| index.get(&(d.kind, d.name.as_str())).copied();
    // Edges by (from, to, why), the first one's span kept: sorted stably
    // and de-duplicated (a vector, not a map: a large env has tens of
    // thousands of edges, and four envs build their graphs at once).
    let mut seen: Vec<(usize, usize, &str, Span)> = Vec::with_capacity(env.edges.len());
    for e in &env.edges {
        // A ConfigMap waits for nothing: the addresses in a config order
        // nothing (a service may name itself in the config it mounts).
        if e.from.kind == DeclKind::Config || e.weak {
            continue;
        }
        let (Some(from), Some(to)) = (at(&e.from), at(&e.to)) else {
            continue;
        };
        seen.push((from, to, e.why.as_str(), e.span));
    }
    seen.sort_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));
    seen.dedup_by(|later, first| (later.0, later.1, later.2) == (first.0, first.1, first.2));
    let edges: Vec<GraphEdge> = seen
        .into_iter()
        .map(|(from, to, why, span)| GraphEdge {
            from,
            to,
            why: Key::from(why),
            span,
        })
        .collect();
    let mut g: DiGraph<usize, usize> = DiGraph::new();
    let idx: Vec<NodeIndex> = (0..nodes.len()).map(|i| g.add_node(i)).collect();
    for (ei, e) in edges.iter().enumerate() {
        if let (Some(a), Some(b)) = (idx.get(e.from), idx.get(e.to)) {
            g.add_edge(*a, *b, ei);
        }
    }
    // A graph that sorts has no cycle: the components (one vector per
    // node) are found only when it does not.
    let sorted = petgraph::algo::toposort(&g, None);
    if sorted.is_err() {
        let mut diags = Vec::new();
        let mut sccs = petgraph::algo::tarjan_scc(&g);
        for scc in &mut sccs {
            scc.sort();
        }
        sccs.sort();
        for scc in sccs.iter().filter(|s| s.len() > 1) {
            if let Some(d) = cycle_diagnostic(&nodes, &edges, scc.iter().map(|n| g[*n]).collect()) {
                diags.push(d);
            }
        }
        if !diags.is_empty() {
            return Err(diags);
        }
    }
    // Waves: depth = 1 + max depth of dependencies (acyclic now).
    let order = sorted.unwrap_or_default();
    let mut depth = vec![0usize; nodes.len()];
    for n in order.iter().rev() {
        let i = g[*n];
        let d = g
            .neighbors(*n)
            .map(|m| depth.get(g[m]).copied().unwrap_or(0) + 1)
            .max()
            .unwrap_or(0);
        if let Some(slot) = depth.get_mut(i) {
            *slot = d;
        }
    }
    let max = depth.iter().copied().max().map_or(0, |m| m + 1);
    let mut waves = vec![Vec::new(); if nodes.is_empty() { 0 } else { max }];
    for (i, d) in depth.iter().enumerate() {
        if let Some(w) = waves.get_mut(*d) {
            w.push(i);
        }
    }
    let mut adjacency = vec![Vec::new(); nodes.len()];
    for e in &edges {
        if let Some(a) = adjacency.get_mut(e.from) {
            a.push(e.to);
        }
    }
    for a in &mut adjacency {
        a.sort_unstable();
        a.dedup();
    }
    Ok(DepGraph {
        env: env.name.clone(),
        nodes,
        edges,
        waves,
        adjacency,
    })
}

/// Find one cycle inside a strongly connected component and describe it.
fn cycle_diagnostic(nodes: &[Node], edges: &[GraphEdge], scc: Vec<usize>) -> Option<Diagnostic> {
    let start = *scc.iter().min()?;
    // Depth-first search for a path start → … → start inside the component.
    let mut path: Vec<&GraphEdge> = Vec::new();
    let mut visited = vec![false; nodes.len()];
    fn dfs<'a>(
        cur: usize,
        start: usize,
        scc: &[usize],
        edges: &'a [GraphEdge],
        visited: &mut Vec<bool>,
        path: &mut Vec<&'a GraphEdge>,
    ) -> bool {
        for e in edges
            .iter()
            .filter(|e| e.from == cur && scc.contains(&e.to))
        {
            path.push(e);
            if e.to == start {
                return true;
            }
            if !visited.get(e.to).copied().unwrap_or(true) {
                if let Some(v) = visited.get_mut(e.to) {
                    *v = true;
                }
                if dfs(e.to, start, scc, edges, visited, path) {
                    return true;
                }
            }
            path.pop();
        }
        false
    }
    if !dfs(start, start, &scc, edges, &mut visited, &mut path) {
        return None;
    }
    let name = |i: usize| {
        nodes
            .get(i)
            .map(|n| n.decl.name.clone())
            .unwrap_or_default()
    };
    let mut chain: Vec<String> = path.iter().map(|e| format!("`{}`", name(e.from))).collect();
    chain.push(format!("`{}`", name(start)));
    let first = path.first()?;
    let mut d = Diagnostic::new(
        Code::E3001,
        first.span,
        format!("dependency cycle: {}", chain.join(" → ")),
    )
    .label(format!(
        "`{}` depends on `{}` here ({})",
        name(first.from),
        name(first.to),
        first.why
    ))
    .help("break the cycle with `weak(…)` around one reference, e.g. `weak(api.port.http)`");
    for e in path.iter().skip(1) {
        d = d.secondary(
            e.span,
            format!(
                "`{}` depends on `{}` here ({})",
                name(e.from),
                name(e.to),
                e.why
            ),
        );
    }
    Some(d)
}

#[cfg(test)]
mod tests {
    use super::cmp_parts;

    #[test]
    fn cmp_parts_orders_as_the_joined_string() {
        let words = [
            "",
            "a",
            "s",
            "se",
            "service",
            "service/",
            "service/a",
            "service/ab",
            "t",
        ];
        for id in words {
            for (kind, name) in [("service", "a"), ("service", ""), ("s", "x"), ("", "")] {
                let joined = format!("{kind}/{name}");
                assert_eq!(
                    cmp_parts(id.as_bytes(), [kind.as_bytes(), b"/", name.as_bytes()]),
                    id.cmp(joined.as_str()),
                    "{id} vs {joined}"
                );
            }
        }
    }
}
