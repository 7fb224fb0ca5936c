//! Writing an [`OutputTree`] safely: nothing shipc did not write is ever
//! replaced, and a run is all-or-nothing across its envs.
//!
//! * **Ownership.** Each `<env>/` folder shipc writes holds a marker,
//!   `.shipc-output`, listing every file it wrote. An existing `<env>/` is
//!   replaced only when it is empty or its marker lists every file in it;
//!   anything else (a project's sources, the `flux-system/` that `flux
//!   bootstrap` writes, a file someone added) is refused with the paths
//!   that would be lost, unless `--force`. Output inside the module folder
//!   (`ship/`), or an env folder that contains it, is refused even then.
//! * **One writer.** `DIR` itself is locked (an OS file lock on the
//!   folder, released when the process dies) for the whole write; a second
//!   compile into the same folder stops with an error instead of mixing
//!   trees.
//! * **All or nothing.** Everything is staged in `DIR/.shipc-staging-<run>`
//!   (each env as soon as it is emitted, while others still are, and a
//!   large env in batches while it is: the compile never holds every env's
//!   text at once). Only when every env
//!   is staged and no error was found, a journal (`DIR/.shipc-journal`)
//!   records the envs being swapped, every old `<env>/` is moved aside and
//!   every new one moved in. A failure
//!   rolls every env back; a run killed mid-swap is rolled back by the next
//!   run (from the journal) before it writes. Stale staging and backup
//!   folders of earlier runs are removed.

use shipc::emit::OutputTree;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The ownership marker in every env folder shipc writes.
pub use shipc::emit::MARKER;
const JOURNAL: &str = ".shipc-journal";
const STAGING: &str = ".shipc-staging-";
const BACKUP: &str = ".shipc-old-";

/// How to write.
pub struct WriteOptions<'a> {
    /// Replace env folders shipc did not write.
    pub force: bool,
    /// The module folder (`ship/`) or file: never written into.
    pub module: &'a Path,
}

/// A write under way: `DIR` locked, every env folder checked, the staging
/// folder made. Envs are staged with [`Staged::add_env`] (from any thread)
/// and put in place all at once by [`Staged::commit`]; a `Staged` dropped
/// without a commit removes what it staged, and `DIR` itself when this
/// write made it and it is still empty.
pub struct Staged {
    out: PathBuf,
    staging: PathBuf,
    envs: Vec<String>,
    /// What each env (in `envs` order) has staged so far.
    stages: Vec<std::sync::Mutex<EnvStage>>,
    run: String,
    made_out: bool,
    lock: Option<std::fs::File>,
}

/// One env's staging folder: what is in it so far.
#[derive(Default)]
struct EnvStage {
    /// The folder itself is made.
    made: bool,
    /// Folders made in it.
    dirs: BTreeSet<String>,
    /// Files staged by [`Staged::add_batch`].
    files: BTreeSet<String>,
    /// Why a batch could not be staged (reported by [`Staged::add_env`]).
    error: Option<String>,
}

/// Start writing `envs` under `out`: lock it, finish or undo what an earlier
/// run left, check that each env folder may be replaced, make the staging
/// folder.
pub fn begin(out: &Path, envs: &[String], options: &WriteOptions<'_>) -> Result<Staged, String> {
    let made_out = !out.exists();
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create `{}`: {e}", out.display()))?;
    let mut staged = Staged {
        out: out.to_path_buf(),
        staging: PathBuf::new(),
        envs: envs.to_vec(),
        stages: envs.iter().map(|_| Default::default()).collect(),
        run: run_id(),
        made_out,
        lock: None,
    };
    // The output folder itself is locked (flock on its descriptor): no lock
    // file is left in a tree that may be committed to Git.
    let lock_path = out;
    let lock =
        std::fs::File::open(out).map_err(|e| format!("cannot open `{}`: {e}", out.display()))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            return Err(format!(
                "another shipc is writing to `{}`: wait for it to finish",
                out.display()
            ))
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(format!("cannot lock `{}`: {e}", lock_path.display()))
        }
    }
    staged.lock = Some(lock);
    recover(out)?;
    for env in envs {
        check_target(&out.join(env), options)?;
    }
    let staging = out.join(format!("{STAGING}{}", staged.run));
    std::fs::create_dir(&staging)
        .map_err(|e| format!("cannot create `{}`: {e}", staging.display()))?;
    staged.staging = staging;
    Ok(staged)
}

