//! `apply`, `history` and `rollback` of a flux env: publishing to Git,
//! asking Flux to reconcile, following it.

use super::*;

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
            return super::super::USAGE;
        }
    };
    if !a.skip_verify {
        if let Err(c) = super::super::cluster::verify_pins(
            out,
            &f.loaded.analysis,
            &f.loaded.lock,
            &f.loaded.env,
            a,
        ) {
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
        return super::super::USAGE;
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
            return super::super::USAGE;
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
