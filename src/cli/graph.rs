//! `shipc graph --env E [--traffic] [--format text|dot|mermaid|json]`.

use super::args::GraphArgs;
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
    let mut diags = Diagnostics::new();
    let analysis = match super::check::analyze(out, a.path.as_deref(), Some(&a.env), &mut diags) {
        Ok(x) => x,
        Err(code) => return code,
    };
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
    if a.traffic {
        let Some(env) = analysis.checked.envs.iter().find(|e| e.name == a.env) else {
            out.tool_error(&format!("no env `{}`", a.env), None);
            return 1;
        };
        let flows = shipc::graph::traffic::flows(env);
        match format {
            Format::Json => println!("{}", shipc::graph::traffic::json(env, &flows)),
            Format::Text => print!("{}", shipc::graph::traffic::render(env, &flows)),
            Format::Dot | Format::Mermaid => {
                out.tool_error("`--traffic` prints text or json", None);
                return 2;
            }
        }
        return 0;
    }
    let Some(g) = analysis.graphs.iter().find(|g| g.env == a.env) else {
        out.tool_error(&format!("no graph for env `{}`", a.env), None);
        return 1;
    };
    print!("{}", render(g, format));
    0
}
