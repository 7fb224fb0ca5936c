//! The cluster verbs for flux envs (SPEC §11): a release is a Git commit
//! of the env's rendered tree at `flux.git.path`, which Flux reconciles.
//! `plan` compares the tree with the branch, `apply` publishes it (and,
//! with a cluster bound, asks Flux to reconcile and waits), `history`
//! lists the release commits, `rollback` publishes an earlier release's
//! tree as a new commit; `suspend`, `resume` and `reconcile` act on the
//! env's Flux objects. What these mean is `shipc::gitops`; git runs in
//! `shipc::gitops::git`.

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

/// After a push: ask Flux to reconcile and wait for the commit.
fn reconcile_and_wait(
    out: &Output,
    f: &Flux,
    bound: &Option<(String, KubeCluster, tokio::runtime::Runtime)>,
    sha: &str,
    wait: bool,
    timeout: Duration,
) -> Result<(), u8> {
    let Some((ctx, c, rt)) = bound else {
        if !out.json() {
            eprintln!("note: no cluster bound (`--context`, or the env's `cluster.context`): not asking Flux to reconcile");
        }
        return Ok(());
    };
    let objs = f.flux_objects();
    let now = now_rfc3339();
    match rt.block_on(flux::request_reconcile(c, &objs, &now, f.span)) {
        Ok(n) => {
            if !out.json() {
                eprintln!("asked Flux in `{ctx}` to reconcile {n} object(s)");
            }
        }
        Err(d) => return Err(f.fail(out, d)),
    }
    if !wait {
        return Ok(());
    }
    let ks = flux::kustomizations(&objs);
    let started = std::time::Instant::now();
    let quiet = out.json();
    let mut progress = |k: &str, why: &str| {
        if !quiet {
            eprintln!(
                "[{:6.1}s]   waiting    {k}: {why}",
                started.elapsed().as_secs_f64()
            );
        }
    };
    let deadline = c.elapsed() + timeout;
    match rt.block_on(flux::wait(c, &ks, sha, deadline, f.span, &mut progress)) {
        Ok(()) => {
            if !quiet {
                eprintln!(
                    "Flux applied {} in {:.1}s",
                    sha.get(..12).unwrap_or(sha),
                    started.elapsed().as_secs_f64()
                );
            }
            Ok(())
        }
        Err(d) => Err(f.fail(out, d)),
    }
}

/// After a release: ask Flux to reconcile and wait for the branch head.
/// An up-to-date release still asks and waits: the last one may have been
/// pushed without the cluster ever running it.
fn follow(
    out: &Output,
    f: &Flux,
    bound: &Option<(String, KubeCluster, tokio::runtime::Runtime)>,
    rel: &Released,
    wait: bool,
    timeout: Duration,
) -> u8 {
    let head = match rel {
        Released::Commit { sha, .. } => Some(sha.clone()),
        Released::UpToDate(head) => head.clone(),
    };
    match head {
        Some(sha) => match reconcile_and_wait(out, f, bound, &sha, wait, timeout) {
            Ok(()) => 0,
            Err(c) => c,
        },
        None => 0,
    }
}

/// Publish `tree` (apply and rollback): refusals done, confirmation given.
fn publish(
    out: &Output,
    f: &Flux,
    r: &mut GitRemote,
    tree: &Tree,
    force: bool,
    what: &str,
) -> Result<Released, u8> {
    let source = source_revision(&f.loaded.analysis.loaded.root);
    let mut full = tree.clone();
    full.insert(gitops::MARKER.into(), gitops::marker(tree));
    let message = |old: &Tree| {
        shipc::gitops::tree::message(&f.project, &f.loaded.env, &source, old, &full, what)
    };
    match gitops::release(r, tree, force, TRIES, &message) {
        Ok(rel) => Ok(rel),
        Err(Stop::Git(e)) => {
            Err(f.fail(out, gitops::diagnose(&e, "publishing the release", f.span)))
        }
        Err(Stop::Foreign(files)) => Err(f.fail(out, foreign_error(f, &files))),
        Err(Stop::Rejected(n, why)) => Err(f.fail(
            out,
            Diagnostic::new(
                Code::G004,
                f.span,
                format!("the push was refused {n} times: `{}` kept moving", f.branch),
            )
            .note(format!("git said: {}", why.trim()))
            .help("try again when the branch is quiet; shipc never force-pushes"),
        )),
    }
}

