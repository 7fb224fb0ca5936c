//! The cluster verbs for flux envs (SPEC §11): a release is a Git commit
//! of the env's rendered tree at `flux.git.path`, which Flux reconciles.
//! `plan` compares the tree with the branch, `apply` publishes it (and,
//! with a cluster bound, asks Flux to reconcile and waits), `history`
//! lists the release commits, `rollback` publishes an earlier release's
//! tree as a new commit; `suspend`, `resume` and `reconcile` act on the
//! env's Flux objects. What these mean is `shipc::gitops`; git runs in
//! `shipc::gitops::git`.

mod release;
mod switch;

pub use release::{apply, history, rollback};
pub use switch::{flux_objects_of, print_flux_states, switch, Switch};

use super::args::{ApplyArgs, ClusterArgs, FluxArgs, HistoryArgs, PlanArgs, RollbackArgs};
use super::cluster::{
    choose_context, confirm, connect, load, now_rfc3339, paint, parse_duration, short, Loaded,
};
use super::render::Output;
use shipc::cluster::engine::{Action, Change};
use shipc::cluster::kube::KubeCluster;
use shipc::cluster::{Cluster, Failure, Json, Key, Write as How, FIELD_MANAGER};
use shipc::diag::{Code, Diagnostic};
use shipc::gitops::git::{source_revision, GitRemote};
use shipc::gitops::tree::{compare, TreePlan};
use shipc::gitops::{self, flux, Released, Remote, Stop, Tree};
use shipc::model::{EnvKind, Value};
use shipc::{Diagnostics, Span};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

/// Tries of a release when the remote keeps moving.
const TRIES: usize = 4;

/// A flux env, rendered, with where it is published.
struct Flux {
    loaded: Loaded,
    tree: Tree,
    problems: Vec<Diagnostic>,
    url: String,
    /// The URL as printed: without a password or token.
    shown: String,
    branch: String,
    path: String,
    /// `flux.git` (where git errors point).
    span: Span,
    project: String,
    env_label: String,
}

impl Flux {
    fn report(
        &self,
        out: &Output,
        diags: Vec<Diagnostic>,
        extra: serde_json::Map<String, serde_json::Value>,
    ) {
        let configured = shipc::verbs::cluster::policy(&self.loaded.analysis, diags);
        let mut d = Diagnostics::new();
        d.extend(configured);
        out.report(
            &self.loaded.analysis.loaded.sources,
            &d.into_sorted(),
            extra,
        );
    }

    fn fail(&self, out: &Output, d: Diagnostic) -> u8 {
        self.report(out, vec![d], self.extra());
        1
    }

    fn extra(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
        m.insert("env".into(), self.loaded.env.clone().into());
        m.insert("repository".into(), self.shown.clone().into());
        m.insert("branch".into(), self.branch.clone().into());
        m.insert("path".into(), self.path.clone().into());
        m
    }

    fn flux_objects(&self) -> Vec<(Key, Json)> {
        flux::flux_objects(&self.tree)
    }
}

