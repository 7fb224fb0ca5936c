//! Emitting: the evaluated model → files, in memory. Emitters return an
//! [`OutputTree`]; only the CLI writes it (to a temp dir, then renamed).
//!
//! `k8s` is the one place Kubernetes objects are built; every target
//! consumes it. `yaml` is a small deterministic YAML writer (keys sorted,
//! every string that a YAML 1.1 parser could read as something else quoted).

pub mod chart;
pub mod flux;
pub mod helmfile;
pub mod k8s;
pub mod starlark;
pub mod tilt;

use crate::diag::Diagnostic;
use crate::images::{Images, Overrides, PinSource};
use crate::lock::Lockfile;
use crate::model::Value;
use crate::model::{EnvKind, EnvModel};
use crate::source::SourceMap;
pub use crate::units::go_duration as units_go_duration;
use std::collections::BTreeMap;

/// Files to write: relative path (`/`-separated) → bytes. Sorted, so
/// writing is ordered.
///
/// A tree made by [`OutputTree::spilling`] hands its files over in batches
/// of about [`SPILL_BYTES`] while it is filled: a compile writes a large
/// env as it is emitted instead of holding all its text (107 MB for the
/// four envs of 10,000 services).
#[derive(Debug, Default, Clone)]
pub struct OutputTree {
    /// The files (those not yet handed over, for a spilling tree).
    pub files: BTreeMap<String, Vec<u8>>,
    spill: Option<Spill>,
    held: usize,
}

/// Where [`each_env`] hands an env's batches of files: the env's name and
/// the files.
pub type Batches<'a> = &'a (dyn Fn(&str, OutputTree) + Sync);

/// Where a spilling tree sends its batches of files.
pub type Spill = std::sync::mpsc::SyncSender<BTreeMap<String, Vec<u8>>>;

/// A spilling tree hands its files over once they hold this many bytes.
/// Each env holds up to three batches (one being written, one waiting,
/// one filling): at 4 MB, four envs held some 50 MB of text at a time,
/// the largest part of a large compile's peak memory after the analysis.
pub const SPILL_BYTES: usize = 1 << 20;

impl PartialEq for OutputTree {
    fn eq(&self, other: &OutputTree) -> bool {
        self.files == other.files
    }
}

impl Eq for OutputTree {}

impl OutputTree {
    /// An empty tree.
    pub fn new() -> OutputTree {
        OutputTree::default()
    }

    /// An empty tree that sends its files to `spill` in batches (see
    /// [`OutputTree`]); what is left at the end stays in it.
    pub fn spilling(spill: Spill) -> OutputTree {
        OutputTree {
            spill: Some(spill),
            ..OutputTree::default()
        }
    }

    /// Add (or replace) a file. The tree holds every file of a compile
    /// until it is written, so a file's text is kept in a block of its own
    /// size: text written by appending has up to twice the room it uses.
    /// A later file of the same path replaces it, also after a batch
    /// holding the first was handed over (the writer writes it again).
    pub fn add(&mut self, path: impl Into<String>, bytes: impl Into<Vec<u8>>) {
        let mut bytes = bytes.into();
        if crate::yaml::roomy(bytes.len(), bytes.capacity()) {
            bytes = bytes.as_slice().to_vec();
        }
        self.held += bytes.len();
        self.files.insert(path.into(), bytes);
        if self.held >= SPILL_BYTES {
            self.hand_over();
        }
    }

    /// Send the files held to the spill, if there is one (kept if the
    /// receiver is gone: the caller then finds the writer stopped).
    fn hand_over(&mut self) {
        let Some(spill) = &self.spill else {
            return;
        };
        self.held = 0;
        let files = std::mem::take(&mut self.files);
        if let Err(std::sync::mpsc::SendError(files)) = spill.send(files) {
            self.files = files;
            self.spill = None;
        }
    }

    /// Stop spilling: what is added from now on stays in the tree.
    pub fn stop_spilling(&mut self) {
        self.spill = None;
    }

    /// Every file of `other` under `prefix/`.
    pub fn merge_under(&mut self, prefix: &str, other: OutputTree) {
        for (p, b) in other.files {
            self.files.insert(format!("{prefix}/{p}"), b);
        }
    }
}

/// The ownership marker shipc writes into every env folder it owns (an
/// output folder of `compile`, a flux env's path in Git): a comment line,
/// then every file it wrote there.
pub const MARKER: &str = ".shipc-output";

