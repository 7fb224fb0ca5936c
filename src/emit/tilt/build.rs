//! Images for the tilt target: `docker_build` with live update, and
//! `restart()` lowered the way Tilt recommends for Kubernetes (its
//! `restart_process` approach, written out so no extension is loaded).

use super::{build_paths, comment_safe, join_root, root_paths};
use crate::emit::starlark::{dict, list, shell_word, string};
use crate::model::dev::{self as tilt, RESTART_FILE};
use crate::model::view::{BuildStep, Image, LiveUpdateStep};
use crate::model::{EnvModel, Value};
use std::collections::BTreeMap;

/// One `sync`/`run` step as Tilt reads it (paths relative to the
/// Tiltfile). `restart()` is not a step Tilt accepts for Kubernetes: it is
/// lowered by [`docker_build`] into the restart wrapper's `run`.
fn live_update_step(s: &Value, root: &str) -> Option<String> {
    let a = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_string();
    match LiveUpdateStep::of(s)? {
        LiveUpdateStep::Sync(s) => Some(format!(
            "sync({}, {})",
            string(&join_root(root, &a(s.local()))),
            string(&a(s.remote()))
        )),
        LiveUpdateStep::Run(r) => {
            let triggers = root_paths(r.trigger(), root);
            Some(if triggers.is_empty() {
                format!("run({})", string(&a(r.command())))
            } else {
                format!(
                    "run({}, trigger={})",
                    string(&a(r.command())),
                    list(&triggers)
                )
            })
        }
        LiveUpdateStep::Restart => None,
    }
}

/// An image's live-update steps as Tilt reads them (`restart()` aside).
fn live_update_steps(v: Image<'_>, root: &str) -> Vec<String> {
    v.live_update()
        .map(Value::as_list)
        .unwrap_or(&[])
        .iter()
        .filter_map(|s| live_update_step(s, root))
        .collect()
}

/// The Dockerfile that wraps a `restart()` image: the restart wrapper and
/// `entr` from Tilt's helper image, and the file they watch.
fn restart_dockerfile(base: &str) -> String {
    format!(
        "FROM {RESTART_HELPER} AS restart-helper\nFROM {base}\nRUN [\"touch\", \"{RESTART_FILE}\"]\nCOPY --from=restart-helper /tilt-restart-wrapper /\nCOPY --from=restart-helper /entr /\n"
    )
}

/// `restart()` on an image whose process the source does not name: a
/// `custom_build` builds the image as `$EXPECTED_REF-base`, reads its
/// `ENTRYPOINT` and `CMD` with `docker inspect`, and builds the wrapper on
/// top with the wrapper in front of that entrypoint. An image with neither
/// fails the build with a message that says what to set. The script's only
/// inputs from the source are shell-quoted words.
#[allow(clippy::too_many_arguments)]
fn restart_from_image(
    name: &str,
    v: Image<'_>,
    repo: &str,
    context: &str,
    dockerfile: &str,
    steps: &[String],
    ignore: &[String],
    t: &mut String,
) {
    let mut build: Vec<String> = vec![
        "docker".into(),
        "build".into(),
        "-f".into(),
        dockerfile.into(),
    ];
    if let Some(target) = v.target().and_then(Value::as_str) {
        build.extend(["--target".into(), target.to_string()]);
    }
    if let Some(p) = v.platform().and_then(Value::as_str) {
        build.extend(["--platform".into(), p.to_string()]);
    }
    for (k, x) in v
        .build_args()
        .map(|b| b.entries().collect::<Vec<_>>())
        .unwrap_or_default()
    {
        build.extend([
            "--build-arg".into(),
            format!("{k}={}", x.as_str().unwrap_or("")),
        ]);
    }
    let build = build
        .iter()
        .map(|a| shell_word(a))
        .collect::<Vec<_>>()
        .join(" ");
    let wrapper = format!("[\"/tilt-restart-wrapper\",\"--watch_file={RESTART_FILE}\"");
    let missing = shell_word(&format!(
        "shipc: image `{name}` has neither ENTRYPOINT nor CMD, so restart() cannot re-run it: set `entrypoint = [...]` on the image or `command = [...]` on its service"
    ));
    let script = [
        "set -e".to_string(),
        format!("{build} -t \"$EXPECTED_REF-base\" {}", shell_word(context)),
        "entry=$(docker inspect --format '{{json .Config.Entrypoint}}' \"$EXPECTED_REF-base\")".into(),
        "cmd=$(docker inspect --format '{{json .Config.Cmd}}' \"$EXPECTED_REF-base\")".into(),
        "case \"$entry\" in null|'[]') entry='' ;; esac".into(),
        "case \"$cmd\" in null|'[]') cmd='' ;; esac".into(),
        format!("if [ -z \"$entry$cmd\" ]; then echo {missing} >&2; exit 1; fi"),
        format!("if [ -n \"$entry\" ]; then entry=$(printf '%s' \"$entry\" | sed 's|^\\[|{wrapper},|'); else entry='{wrapper}]'; fi"),
        format!(
            "printf 'FROM %s AS restart-helper\\nFROM %s\\nRUN [\"touch\", \"{RESTART_FILE}\"]\\nCOPY --from=restart-helper /tilt-restart-wrapper /\\nCOPY --from=restart-helper /entr /\\nENTRYPOINT %s\\nCMD %s\\n' {RESTART_HELPER} \"$EXPECTED_REF-base\" \"$entry\" \"${{cmd:-[]}}\" | docker build -t \"$EXPECTED_REF\" -"
        ),
    ]
    .join("; ");
    t.push_str("\n# `restart()`: the image is built, then wrapped so that a live update re-runs its own ENTRYPOINT/CMD\n");
    let mut args = vec![
        string(repo),
        list(&["sh".to_string(), "-c".to_string(), script]),
        format!("deps={}", list(&[context.to_string()])),
        format!("live_update=[{}]", steps.join(", ")),
    ];
    if !ignore.is_empty() {
        args.push(format!("ignore={}", list(ignore)));
    }
    t.push_str(&format!("custom_build({})\n", args.join(", ")));
}

