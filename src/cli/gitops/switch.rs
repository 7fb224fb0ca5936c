//! `shipc flux suspend | resume` and the env's Flux objects' states.

use super::*;

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
            return super::super::USAGE;
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
            return super::super::USAGE;
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
    let path_arg = super::super::lock::path_arg(a.path.as_deref());
    let (tree, _) = shipc::emit::flux::emit(env, graph, &loaded.pinned_input(&path_arg));
    flux::flux_objects(&tree.files)
}

/// The flux part of `status` as text.
pub fn print_flux_states(states: &[flux::State], color: bool) {
    println!("Flux:");
    print_states(states, None, color);
}
