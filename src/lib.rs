//! shipc — the Ship compiler.
//!
//! # The pipeline
//!
//! ```text
//! load::load(&dyn Host, path)      path  → SourceMap + parsed files     (Host only)
//! syntax::parse(&SourceFile)       text  → ast::File, or one E0 diagnostic
//! program::collect                files → Program (names, E1)
//! check::check / eval::Evaluator   Program → one EnvModel per env (types, E2)
//! graph::build(&EnvModel)          → DepGraph (cycles, waves, E3)
//! policy::run                      → P001, P003, P005–P007
//! images::Images::resolve          every image site → what it deploys (P002)
//! emit::all                        → OutputTree, through the one lowering (`emit::k8s`)
//! ```
//!
//! Each use case has one entry point in [`verbs`] (`compile`, `lock`,
//! `verify`, `promote`, the cluster render) that applies `policy { }` and
//! returns a result plus diagnostics; the binary keeps flags, printing and
//! writing. Back ends read the model through [`model::view`].
//!
//! # Example
//!
//! ```
//! use shipc::load::MemoryHost;
//! use std::path::Path;
//!
//! let mut host = MemoryHost::new();
//! host.add("ship/main.ship", r#"
//!     service api { port http = 8080, replicas = 2 }
//!     service web { port http = 3000, env_vars { API = api.port.http.url } }
//!     env local { kind = tilt }
//! "#);
//! let mut diags = shipc::Diagnostics::new();
//! let analysis = shipc::analyze(&host, Path::new("ship"), None, &mut diags).unwrap();
//! assert!(!diags.has_errors());
//! let web = &analysis.checked.envs[0].services["web"];
//! let api_url = web.value.path("env_vars.API").and_then(|v| v.as_str());
//! assert_eq!(api_url, Some("http://api-tilt:8080"));
//! assert_eq!(analysis.graphs[0].waves.len(), 2);
//! ```
//!
//! # Invariants
//!
//! 1. pest types never leave `syntax/`; the AST describes one file.
//! 2. Only `cli/`, `registry/`, `cluster/kube.rs` and `gitops/git.rs` touch
//!    the file system, the network, the clock, environment variables or
//!    other programs (`clippy.toml` `disallowed-methods`; those modules opt
//!    out with an `allow`). Project files are read through `load::Host`.
//! 3. Output order never depends on hashing: BTreeMap/BTreeSet only.
//! 4. Every value in the model carries the span it came from.
//! 5. Input never panics: `unwrap`, `expect`, indexing and `panic!` are denied
//!    outside tests; the parser refuses nesting deeper than 256 before pest's
//!    recursive descent runs.
//! 6. Diagnostics are collected, sorted by position and de-duplicated; a
//!    failed expression becomes `V::Unknown`, which unifies with anything, so
//!    one mistake is reported once.
//! 7. Back ends read the evaluated model through [`model::view`] only, and
//!    match the stdlib's closed unions (env kinds, probes, volumes, …) as
//!    enums, exhaustively.
//! 8. No two top-level modules import each other; threads come from [`par`].
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]
#![warn(missing_docs)]
pub mod alloc;
pub mod check;
pub mod cluster;
pub mod diag;
pub mod diff;
pub mod emit;
pub mod eval;
pub mod fmt;
pub mod gitops;
pub mod graph;
pub mod ide;
pub mod images;
pub mod load;
pub mod lock;
pub mod model;
pub mod names;
pub mod par;
pub mod policy;
pub mod program;
pub mod registry;
pub mod source;
pub mod syntax;
pub mod synth;
pub mod units;
pub mod verbs;
pub mod yaml;

pub use diag::{Code, Diagnostic, Diagnostics, Severity};
pub use source::{FileId, SourceMap, Span};

pub use par::{spawn_in, Worker, STACK_SIZE};

/// Everything `shipc check` knows about a project.
#[derive(Debug)]
pub struct Analysis {
    /// Sources (the parsed files have moved into `checked.program`).
    pub loaded: load::Loaded,
    /// The checked program and env models.
    pub checked: check::Checked,
    /// Each env's graph (envs whose graph has a cycle are absent).
    pub graphs: Vec<graph::DepGraph>,
}

/// Load, parse, check and graph a project: the front half of every verb.
pub fn analyze(
    host: &dyn load::Host,
    path: &std::path::Path,
    only_env: Option<&str>,
    diags: &mut Diagnostics,
) -> Result<Analysis, load::LoadError> {
    analyze_with(host, path, only_env, diags, None)
}

/// Projects whose own sources are smaller than this are analysed and
/// emitted without starting threads ([`par::set_serial`]): starting a
/// thread costs more than evaluating a small env.
pub const SERIAL_BELOW: usize = 16 << 10;

/// What the language server keeps between analyses of one project: the
/// parse of every file, and each env's evaluation of each declaration
/// ([`check::memo`]). An analysis with a cache gives the same result as one
/// without; it only skips work whose inputs did not change.
#[derive(Debug, Default)]
pub struct Cache {
    /// Parsed files.
    pub parses: load::ParseCache,
    /// Evaluations.
    pub evals: std::sync::Mutex<check::memo::Memo>,
}

impl Cache {
    /// An empty cache.
    pub fn new() -> Cache {
        Cache::default()
    }

    /// Hand back the previous analysis: its evaluated declarations are
    /// reused (moved, not copied) by the next one.
    pub fn recycle(&self, previous: &mut Analysis) {
        if let Ok(mut m) = self.evals.lock() {
            m.recycle(std::mem::take(&mut previous.checked.envs));
        }
    }
}

/// [`analyze`], reusing what `cache` kept from earlier analyses (the
/// language server).
pub fn analyze_with(
    host: &dyn load::Host,
    path: &std::path::Path,
    only_env: Option<&str>,
    diags: &mut Diagnostics,
    cache: Option<&Cache>,
) -> Result<Analysis, load::LoadError> {
    let mut loaded = load::load_with(host, path, diags, cache.map(|c| &c.parses))?;
    // A small project is analysed (and emitted) on this thread alone.
    par::set_serial(loaded.sources.project_bytes() < SERIAL_BELOW);
    let mut memo = cache.and_then(|c| c.evals.lock().ok());
    let checked = {
        let (loaded, diags2) = (&mut loaded, &mut *diags);
        let memo = memo.as_deref_mut();
        par::run(move || check::check_with(loaded, only_env, diags2, memo))
    };
    drop(memo);
    let Some(checked) = checked else {
        return Err(load::LoadError {
            message: "internal error: the checker stopped unexpectedly".into(),
            hint: Some("please report this with the input that caused it".into()),
        });
    };
    let mut checked = checked;
    check::configs::read_files(host, &loaded.root, &mut checked.envs, diags);
    check::objects::read_files(host, &loaded.root, &mut checked.envs, diags);
    check::secrets::read_sops_files(host, &loaded.root, &mut checked.envs, diags);
    check::patches::check(
        &checked.envs,
        &checked.project,
        &loaded.sources,
        &loaded.root,
        diags,
    );
    policy::run(&checked, diags);
    // One graph per env, built in parallel, collected in env order.
    let built: Vec<Result<graph::DepGraph, Vec<Diagnostic>>> =
        par::each(&checked.envs, graph::build)
            .into_iter()
            .map(|g| g.unwrap_or_else(|| Ok(graph::DepGraph::default())))
            .collect();
    let mut graphs = Vec::new();
    for g in built {
        match g {
            Ok(g) => graphs.push(g),
            Err(ds) => diags.extend(ds),
        }
    }
    Ok(Analysis {
        loaded,
        checked,
        graphs,
    })
}