impl Staged {
    /// Stage one env's files (paths relative to its folder), the last of
    /// them when batches came before, and its marker; returns how many
    /// files it has.
    pub fn add_env(&self, env: &str, tree: &OutputTree) -> Result<usize, String> {
        let mut stage = self.stage(env)?;
        if let Some(e) = stage.error.take() {
            return Err(e);
        }
        let dir = self.staging.join(env);
        if !stage.made {
            make_dir(&dir)?;
            stage.made = true;
        }
        let EnvStage { dirs, files, .. } = &mut *stage;
        stage_files(&dir, &tree.files, dirs)?;
        let (marker, count) = if files.is_empty() {
            let keys = tree.files.keys().map(String::as_str);
            (shipc::emit::marker(keys), tree.files.len())
        } else {
            files.extend(tree.files.keys().cloned());
            let keys = files.iter().map(String::as_str);
            (shipc::emit::marker(keys), files.len())
        };
        let path = dir.join(MARKER);
        std::fs::write(&path, marker)
            .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
        Ok(count)
    }

    /// Stage some of an env's files while it is still emitted; a failure
    /// is reported by the env's [`Staged::add_env`].
    pub fn add_batch(&self, env: &str, tree: OutputTree) {
        // An env that was not checked is reported by `add_env` too.
        let Ok(mut stage) = self.stage(env) else {
            return;
        };
        if stage.error.is_some() {
            return;
        }
        let dir = self.staging.join(env);
        let staged = if stage.made { Ok(()) } else { make_dir(&dir) }.and_then(|()| {
            stage.made = true;
            stage_files(&dir, &tree.files, &mut stage.dirs)
        });
        match staged {
            Ok(()) => stage.files.extend(tree.files.into_keys()),
            Err(e) => stage.error = Some(e),
        }
    }

    /// What `env` has staged so far.
    fn stage(&self, env: &str) -> Result<std::sync::MutexGuard<'_, EnvStage>, String> {
        let i = self.envs.iter().position(|e| e == env);
        let Some(stage) = i.and_then(|i| self.stages.get(i)) else {
            return Err(format!(
                "internal error: env `{env}` was not checked for writing"
            ));
        };
        Ok(stage
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// Move every staged env into place, or none.
    pub fn commit(mut self) -> Result<Vec<PathBuf>, String> {
        let result = swap(&self.out, &self.staging, &self.envs, &self.run);
        if result.is_ok() {
            self.made_out = false;
        }
        result
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.staging.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
        drop(self.lock.take());
        if self.made_out {
            // Only an empty folder goes: this write made it.
            let _ = std::fs::remove_dir(&self.out);
        }
    }
}

/// A name for this run, unique among concurrent and earlier runs.
fn run_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{}-{nanos}", std::process::id())
}

/// Absolute and normalised, links resolved where the path exists.
fn resolved(p: &Path) -> PathBuf {
    if let Ok(c) = p.canonicalize() {
        return c;
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    };
    // The longest existing ancestor canonicalised, the rest appended.
    let mut existing = abs.as_path();
    let mut rest: Vec<&std::ffi::OsStr> = Vec::new();
    while !existing.exists() {
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name);
                existing = parent;
            }
            _ => break,
        }
    }
    let mut out = existing
        .canonicalize()
        .unwrap_or_else(|_| existing.to_path_buf());
    for r in rest.into_iter().rev() {
        out.push(r);
    }
    shipc::load::normalize(&out)
}