fn render(out: &Output, a: &ClusterArgs, loaded: Loaded) -> Result<Flux, u8> {
    let Some(env) = loaded.env() else {
        return Err(1);
    };
    let Some(graph) = loaded.analysis.graphs.iter().find(|g| g.env == env.name) else {
        return Err(1);
    };
    let path_arg = super::lock::path_arg(a.path.as_deref());
    let (tree, problems) = shipc::emit::flux::emit(env, graph, &loaded.pinned_input(&path_arg));
    let git = env.settings().flux_git();
    let span = git.map_or(env.span, |g| g.raw().span);
    let Some(git) = git else {
        let what = if env.settings().flux_oci().is_some() {
            "its Flux source is an OCI artifact (`flux.oci`): publish it with `flux push artifact`; shipc releases `flux.git` sources"
        } else {
            "it names no `flux.git` repository"
        };
        out.tool_error(
            &format!("cannot release flux env `{}`: {what}", env.name),
            None,
        );
        return Err(1);
    };
    let s = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_string();
    let branch = Some(s(git.branch()))
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| "main".into());
    let raw_path = s(git.path());
    let path = match gitops::normalise_path(&raw_path) {
        Ok(p) => p,
        Err(e) => {
            let span = git.path().map_or(span, |p| p.span);
            let d = Diagnostic::new(
                Code::G007,
                span,
                format!("`flux.git.path` cannot be released: {e}"),
            );
            out.diagnostics(&loaded.analysis.loaded.sources, &[d]);
            return Err(1);
        }
    };
    let project = shipc::emit::k8s::project_name(&loaded.analysis.checked.project, env);
    let url = s(git.url());
    if let Err(e) = gitops::check_remote(&url, &branch) {
        let d = Diagnostic::new(
            Code::G007,
            span,
            format!("`flux.git` cannot be released: {e}"),
        );
        out.diagnostics(&loaded.analysis.loaded.sources, &[d]);
        return Err(1);
    }
    Ok(Flux {
        shown: gitops::redact_url(&url),
        url,
        branch,
        path,
        span,
        project,
        env_label: env.label(),
        tree: tree.files,
        problems,
        loaded,
    })
}

/// Where releases are cached: `SHIPC_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/shipc`, else `~/.cache/shipc`; one clone per URL.
fn cache_dir(url: &str) -> PathBuf {
    let base = std::env::var_os("SHIPC_CACHE_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("XDG_CACHE_HOME")
                .filter(|v| !v.is_empty())
                .map(|d| PathBuf::from(d).join("shipc"))
        })
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/shipc")))
        .unwrap_or_else(|| std::env::temp_dir().join("shipc-cache"));
    // `sha256:` and the first 16 hex digits.
    let hash = shipc::registry::http::sha256(url.as_bytes());
    base.join("git").join(hash.get(7..23).unwrap_or("cache"))
}

fn parse_author(a: Option<&str>) -> Result<Option<(String, String)>, String> {
    let Some(a) = a else { return Ok(None) };
    let bad = || format!("`--author {a}`: expected `Name <email>`");
    let (name, rest) = a.split_once('<').ok_or_else(bad)?;
    let email = rest.strip_suffix('>').ok_or_else(bad)?;
    if name.trim().is_empty()
        || email.trim().is_empty()
        || email.contains(['<', '>', '\n'])
        || name.contains('\n')
    {
        return Err(bad());
    }
    Ok(Some((name.trim().to_string(), email.trim().to_string())))
}

fn remote(out: &Output, f: &Flux, author: Option<&str>) -> Result<GitRemote, u8> {
    let author = parse_author(author).map_err(|e| {
        out.usage(&e);
        super::USAGE
    })?;
    GitRemote::new(&f.url, &f.branch, &f.path, cache_dir(&f.url), author).map_err(|e| {
        f.fail(
            out,
            gitops::diagnose(&e, "preparing the release cache", f.span),
        )
    })
}

/// A cluster, when one is bound: `--context`, or the env's
/// `cluster.context`.
fn cluster(
    out: &Output,
    f: &Flux,
    a: &ClusterArgs,
) -> Result<Option<(String, KubeCluster, tokio::runtime::Runtime)>, u8> {
    let Some(env) = f.loaded.env() else {
        return Err(1);
    };
    let named = env.settings().context_name().is_some();
    if a.context.is_none() && !named {
        return Ok(None);
    }
    let context = choose_context(out, a, env, &f.loaded.analysis)?;
    let (c, rt) = connect(out, &f.loaded.analysis, env.span, &context, a)?;
    Ok(Some((context, c, rt)))
}

