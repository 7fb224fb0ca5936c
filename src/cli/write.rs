//! Writing an [`OutputTree`]: everything goes to a temporary folder beside
//! the output first; each `<env>/` folder is then swapped into place with
//! renames. A failed compile never touches the output folder; a failed write
//! leaves the previous `<env>/` folders as they were.

use shipc::emit::OutputTree;
use std::path::{Path, PathBuf};

/// Write `tree` (paths start with `<env>/`) under `out`.
pub fn write_tree(out: &Path, tree: &OutputTree) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create `{}`: {e}", out.display()))?;
    let staging = out.join(format!(".shipc-staging-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    let result = stage_and_swap(out, &staging, tree);
    let _ = std::fs::remove_dir_all(&staging);
    result
}

fn stage_and_swap(out: &Path, staging: &Path, tree: &OutputTree) -> Result<Vec<PathBuf>, String> {
    // Folders first, each once (a BTreeSet puts parents before children).
    let mut dirs: std::collections::BTreeSet<PathBuf> = std::collections::BTreeSet::new();
    let mut envs: Vec<PathBuf> = Vec::new();
    for rel in tree.files.keys() {
        let rel = Path::new(rel);
        let mut parent = rel.parent();
        while let Some(p) = parent.filter(|p| !p.as_os_str().is_empty()) {
            if !dirs.insert(p.to_path_buf()) {
                break;
            }
            parent = p.parent();
        }
        if let Some(first) = rel.components().next() {
            let env = PathBuf::from(first.as_os_str());
            if !envs.contains(&env) {
                envs.push(env);
            }
        }
    }
    std::fs::create_dir_all(staging)
        .map_err(|e| format!("cannot create `{}`: {e}", staging.display()))?;
    for d in &dirs {
        let path = staging.join(d);
        std::fs::create_dir(&path)
            .map_err(|e| format!("cannot create `{}`: {e}", path.display()))?;
    }
    // Files on every core: thousands of small writes are system-call bound.
    let files: Vec<(&String, &Vec<u8>)> = tree.files.iter().collect();
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    let chunk = files.len().div_ceil(workers).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    for (rel, bytes) in part {
                        let path = staging.join(rel);
                        std::fs::write(&path, bytes)
                            .map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a writer thread failed".to_string()))
            })
            .collect::<Result<Vec<()>, String>>()
    })?;
    let mut written = Vec::new();
    for env in envs {
        let target = out.join(&env);
        let backup = out.join(format!(
            ".shipc-old-{}-{}",
            env.display(),
            std::process::id()
        ));
        let had_old = target.exists();
        if had_old {
            std::fs::rename(&target, &backup)
                .map_err(|e| format!("cannot move `{}` aside: {e}", target.display()))?;
        }
        if let Err(e) = std::fs::rename(staging.join(&env), &target) {
            if had_old {
                let _ = std::fs::rename(&backup, &target);
            }
            return Err(format!(
                "cannot move the new `{}` into place: {e}",
                target.display()
            ));
        }
        if had_old {
            let _ = std::fs::remove_dir_all(&backup);
        }
        written.push(target);
    }
    Ok(written)
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