/// The marker text for these files (paths relative to the folder).
pub fn marker<'a>(files: impl IntoIterator<Item = &'a str>) -> String {
    let mut m = String::from(
        "# Written by shipc: this folder is replaced on every compile. Files below are shipc's.\n",
    );
    for f in files.into_iter().filter(|f| *f != MARKER) {
        m.push_str(f);
        m.push('\n');
    }
    m
}

/// The files a marker lists.
pub fn marker_files(text: &str) -> Vec<&str> {
    text.lines().skip(1).collect()
}

/// Inputs of the pinned targets besides the env.
pub struct PinnedInput<'a> {
    /// The project record.
    pub project: &'a Value,
    /// Sources (for `ship.dev/source`).
    pub sources: &'a SourceMap,
    /// The project root.
    pub root: &'a std::path::Path,
    /// `ship.lock`.
    pub lock: &'a Lockfile,
    /// `--digest` / `SHIP_DIGEST_*` overrides.
    pub overrides: &'a Overrides,
    /// The `shipc lock` command that fixes a missing pin.
    pub lock_command: String,
}

impl PinnedInput<'_> {
    /// Where pins come from.
    pub fn pins(&self) -> PinSource<'_> {
        PinSource {
            lock: self.lock,
            overrides: self.overrides,
            lock_command: &self.lock_command,
        }
    }
}

/// Run `f` with the lowering context of a pinned env: its images are
/// resolved first, once ([`Images::pinned`]); returns `f`'s result and the
/// P002 problems of images without a digest.
pub fn with_pinned<R>(
    env: &EnvModel,
    input: &PinnedInput<'_>,
    f: impl FnOnce(&k8s::Context<'_>, &Images) -> R,
) -> (R, Vec<Diagnostic>) {
    let (images, problems) = Images::pinned(env, input.pins());
    let cx = k8s::Context::new(env, input.project, input.sources, input.root, &images);
    (f(&cx, &images), problems)
}

/// What `compile` needs besides the analysis.
pub struct Targets<'a> {
    /// `ship.lock` (empty when there is none).
    pub lock: &'a Lockfile,
    /// `--digest` / `SHIP_DIGEST_*` overrides.
    pub overrides: &'a Overrides,
    /// The project root as seen from `<out>/<env>/`, by env name (Tilt
    /// paths are relative to the Tiltfile).
    pub root_from_output: &'a (dyn Fn(&str) -> String + Sync),
    /// The project path as the user passed it (` PATH`, or empty), for the
    /// `shipc lock` command that P002 names.
    pub path_arg: &'a str,
}

/// Emit every env of the analysis (each with a graph) into one tree,
/// `<env>/…`, plus the P002 problems of pinned envs (not yet configured by
/// `policy {}`). Envs are emitted on all cores; the result does not depend
/// on scheduling. `Err` names an env whose emitter stopped unexpectedly (a
/// bug): nothing of that compile may be written.
pub fn all(
    analysis: &crate::Analysis,
    t: &Targets<'_>,
) -> Result<(OutputTree, Vec<Diagnostic>), String> {
    let (trees, problems) = each_env(analysis, t, None, |env, tree| (env.to_string(), tree))?;
    let mut tree = OutputTree::new();
    for (env, t) in trees {
        tree.merge_under(&env, t);
    }
    Ok((tree, problems))
}

/// The envs [`each_env`] emits (those with a graph), in order.
pub fn env_names(analysis: &crate::Analysis) -> Vec<String> {
    jobs(analysis)
        .into_iter()
        .map(|(env, _)| env.name.clone())
        .collect()
}

fn jobs(analysis: &crate::Analysis) -> Vec<(&EnvModel, &crate::graph::DepGraph)> {
    analysis
        .checked
        .envs
        .iter()
        .filter_map(|env| {
            let g = analysis.graphs.iter().find(|g| g.env == env.name)?;
            Some((env, g))
        })
        .collect()
}