/// Tilt's image with the restart wrapper (`tilt-restart-wrapper` + `entr`).
const RESTART_HELPER: &str = "tiltdev/restart-helper:2024-06-06";

/// `docker_build` for one image. An image whose live update has `restart()`
/// is built the way Tilt recommends for Kubernetes (its `restart_process`
/// approach, written out here so the Tiltfile loads no extension and
/// evaluates offline): the image itself as `<repository>-restart-base`, then
/// a wrapper image on top whose entrypoint re-runs the process whenever the
/// live update's last step writes [`RESTART_FILE`].
pub(super) fn docker_build(
    env: &EnvModel,
    name: &str,
    img: &crate::model::Decl,
    root: &str,
    t: &mut String,
) {
    let v = img.image();
    let repo = env.image_repository(name);
    if let Some(pre) = v.pre_build() {
        pre_build(img, BuildStep::of(pre), root, t);
    }
    if other_build(v, &repo, root, t) {
        return;
    }
    let (context, dockerfile) = build_paths(v, root);
    let mut common: Vec<String> = Vec::new();
    let ctx_rel = v.context().and_then(Value::as_str).unwrap_or(".");
    let ignore: Vec<String> = v
        .ignore()
        .map(Value::strings)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| tilt::context_relative(p, ctx_rel))
        .collect();
    let mut own = vec![format!("dockerfile={}", string(&dockerfile))];
    let build_args: BTreeMap<String, String> = v
        .build_args()
        .map(|b| {
            b.entries()
                .filter_map(|(k, x)| x.as_str().map(|s| (k.to_string(), s.to_string())))
                .collect()
        })
        .unwrap_or_default();
    if !build_args.is_empty() {
        own.push(format!("build_args={}", dict(&build_args)));
    }
    if let Some(target) = v.target().and_then(Value::as_str) {
        own.push(format!("target={}", string(target)));
    }
    if let Some(p) = v.platform().and_then(Value::as_str) {
        common.push(format!("platform={}", string(p)));
    }
    let mut steps = live_update_steps(v, root);
    let restart = if tilt::has_restart(img) {
        tilt::restart_entrypoint(env, img).ok()
    } else {
        None
    };
    let ignore_kw = (!ignore.is_empty()).then(|| format!("ignore={}", list(&ignore)));
    let entrypoint = match restart {
        None => {
            let mut args = vec![string(&repo), string(&context)];
            args.extend(own);
            args.extend(common);
            if !steps.is_empty() {
                args.push(format!("live_update=[{}]", steps.join(", ")));
            }
            args.extend(ignore_kw);
            t.push_str(&format!("\ndocker_build({})\n", args.join(", ")));
            return;
        }
        Some(tilt::Restart::FromImage) => {
            steps.push(format!(
                "run({})",
                string(&format!("date > {RESTART_FILE}"))
            ));
            restart_from_image(name, v, &repo, &context, &dockerfile, &steps, &ignore, t);
            return;
        }
        Some(tilt::Restart::Known(argv)) => argv,
    };
    let base = format!("{repo}-restart-base");
    let mut args = vec![string(&base), string(&context)];
    args.extend(own);
    args.extend(common.iter().cloned());
    args.extend(ignore_kw.iter().cloned());
    t.push_str(&format!(
        "\n# `restart()`: built as `{}`, then wrapped so that a live update re-runs the process\n",
        comment_safe(&base)
    ));
    t.push_str(&format!("docker_build({})\n", args.join(", ")));
    let mut wrapped: Vec<String> = vec![
        "/tilt-restart-wrapper".into(),
        format!("--watch_file={RESTART_FILE}"),
    ];
    wrapped.extend(entrypoint);
    steps.push(format!(
        "run({})",
        string(&format!("date > {RESTART_FILE}"))
    ));
    let mut args = vec![
        string(&repo),
        string(&context),
        format!("dockerfile_contents={}", string(&restart_dockerfile(&base))),
        format!("entrypoint={}", list(&wrapped)),
    ];
    args.extend(common);
    args.push(format!("live_update=[{}]", steps.join(", ")));
    args.extend(ignore_kw);
    t.push_str(&format!("docker_build({})\n", args.join(", ")));
}

