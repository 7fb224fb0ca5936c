//! Rendering a [`DepGraph`]: text, Graphviz dot, Mermaid, JSON (SPEC §13).

use super::DepGraph;

/// Output formats of `shipc graph`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Waves and edges, for people.
    Text,
    /// Graphviz.
    Dot,
    /// Mermaid flowchart.
    Mermaid,
    /// `{"env", "nodes", "edges", "waves"}`.
    Json,
}

/// Render the graph.
pub fn render(g: &DepGraph, format: Format) -> String {
    match format {
        Format::Text => text(g),
        Format::Dot => dot(g),
        Format::Mermaid => mermaid(g),
        Format::Json => json(g),
    }
}

fn id(g: &DepGraph, i: usize) -> &str {
    g.nodes.get(i).map_or("", |n| n.id.as_str())
}

fn text(g: &DepGraph) -> String {
    let mut out = format!(
        "env {}: {} nodes, {} edges\n",
        g.env,
        g.nodes.len(),
        g.edges.len()
    );
    for (w, wave) in g.waves.iter().enumerate() {
        out.push_str(&format!("\nwave {w}:\n"));
        for &n in wave {
            out.push_str(&format!("  {}\n", id(g, n)));
            for e in g.edges.iter().filter(|e| e.from == n) {
                out.push_str(&format!("    -> {} ({})\n", id(g, e.to), e.why));
            }
        }
    }
    out
}

fn quote(s: &str) -> String {
    let mut q = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

fn dot(g: &DepGraph) -> String {
    let mut out = format!("digraph {} {{\n  rankdir=LR;\n", quote(&g.env));
    for n in &g.nodes {
        let shape = match n.decl.kind.keyword() {
            "image" => "note",
            "infra" => "cylinder",
            _ => "box",
        };
        out.push_str(&format!("  {} [shape={shape}];\n", quote(&n.id)));
    }
    for e in &g.edges {
        out.push_str(&format!(
            "  {} -> {} [label={}];\n",
            quote(id(g, e.from)),
            quote(id(g, e.to)),
            quote(&e.why)
        ));
    }
    out.push_str("}\n");
    out
}

fn mermaid_id(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

fn mermaid(g: &DepGraph) -> String {
    let mut out = String::from("flowchart LR\n");
    for n in &g.nodes {
        out.push_str(&format!(
            "  {}[\"{}\"]\n",
            mermaid_id(&n.id),
            n.id.replace('"', "#quot;")
        ));
    }
    for e in &g.edges {
        let why = e.why.replace(['"', '|'], "_");
        out.push_str(&format!(
            "  {} -->|{}| {}\n",
            mermaid_id(id(g, e.from)),
            why,
            mermaid_id(id(g, e.to))
        ));
    }
    out
}

fn json(g: &DepGraph) -> String {
    let nodes: Vec<serde_json::Value> = g
        .nodes
        .iter()
        .map(
            |n| serde_json::json!({"id": n.id.as_str(), "kind": n.decl.kind.keyword(), "name": n.decl.name}),
        )
        .collect();
    let edges: Vec<serde_json::Value> = g
        .edges
        .iter()
        .map(|e| serde_json::json!({"from": id(g, e.from), "to": id(g, e.to), "why": e.why.as_str()}))
        .collect();
    let waves: Vec<Vec<&str>> = g
        .waves
        .iter()
        .map(|w| w.iter().map(|&i| id(g, i)).collect())
        .collect();
    let v = serde_json::json!({"version": 1, "env": g.env, "nodes": nodes, "edges": edges, "waves": waves});
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}