fn done(out: &Output, f: &Flux, rel: &Released, verb: &str) {
    if out.json() {
        let mut extra = f.extra();
        match rel {
            Released::Commit { sha, base, retries } => {
                extra.insert("commit".into(), sha.clone().into());
                extra.insert("base".into(), base.clone().into());
                extra.insert("retries".into(), (*retries).into());
            }
            Released::UpToDate(head) => {
                extra.insert("up_to_date".into(), true.into());
                extra.insert("commit".into(), head.clone().into());
            }
        }
        f.report(out, Vec::new(), extra);
        return;
    }
    match rel {
        Released::Commit { sha, retries, .. } => {
            let again = if *retries > 0 {
                format!(
                    " (after {retries} retr{})",
                    if *retries == 1 { "y" } else { "ies" }
                )
            } else {
                String::new()
            };
            eprintln!(
                "{verb}: pushed {} to {} {}{again}",
                sha.get(..12).unwrap_or(sha),
                f.shown,
                f.branch
            );
        }
        Released::UpToDate(_) => eprintln!(
            "env `{}` is up to date in {} {}: nothing to commit",
            f.loaded.env, f.shown, f.branch
        ),
    }
}

pub fn apply(out: &Output, a: &ApplyArgs, loaded: Loaded) -> u8 {
    let f = match render(out, &a.cluster, loaded) {
        Ok(f) => f,
        Err(c) => return c,
    };
    if !f.problems.is_empty() {
        f.report(out, f.problems.clone(), f.extra());
        if !out.json() {
            eprintln!("apply refused: nothing was changed");
        }
        return 1;
    }
    let timeout = match parse_duration(&a.rollout.timeout) {
        Ok(t) => t,
        Err(e) => {
            out.usage(&e);
            return super::USAGE;
        }
    };
    if !a.skip_verify {
        if let Err(c) =
            super::cluster::verify_pins(out, &f.loaded.analysis, &f.loaded.lock, &f.loaded.env, a)
        {
            return c;
        }
    }
    let bound = match cluster(out, &f, &a.cluster) {
        Ok(b) => b,
        Err(c) => return c,
    };
    if a.bootstrap && bound.is_none() {
        out.usage(
            "`--bootstrap` needs a cluster: pass `--context`, or set the env's `cluster.context`",
        );
        return super::USAGE;
    }
    if let Some((_, c, rt)) = &bound {
        if let Err(d) = rt.block_on(flux_owners(c, &f, a.adopt)) {
            f.report(out, d, f.extra());
            if !out.json() {
                eprintln!("apply refused: nothing was changed");
            }
            return 1;
        }
    }
    let mut r = match remote(out, &f, a.rollout.author.as_deref()) {
        Ok(r) => r,
        Err(c) => return c,
    };
    if let Err(c) = confirm(
        out,
        a.rollout.yes,
        &format!("publish env `{}` to {} {}", f.loaded.env, f.shown, f.branch),
    ) {
        return c;
    }
    if a.bootstrap {
        if let Some((_, c, rt)) = &bound {
            if let Err(d) = rt.block_on(bootstrap(c, &f, a.adopt)) {
                return f.fail(out, d);
            }
        }
    }
    let tree = f.tree.clone();
    let rel = match publish(out, &f, &mut r, &tree, a.force, "release") {
        Ok(rel) => rel,
        Err(c) => return c,
    };
    done(out, &f, &rel, "apply");
    follow(out, &f, &bound, &rel, a.rollout.waits(), timeout)
}

