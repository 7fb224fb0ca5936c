//! shipc — the Ship compiler.
pub mod check;
pub mod diag;
pub mod eval;
pub mod graph;
pub mod load;
pub mod model;
pub mod source;
pub mod syntax;

pub use diag::{Code, Diagnostic, Diagnostics, Severity};
pub use source::{FileId, SourceMap, Span};

/// Everything `shipc check` knows about a project.
#[derive(Debug)]
pub struct Analysis {
    /// Sources and parsed files.
    pub loaded: load::Loaded,
    /// The checked program and env models.
    pub checked: check::Checked,
    /// Each env's graph (envs whose graph has a cycle are absent).
    pub graphs: Vec<graph::DepGraph>,
}

/// Load, parse, check and graph a project: the front half of every verb.
pub fn analyze(host: &dyn load::Host, path: &std::path::Path, only_env: Option<&str>, diags: &mut Diagnostics) -> Result<Analysis, load::LoadError> {
    let loaded = load::load(host, path, diags)?;
    let checked = check::check(&loaded, only_env, diags);
    let mut graphs = Vec::new();
    for env in &checked.envs {
        match graph::build(env) {
            Ok(g) => graphs.push(g),
            Err(ds) => diags.extend(ds),
        }
    }
    Ok(Analysis { loaded, checked, graphs })
}