/// As [`all`], but each env's files (paths relative to its folder) go to
/// `sink` on the thread that emitted them, as soon as they are emitted, and
/// are not kept: `compile` stages them on disk while other envs are still
/// being emitted, so a compile never holds every env's text at once.
/// With `batches`, a large env's files go there while it is emitted, in
/// batches (see [`OutputTree::spilling`]), on a thread of the env's own,
/// and `sink` gets the rest. Returns `sink`'s results in env order.
pub fn each_env<R: Send>(
    analysis: &crate::Analysis,
    t: &Targets<'_>,
    batches: Option<Batches<'_>>,
    sink: impl Fn(&str, OutputTree) -> R + Sync,
) -> Result<(Vec<R>, Vec<Diagnostic>), String> {
    let jobs = jobs(analysis);
    let results = crate::par::each(&jobs, |&(env, graph)| {
        // Only an env with a round of services or more fills a batch.
        let batches = batches.filter(|_| env.services.len() >= k8s::SERVICES_PER_ROUND);
        let Some(batches) = batches else {
            let (tree, problems) = one_env(analysis, env, graph, t, OutputTree::new());
            return Some((sink(&env.name, tree), problems));
        };
        std::thread::scope(|scope| {
            // One batch waits while the next is made: at most three are
            // held at once.
            let (send, receive) = std::sync::mpsc::sync_channel(1);
            let writer = crate::par::try_spawn_in(scope, move || {
                for files in receive {
                    batches(
                        &env.name,
                        OutputTree {
                            files,
                            ..OutputTree::default()
                        },
                    );
                }
            });
            let Some(writer) = writer else {
                // No thread for a writer: the env is handed over whole.
                let (tree, problems) = one_env(analysis, env, graph, t, OutputTree::new());
                return Some((sink(&env.name, tree), problems));
            };
            let (mut tree, problems) = one_env(analysis, env, graph, t, OutputTree::spilling(send));
            tree.stop_spilling();
            // A writer that stopped may have written part of a batch.
            writer.join().ok()?;
            Some((sink(&env.name, tree), problems))
        })
    });
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for ((env, _), r) in jobs.iter().zip(results) {
        let Some((r, p)) = r.flatten() else {
            return Err(format!(
                "internal error: emitting env `{}` stopped unexpectedly",
                env.name
            ));
        };
        out.push(r);
        problems.extend(p);
    }
    Ok((out, problems))
}

/// What the pinned targets (helmfile, flux) take besides the env.
fn pinned_input<'a>(
    analysis: &'a crate::Analysis,
    env: &EnvModel,
    t: &'a Targets<'_>,
) -> PinnedInput<'a> {
    let builds = env.builds_images();
    let tag = if builds { " --tag <TAG>" } else { "" };
    PinnedInput {
        project: &analysis.checked.project,
        sources: &analysis.loaded.sources,
        root: &analysis.loaded.root,
        lock: t.lock,
        overrides: t.overrides,
        lock_command: format!("shipc lock --env {}{tag}{}", env.name, t.path_arg),
    }
}

fn one_env(
    analysis: &crate::Analysis,
    env: &EnvModel,
    graph: &crate::graph::DepGraph,
    t: &Targets<'_>,
    out: OutputTree,
) -> (OutputTree, Vec<Diagnostic>) {
    let (project, sources, root) = (
        &analysis.checked.project,
        &analysis.loaded.sources,
        &analysis.loaded.root,
    );
    // `kind` and `tilt.strategy` are checked literal unions: every value
    // has a target, and the match is exhaustive.
    match env.env_kind() {
        EnvKind::Tilt => {
            let root_from_output = (t.root_from_output)(&env.name);
            let input = tilt::TiltInput {
                project,
                sources,
                root,
                root_from_output: &root_from_output,
            };
            (tilt::emit_into(env, graph, &input, out), Vec::new())
        }
        EnvKind::Helmfile => helmfile::emit_into(env, graph, &pinned_input(analysis, env, t), out),
        EnvKind::Flux => flux::emit_into(env, graph, &pinned_input(analysis, env, t), out),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_spilling_tree_hands_over_what_a_whole_tree_keeps() {
        let (send, receive) = std::sync::mpsc::sync_channel(64);
        let mut spilling = OutputTree::spilling(send);
        let mut whole = OutputTree::new();
        let text = "x".repeat(100_000);
        for i in 0..100 {
            // A path added again later replaces the first, also when the
            // first was already handed over.
            let path = format!("f{}", i % 70);
            let bytes = format!("{i}{text}");
            spilling.add(path.clone(), bytes.clone());
            whole.add(path, bytes);
        }
        spilling.stop_spilling();
        let mut got = BTreeMap::new();
        let mut batches = 0;
        while let Ok(files) = receive.try_recv() {
            batches += 1;
            got.extend(files);
        }
        assert!(batches >= 2, "{batches} batches");
        got.extend(std::mem::take(&mut spilling.files));
        assert_eq!(got, whole.files);
        // Once it stops spilling, a tree keeps what it is given.
        for i in 0..60 {
            spilling.add(format!("g{i}"), text.clone());
        }
        assert_eq!(spilling.files.len(), 60);
    }
}