pub fn history(out: &Output, a: &HistoryArgs, loaded: Loaded) -> u8 {
    let f = match render(out, &a.cluster, loaded) {
        Ok(f) => f,
        Err(c) => return c,
    };
    let mut r = match remote(out, &f, None) {
        Ok(r) => r,
        Err(c) => return c,
    };
    let commits = match releases(out, &f, &mut r) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if out.json() {
        let mut extra = f.extra();
        let list: Vec<serde_json::Value> = commits
            .iter()
            .enumerate()
            .map(|(i, c)| serde_json::json!({"release": i + 1, "commit": c.sha, "time": c.time, "subject": c.subject}))
            .collect();
        extra.insert("releases".into(), list.into());
        f.report(out, Vec::new(), extra);
        return 0;
    }
    if commits.is_empty() {
        eprintln!(
            "no release of env `{}` in {} {} yet",
            f.loaded.env, f.shown, f.branch
        );
        return 0;
    }
    let mut o = std::io::stdout().lock();
    let _ = writeln!(o, "{:<9}{:<14}{:<27}SUBJECT", "RELEASE", "COMMIT", "TIME");
    for (i, c) in commits.iter().enumerate() {
        let _ = writeln!(
            o,
            "{:<9}{:<14}{:<27}{}",
            i + 1,
            c.sha.get(..12).unwrap_or(&c.sha),
            c.time,
            c.subject
        );
    }
    0
}

pub fn rollback(out: &Output, a: &RollbackArgs, loaded: Loaded) -> u8 {
    let f = match render(out, &a.cluster, loaded) {
        Ok(f) => f,
        Err(c) => return c,
    };
    let timeout = match parse_duration(&a.rollout.timeout) {
        Ok(t) => t,
        Err(e) => {
            out.usage(&e);
            return super::USAGE;
        }
    };
    let bound = match cluster(out, &f, &a.cluster) {
        Ok(b) => b,
        Err(c) => return c,
    };
    let mut r = match remote(out, &f, a.rollout.author.as_deref()) {
        Ok(r) => r,
        Err(c) => return c,
    };
    let commits = match releases(out, &f, &mut r) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let target = match a.to.as_deref() {
        None => commits.len().checked_sub(2).and_then(|i| commits.get(i)),
        Some(t) => match t.parse::<usize>() {
            Ok(n) if n < 100_000 => n.checked_sub(1).and_then(|i| commits.get(i)),
            _ => commits
                .iter()
                .find(|c| t.len() >= 7 && c.sha.starts_with(&t.to_ascii_lowercase())),
        },
    };
    let Some(target) = target.cloned() else {
        let what = a.to.clone().unwrap_or_else(|| "an earlier release".into());
        return f.fail(
            out,
            Diagnostic::new(
                Code::G008,
                f.span,
                format!(
                    "no release `{what}` of env `{}` in {} {}",
                    f.loaded.env, f.shown, f.branch
                ),
            )
            .help("`shipc history --env E` lists the releases"),
        );
    };
    let tree = match r.tree(&target.sha) {
        Ok(t) => t,
        Err(e) => return f.fail(out, gitops::diagnose(&e, "reading the release", f.span)),
    };
    let short_sha = target.sha.get(..12).unwrap_or(&target.sha).to_string();
    if let Err(c) = confirm(
        out,
        a.rollout.yes,
        &format!(
            "publish release {short_sha} of env `{}` again to {} {}",
            f.loaded.env, f.shown, f.branch
        ),
    ) {
        return c;
    }
    let mut tree = tree;
    tree.remove(gitops::MARKER);
    let rel = match publish(
        out,
        &f,
        &mut r,
        &tree,
        a.force,
        &format!("rollback to {short_sha} of"),
    ) {
        Ok(rel) => rel,
        Err(c) => return c,
    };
    done(out, &f, &rel, "rollback");
    follow(out, &f, &bound, &rel, a.rollout.waits(), timeout)
}