fn print_tree_plan(p: &TreePlan, color: bool) {
    let mut o = std::io::stdout().lock();
    for c in &p.objects {
        let (mark, word, code) = match c.action {
            Action::Create => ("+", "create", "32"),
            Action::Update => ("~", "update", "33"),
            Action::Delete => ("-", "delete", "31"),
            Action::Unchanged => continue,
        };
        let _ = writeln!(o, "{} {word:<7} {}", paint(color, code, mark), c.object);
        for fc in &c.fields {
            let _ = writeln!(
                o,
                "      {}: {} → {}",
                fc.path,
                paint(color, "31", &short(&fc.before)),
                paint(color, "32", &short(&fc.after))
            );
        }
    }
    for (file, a) in &p.files {
        let (mark, code) = match a {
            Action::Create => ("+", "32"),
            Action::Delete => ("-", "31"),
            _ => ("~", "33"),
        };
        let _ = writeln!(o, "{} file    {file}", paint(color, code, mark));
    }
    for file in &p.foreign {
        let _ = writeln!(o, "{} not shipc's: {file}", paint(color, "31", "!"));
    }
    let _ = writeln!(
        o,
        "Plan: {} to create, {} to update, {} to delete, {} unchanged; {} other file(s) changed.",
        p.count(Action::Create),
        p.count(Action::Update),
        p.count(Action::Delete),
        p.count(Action::Unchanged),
        p.files.len()
    );
}

fn foreign_error(f: &Flux, files: &[String]) -> Diagnostic {
    let shown: Vec<String> = files.iter().take(5).map(|x| format!("`{x}`")).collect();
    let more = if files.len() > 5 {
        format!(" and {} more", files.len() - 5)
    } else {
        String::new()
    };
    Diagnostic::new(
        Code::G006,
        f.span,
        format!(
            "`{}` in {} holds files shipc did not write: {}{more}",
            if f.path.is_empty() { "." } else { &f.path },
            f.shown,
            shown.join(", ")
        ),
    )
    .help("move them out of the env's folder, or pass `--force` to replace the folder anyway")
}

fn print_states(states: &[flux::State], head: Option<&str>, color: bool) {
    let mut o = std::io::stdout().lock();
    for s in states {
        let code = if s.ready == "True" {
            "32"
        } else if s.present {
            "33"
        } else {
            "31"
        };
        let mut line = format!(
            "  {} {}",
            paint(color, code, &format!("Ready={:<7}", s.ready)),
            s.object
        );
        if s.suspended {
            line.push_str(&paint(color, "33", "  SUSPENDED"));
        }
        if !s.revision.is_empty() {
            line.push_str(&format!("  at {}", s.revision));
            if let Some(h) = head {
                if !flux::at_commit(&s.revision, h) && s.object.starts_with("Kustomization") {
                    line.push_str(&format!(" (branch head {})", h.get(..12).unwrap_or(h)));
                }
            }
        }
        if !s.message.is_empty() && s.ready != "True" {
            line.push_str(&format!("  ({})", s.message));
        }
        let _ = writeln!(o, "{line}");
    }
}