/// The Tilt resource of an image's `pre_build`.
pub(super) fn pre_build_name(img: &crate::model::Decl) -> String {
    format!("{}-pre-build", crate::names::k8s_name(&img.id.name))
}

/// A shell command run from the project root.
fn at_root(root: &str, command: &str) -> String {
    let dir = if root.is_empty() { "." } else { root };
    format!("cd {} && {command}", shell_word(dir))
}

/// `pre_build`: a `local_resource` (labelled `build`) the image's services
/// wait for.
fn pre_build(img: &crate::model::Decl, step: BuildStep<'_>, root: &str, t: &mut String) {
    let command = step.command().and_then(Value::as_str).unwrap_or("");
    let deps = root_paths(step.deps(), root);
    t.push_str(&format!(
        "\nlocal_resource({}, cmd={}, deps={}, labels={})\n",
        string(&pre_build_name(img)),
        string(&at_root(root, command)),
        list(&deps),
        list(&["build"])
    ));
}

/// `custom_build` or `builder` (buildpacks): Tilt's `custom_build` with the
/// user's command, or `pack build`, producing `$EXPECTED_REF`. True when
/// the image is built one of these ways.
fn other_build(v: Image<'_>, repo: &str, root: &str, t: &mut String) -> bool {
    let steps = live_update_steps(v, root);
    let (command, deps) = if let Some(c) = v.custom_build() {
        let c = BuildStep::of(c);
        (
            at_root(root, c.command().and_then(Value::as_str).unwrap_or("")),
            root_paths(c.deps(), root),
        )
    } else if let Some(builder) = v.builder().and_then(Value::as_str) {
        let ctx = v.context().and_then(Value::as_str).unwrap_or(".");
        let mut cmd = format!(
            "pack build \"$EXPECTED_REF\" --builder {} --path {}",
            shell_word(builder),
            shell_word(ctx)
        );
        if let Some(p) = v.platform().and_then(Value::as_str) {
            cmd.push_str(&format!(" --platform {}", shell_word(p)));
        }
        for (k, x) in v
            .build_args()
            .map(|b| b.entries().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            if let Some(s) = x.as_str() {
                cmd.push_str(&format!(" --env {}", shell_word(&format!("{k}={s}"))));
            }
        }
        (at_root(root, &cmd), vec![join_root(root, ctx)])
    } else {
        return false;
    };
    let mut args = vec![
        string(repo),
        string(&command),
        format!("deps={}", list(&deps)),
    ];
    if !steps.is_empty() {
        args.push(format!("live_update=[{}]", steps.join(", ")));
    }
    t.push_str(&format!("\ncustom_build({})\n", args.join(", ")));
    true
}