/// May `target` (an env folder) be replaced?
fn check_target(target: &Path, options: &WriteOptions<'_>) -> Result<(), String> {
    let module = resolved(options.module);
    let module_dir = if module.is_file() {
        module.parent().map(Path::to_path_buf).unwrap_or(module)
    } else {
        module
    };
    let t = resolved(target);
    if t.starts_with(&module_dir) || module_dir.starts_with(&t) {
        return Err(format!(
            "refusing to write `{}`: it would replace or write inside the project's sources (`{}`)",
            target.display(),
            module_dir.display()
        ) + "\n  help: choose an output folder outside the module folder (`-o out`)");
    }
    if options.force || !target.exists() {
        return Ok(());
    }
    if !target.is_dir() {
        return Err(format!(
            "refusing to replace `{}`: it is a file shipc did not write\n  help: move it away, choose another `-o`, or pass `--force`",
            target.display()
        ));
    }
    let marker = std::fs::read_to_string(target.join(MARKER)).unwrap_or_default();
    let listed = shipc::emit::marker_files(&marker);
    let mut present = Vec::new();
    files_under(target, target, &mut present)
        .map_err(|e| format!("cannot read `{}`: {e}", target.display()))?;
    let foreign: Vec<&String> = present
        .iter()
        .filter(|f| f.as_str() != MARKER && !listed.contains(&f.as_str()))
        .collect();
    if foreign.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = foreign.iter().take(5).map(|f| format!("`{f}`")).collect();
    let more = if foreign.len() > 5 {
        format!(" and {} more", foreign.len() - 5)
    } else {
        String::new()
    };
    Err(format!(
        "refusing to replace `{}`: shipc did not write {}{more}",
        target.display(),
        shown.join(", ")
    ) + "\n  help: move those files away, choose another `-o`, or pass `--force` to replace the folder anyway")
}

/// Every file under `dir`, `/`-separated and relative to `base`.
fn files_under(base: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let p = e.path();
        if e.file_type()?.is_dir() {
            files_under(base, &p, out)?;
        } else {
            let rel = p.strip_prefix(base).unwrap_or(&p);
            out.push(
                rel.components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/"),
            );
        }
    }
    Ok(())
}

/// The folder part of a `/`-separated output path.
fn parent_of(p: &str) -> Option<&str> {
    p.rfind('/').and_then(|i| p.get(..i))
}

/// Fewer files than this are written on the staging thread alone.
const WRITE_ALONE: usize = 32;

fn make_dir(path: &Path) -> Result<(), String> {
    std::fs::create_dir(path).map_err(|e| format!("cannot create `{}`: {e}", path.display()))
}

/// Write `files` under `staging`, first making the folders they need that
/// `made` does not hold (and adding them to it).
fn stage_files(
    staging: &Path,
    files: &BTreeMap<String, Vec<u8>>,
    made: &mut BTreeSet<String>,
) -> Result<(), String> {
    // Output paths are `/`-separated and sorted, so a folder comes before
    // what it holds (it is a prefix of it), and files of one folder are
    // neighbours: compare strings, and only when the folder changes
    // (`Path` comparisons walk components and were most of this loop). A
    // folder already made has its parents made too.
    let mut dirs: BTreeSet<&str> = BTreeSet::new();
    let mut last = None;
    for rel in files.keys() {
        let mut parent = parent_of(rel);
        if parent == last {
            continue;
        }
        last = parent;
        while let Some(p) = parent.filter(|p| !p.is_empty()) {
            if made.contains(p) || !dirs.insert(p) {
                break;
            }
            parent = parent_of(p);
        }
    }
    for d in &dirs {
        make_dir(&staging.join(d))?;
        made.insert((*d).to_string());
    }
    // Files on every core: thousands of small writes are system-call bound
    // (a few are written here: starting threads would cost more).
    let files: Vec<(&String, &Vec<u8>)> = files.iter().collect();
    let write = |part: &[(&String, &Vec<u8>)]| -> Result<(), String> {
        for (rel, bytes) in part {
            let path = staging.join(rel);
            std::fs::write(&path, bytes)
                .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
        }
        Ok(())
    };
    if files.len() < WRITE_ALONE {
        return write(&files);
    }
    let workers = shipc::par::cores();
    let chunk = files.len().div_ceil(workers).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| scope.spawn(move || write(part)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a writer thread failed".to_string()))
            })
            .collect::<Result<Vec<()>, String>>()
    })?;
    Ok(())
}