/// The branch's release commits for the env's path, oldest first (none on
/// a branch that does not exist yet).
fn releases(out: &Output, f: &Flux, r: &mut GitRemote) -> Result<Vec<gitops::Commit>, u8> {
    r.fetch()
        .and_then(|h| match h {
            Some(h) => r.log(&h),
            None => Ok(Vec::new()),
        })
        .map_err(|e| {
            f.fail(
                out,
                gitops::diagnose(&e, "reading the release history", f.span),
            )
        })
}

/// `suspend`, `resume`, `reconcile`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Switch {
    Suspend,
    Resume,
    Reconcile,
}

pub fn switch(out: &Output, a: &FluxArgs, what: Switch) -> u8 {
    let verb = match what {
        Switch::Suspend => "suspend",
        Switch::Resume => "resume",
        Switch::Reconcile => "reconcile",
    };
    let loaded = match load(out, &a.cluster, verb) {
        Ok(l) => l,
        Err(c) => return c,
    };
    if loaded.kind() != Some(EnvKind::Flux) {
        out.tool_error(
            &format!(
                "`shipc {verb}` acts on flux envs; `{}` is not one",
                loaded.env
            ),
            None,
        );
        return 1;
    }
    let timeout = match parse_duration(&a.timeout) {
        Ok(t) => t,
        Err(e) => {
            out.usage(&e);
            return super::USAGE;
        }
    };
    let f = match render(out, &a.cluster, loaded) {
        Ok(f) => f,
        Err(c) => return c,
    };
    let bound = match cluster(out, &f, &a.cluster) {
        Ok(Some(b)) => b,
        Ok(None) => {
            out.usage(&format!("`shipc {verb}` needs a cluster: pass `--context`, or set the env's `cluster.context`"));
            return super::USAGE;
        }
        Err(c) => return c,
    };
    let (ctx, c, rt) = &bound;
    let objs = f.flux_objects();
    let result = match what {
        Switch::Suspend | Switch::Resume => rt
            .block_on(flux::suspend(c, &objs, what == Switch::Suspend, f.span))
            .map(|done| {
                if !out.json() {
                    for k in &done {
                        eprintln!("{verb}ed {k}");
                    }
                }
            }),
        Switch::Reconcile => {
            let now = now_rfc3339();
            rt.block_on(async {
                flux::request_reconcile(c, &objs, &now, f.span).await?;
                if a.no_wait {
                    return Ok(());
                }
                let ks = flux::kustomizations(&objs);
                let deadline = c.elapsed() + timeout;
                flux::wait_handled(c, &ks, &now, deadline, f.span).await
            })
        }
    };
    match result {
        Ok(()) => {
            if out.json() {
                let mut extra = f.extra();
                extra.insert("context".into(), ctx.clone().into());
                f.report(out, Vec::new(), extra);
            } else if what == Switch::Reconcile {
                eprintln!("Flux reconciled env `{}` in `{ctx}`", f.loaded.env);
            }
            0
        }
        Err(d) => f.fail(out, d),
    }
}

/// The env's Flux objects (for `status`).
pub fn flux_objects_of(loaded: &Loaded, a: &ClusterArgs) -> Vec<(Key, Json)> {
    let Some(env) = loaded.env() else {
        return Vec::new();
    };
    let Some(graph) = loaded.analysis.graphs.iter().find(|g| g.env == env.name) else {
        return Vec::new();
    };
    let path_arg = super::lock::path_arg(a.path.as_deref());
    let (tree, _) = shipc::emit::flux::emit(env, graph, &loaded.pinned_input(&path_arg));
    flux::flux_objects(&tree.files)
}

/// The flux part of `status` as text.
pub fn print_flux_states(states: &[flux::State], color: bool) {
    println!("Flux:");
    print_states(states, None, color);
}
