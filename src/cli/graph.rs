//! `shipc graph --env E [--format text|dot|mermaid|json]`.

use super::args::GraphArgs;
use super::fs::{project_path, FsHost};
use super::render::Output;
use shipc::graph::{render, Format};
use shipc::Diagnostics;

pub fn run(out: &Output, a: &GraphArgs) -> u8 {
    if let Err(code) = out.check_format(&["human", "text", "dot", "mermaid", "json"]) {
        return code;
    }
    let format = match out.format.as_deref() {
        Some("dot") => Format::Dot,
        Some("mermaid") => Format::Mermaid,
        Some("json") => Format::Json,
        _ => Format::Text,
    };
    let path = project_path(a.path.as_deref());
    let mut diags = Diagnostics::new();
    let analysis = match shipc::analyze(&FsHost, &path, Some(&a.env), &mut diags) {
        Ok(x) => x,
        Err(e) => {
            out.tool_error(&e.message, e.hint.as_deref());
            return 1;
        }
    };
    if let Some(code) = super::check::unknown_env(out, &analysis, &a.env) {
        return code;
    }
    let sorted = diags.into_sorted();
    if sorted.iter().any(|d| d.is_error()) {
        // Diagnostics go to stderr even with --format json: stdout is the graph.
        let human = Output {
            format: None,
            color: out.color,
        };
        human.diagnostics(&analysis.loaded.sources, &sorted);
        return 1;
    }
    let Some(g) = analysis.graphs.iter().find(|g| g.env == a.env) else {
        out.tool_error(&format!("no graph for env `{}`", a.env), None);
        return 1;
    };
    print!("{}", render(g, format));
    0
}