/// Move every staged env into place, or none.
fn swap(out: &Path, staging: &Path, envs: &[String], run: &str) -> Result<Vec<PathBuf>, String> {
    let mut journal = format!("{run}\n");
    for env in envs {
        journal.push_str(&format!("{env}\t{}\n", out.join(env).exists()));
    }
    let journal_path = out.join(JOURNAL);
    std::fs::write(&journal_path, journal)
        .map_err(|e| format!("cannot write `{}`: {e}", journal_path.display()))?;
    let result = (|| {
        for env in envs {
            let target = out.join(env);
            if target.exists() {
                std::fs::rename(&target, out.join(format!("{BACKUP}{env}-{run}")))
                    .map_err(|e| format!("cannot move `{}` aside: {e}", target.display()))?;
            }
        }
        for env in envs {
            let target = out.join(env);
            std::fs::rename(staging.join(env), &target).map_err(|e| {
                format!("cannot move the new `{}` into place: {e}", target.display())
            })?;
        }
        Ok(())
    })();
    if let Err(e) = result {
        let _ = recover(out);
        return Err(e);
    }
    let _ = std::fs::remove_file(&journal_path);
    for env in envs {
        let _ = std::fs::remove_dir_all(out.join(format!("{BACKUP}{env}-{run}")));
    }
    Ok(envs.iter().map(|e| out.join(e)).collect())
}

/// Undo a swap that did not finish (from the journal), then remove what
/// earlier runs left behind (staging and backup folders).
fn recover(out: &Path) -> Result<(), String> {
    let journal_path = out.join(JOURNAL);
    if let Ok(text) = std::fs::read_to_string(&journal_path) {
        let mut lines = text.lines();
        let run = lines.next().unwrap_or("");
        for line in lines {
            let Some((env, had_old)) = line.split_once('\t') else {
                continue;
            };
            if env.is_empty() || env.contains(['/', '\\']) || env == "." || env == ".." {
                continue;
            }
            let target = out.join(env);
            let backup = out.join(format!("{BACKUP}{env}-{run}"));
            if backup.exists() {
                if target.exists() {
                    std::fs::remove_dir_all(&target)
                        .map_err(|e| format!("cannot roll back `{}`: {e}", target.display()))?;
                }
                std::fs::rename(&backup, &target)
                    .map_err(|e| format!("cannot roll back `{}`: {e}", target.display()))?;
            } else if had_old == "false" && target.exists() {
                // New in the interrupted run: not there before it.
                std::fs::remove_dir_all(&target)
                    .map_err(|e| format!("cannot roll back `{}`: {e}", target.display()))?;
            }
        }
        std::fs::remove_file(&journal_path)
            .map_err(|e| format!("cannot remove `{}`: {e}", journal_path.display()))?;
    }
    if let Ok(entries) = std::fs::read_dir(out) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with(STAGING) || name.starts_with(BACKUP) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    Ok(())
}

/// `to` relative to `from` (both made absolute against the current folder).
pub fn relative(from: &Path, to: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    let abs = |p: &Path| {
        shipc::load::normalize(&if p.is_absolute() {
            p.to_path_buf()
        } else {
            cwd.join(p)
        })
    };
    let (from, to) = (abs(from), abs(to));
    let f: Vec<_> = from.components().collect();
    let t: Vec<_> = to.components().collect();
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); f.len().saturating_sub(common)];
    parts.extend(
        t.iter()
            .skip(common)
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}