pub fn plan(out: &Output, a: &PlanArgs, loaded: Loaded) -> u8 {
    let f = match render(out, &a.cluster, loaded) {
        Ok(f) => f,
        Err(c) => return c,
    };
    if !f.problems.is_empty() {
        f.report(out, f.problems.clone(), f.extra());
        return 1;
    }
    let mut r = match remote(out, &f, None) {
        Ok(r) => r,
        Err(c) => return c,
    };
    let head = match r.fetch() {
        Ok(h) => h,
        Err(e) => {
            return f.fail(
                out,
                gitops::diagnose(&e, &format!("fetching `{}`", f.branch), f.span),
            )
        }
    };
    let old = match &head {
        Some(h) => match r.tree(h) {
            Ok(t) => t,
            Err(e) => return f.fail(out, gitops::diagnose(&e, "reading the branch", f.span)),
        },
        None => Tree::new(),
    };
    let mut new = f.tree.clone();
    new.insert(gitops::MARKER.into(), gitops::marker(&f.tree));
    let p = compare(&old, &new);
    let bound = match cluster(out, &f, &a.cluster) {
        Ok(b) => b,
        Err(c) => return c,
    };
    let states = match &bound {
        Some((_, c, rt)) => match rt.block_on(flux::states(c, &f.flux_objects(), f.span)) {
            Ok(s) => Some(s),
            Err(d) => return f.fail(out, d),
        },
        None => None,
    };
    let mut diags = Vec::new();
    if !p.foreign.is_empty() {
        diags.push(foreign_error(&f, &p.foreign));
    }
    if out.json() {
        let mut extra = f.extra();
        extra.insert("head".into(), head.clone().into());
        extra.insert(
            "changes".into(),
            serde_json::json!(p
                .objects
                .iter()
                .filter(|c| c.action != Action::Unchanged)
                .collect::<Vec<&Change>>()),
        );
        extra.insert("files".into(), serde_json::json!(p.files));
        extra.insert("foreign".into(), serde_json::json!(p.foreign));
        extra.insert("flux".into(), serde_json::json!(states));
        f.report(out, diags, extra);
    } else {
        let color = out.color && std::io::stdout().is_terminal();
        println!(
            "{} {} at `{}` ({}):",
            f.shown,
            f.branch,
            if f.path.is_empty() { "." } else { &f.path },
            head.as_deref().map_or("new branch".to_string(), |h| h
                .get(..12)
                .unwrap_or(h)
                .to_string())
        );
        print_tree_plan(&p, color);
        if let Some(s) = &states {
            println!("Flux in the cluster:");
            print_states(s, head.as_deref(), color);
        }
        f.report(out, diags, Default::default());
    }
    if !p.foreign.is_empty() {
        1
    } else if p.has_changes() {
        2
    } else {
        0
    }
}

/// P005 for the env's Flux objects: one that exists must be this env's
/// (shipc's labels with this env), unless `--adopt`.
async fn flux_owners<C: Cluster>(c: &C, f: &Flux, adopt: bool) -> Result<(), Vec<Diagnostic>> {
    let mut errors = Vec::new();
    for (k, _) in f.flux_objects() {
        let live = match c.get(&k).await {
            Ok(o) => o,
            Err(Failure::Status { code: 404, .. }) | Err(Failure::NotServed { .. }) => None,
            Err(e) => {
                errors.push(shipc::cluster::engine::diagnose(
                    &e,
                    &format!("reading {k}"),
                    f.span,
                ));
                continue;
            }
        };
        let Some(o) = live else { continue };
        let l = |x: &str| {
            o.pointer(&format!("/metadata/labels/{}", x.replace('/', "~1")))
                .and_then(Json::as_str)
                .map(str::to_string)
        };
        let ours = l("app.kubernetes.io/managed-by").as_deref() == Some("shipc")
            && l("ship.dev/env").as_deref() == Some(f.env_label.as_str());
        if !ours && !adopt {
            errors.push(shipc::policy::taken(
                f.span,
                format!(
                    "{k} exists and is not this env's (no shipc labels for env `{}`)",
                    f.env_label
                ),
                "pass `--adopt` to take it over, or rename the env's Flux objects",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// `--bootstrap`: server-side apply the Flux source and Kustomizations.
async fn bootstrap<C: Cluster>(c: &C, f: &Flux, adopt: bool) -> Result<usize, Diagnostic> {
    let mut n = 0;
    let objs: Vec<(Key, Json)> = f
        .tree
        .iter()
        .filter(|(p, _)| p.starts_with("flux/"))
        .flat_map(|(_, b)| shipc::gitops::tree::objects(b))
        .collect();
    for (k, o) in objs {
        c.apply(
            &k,
            &o,
            How {
                dry_run: false,
                force: adopt,
            },
        )
        .await
        .map_err(|e| {
            shipc::cluster::engine::diagnose(
                &e,
                &format!("bootstrapping {k} (field manager `{FIELD_MANAGER}`)"),
                f.span,
            )
        })?;
        eprintln!("bootstrap: applied {k}");
        n += 1;
    }
    Ok(n)
}
