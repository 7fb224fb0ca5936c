//! `shipc diff --env A --env B [PATH]`: the promotion review — what differs
//! between two envs' renders, as a table (or `--format json`).

use super::args::DiffArgs;
use super::render::Output;
use shipc::Diagnostics;

pub fn run(out: &Output, a: &DiffArgs) -> u8 {
    if let Err(code) = out.check_format(&["human", "json"]) {
        return code;
    }
    let [ea, eb] = match a.envs.as_slice() {
        [x, y] => [x.clone(), y.clone()],
        _ => {
            out.usage("pass exactly two envs: `shipc diff --env A --env B`");
            return super::USAGE;
        }
    };
    let mut diags = Diagnostics::new();
    let analysis = match super::check::analyze(out, a.path.as_deref(), None, &mut diags) {
        Ok(x) => x,
        Err(code) => return code,
    };
    for e in [&ea, &eb] {
        if let Some(code) = super::check::require_env(out, &analysis, &mut diags, e) {
            return code;
        }
    }
    if diags.has_errors() {
        let human = Output {
            format: None,
            color: out.color,
        };
        human.diagnostics(&analysis.loaded.sources, &diags.into_sorted());
        return 1;
    }
    let lock = match super::compile::read_lock(&analysis.loaded.root) {
        Ok(l) => l,
        Err(e) => {
            out.tool_error(&e, None);
            return 1;
        }
    };
    let overrides = shipc::images::Overrides::new();
    let find = |n: &str| analysis.checked.envs.iter().find(|e| e.name == n);
    let (Some(ma), Some(mb)) = (find(&ea), find(&eb)) else {
        return 1;
    };
    let rows = shipc::diff::diff(ma, mb, &lock, &overrides);
    if out.json() {
        let v = serde_json::json!({"version": 1, "a": ea, "b": eb, "differences": rows});
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        print!("{}", shipc::diff::table(&ea, &eb, &rows));
    }
    u8::from(a.exit_code && !rows.is_empty())
}
