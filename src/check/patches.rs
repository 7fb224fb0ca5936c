//! `patches` of services and envs (E2045), checked by applying them to the
//! objects each env lowers to: a target must name one of the objects the
//! patch can reach (the service's, or any of the env's), and every patch
//! must apply and leave an object Kubernetes accepts. Envs without patches
//! are not lowered here.

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::emit::k8s::{self, patch, Context, Object};
use crate::images::Images;
use crate::model::view::Patch;
use crate::model::{EnvModel, Value};
use crate::source::SourceMap;
use std::path::Path;

fn no_target(p: &Value, whose: &str, objects: &[Object], diags: &mut Diagnostics) {
    let target = Patch::of(p)
        .and_then(Patch::target)
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut names: Vec<String> = objects
        .iter()
        .map(|o| format!("{}/{}", o.kind, o.name))
        .collect();
    names.sort();
    names.dedup();
    let shown = if names.len() > 12 {
        format!("{}, …", names.get(..12).unwrap_or_default().join(", "))
    } else {
        names.join(", ")
    };
    diags.push(
        Diagnostic::new(
            Code::E2045,
            Patch::of(p)
                .and_then(Patch::target)
                .map_or(p.span, |t| t.span),
            format!("patch target `{target}` names none of {whose} objects"),
        )
        .label("matches nothing")
        .help(format!("targets are `Kind` or `Kind/name`; here: {shown}")),
    );
}

/// Check the patches of every env.
pub fn check(
    envs: &[EnvModel],
    project: &Value,
    sources: &SourceMap,
    root: &Path,
    diags: &mut Diagnostics,
) {
    for env in envs {
        let env_list = k8s::env_patch_list(env);
        let any = !env_list.is_empty()
            || env
                .services
                .values()
                .any(|s| !k8s::service_patches(s).is_empty());
        if !any {
            continue;
        }
        let images = Images::dev(env);
        let cx = Context::new(env, project, sources, root, &images);
        let suffix = env.suffix();
        let mut all: Vec<Object> = Vec::new();
        for s in env.services.values() {
            let mut objects = k8s::service_objects_unpatched(&cx, s);
            let list = k8s::service_patches(s);
            for p in list {
                if !patch::targets_any(p, &objects, suffix) {
                    no_target(p, &format!("`{}`'s", s.id.name), &objects, diags);
                }
            }
            for d in patch::apply(&mut objects, list, suffix) {
                diags.push(d);
            }
            all.extend(objects);
        }
        for c in env.configs.values() {
            all.push(k8s::config::config_map_unpatched(&cx, c));
        }
        all.extend(k8s::env_objects_unpatched(&cx));
        for p in env_list {
            if !patch::targets_any(p, &all, suffix) {
                no_target(p, &format!("env `{}`'s", env.name), &all, diags);
            }
        }
        for d in patch::apply(&mut all, env_list, suffix) {
            diags.push(d);
        }
    }
}
