//! The file-system [`Host`]: the only place the front end reads files.
//!
//! Only regular files inside the project root are read, after resolving
//! symbolic links, and no more than [`MAX_SOURCE`] bytes of one: a `.ship`
//! symlink to a file outside the project, to `/dev/zero`, or a FIFO named
//! `*.ship` is an error, never read (or waited on).

use shipc::load::Host;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The largest `.ship` file (or `ship.lock`) read.
pub const MAX_SOURCE: u64 = 16 * 1024 * 1024;

/// Reads the real file system, inside one project root.
pub struct FsHost {
    /// The project root, links resolved (`None`: anywhere).
    root: Option<PathBuf>,
}

impl FsHost {
    /// A host for the project at PATH (a `.ship` file or a folder).
    pub fn for_project(path: &Path) -> FsHost {
        let root = shipc::load::project_root(&FsHost { root: None }, path);
        FsHost {
            root: root.canonicalize().ok(),
        }
    }
}

/// Read a regular file (links resolved, inside `root` when given) of at
/// most `cap` bytes. Special files are refused before they are opened.
pub fn read_regular(path: &Path, root: Option<&Path>, cap: u64) -> std::io::Result<Vec<u8>> {
    let err = |msg: String| std::io::Error::other(msg);
    let real = path.canonicalize()?;
    if let Some(root) = root {
        if !real.starts_with(root) {
            return Err(err(format!(
                "it resolves to `{}`, outside the project root `{}`",
                real.display(),
                root.display()
            )));
        }
    }
    let meta = std::fs::metadata(&real)?;
    if !meta.is_file() {
        return Err(err("it is not a regular file".into()));
    }
    if meta.len() > cap {
        return Err(err(format!(
            "it is {} bytes; the limit is {cap}",
            meta.len()
        )));
    }
    let mut out = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    std::fs::File::open(&real)?
        .take(cap + 1)
        .read_to_end(&mut out)?;
    if out.len() as u64 > cap {
        return Err(err(format!("it is larger than the limit of {cap} bytes")));
    }
    Ok(out)
}

impl Host for FsHost {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        read_regular(path, self.root.as_deref(), MAX_SOURCE)
    }

    fn list_dir(&self, path: &Path) -> std::io::Result<Vec<PathBuf>> {
        std::fs::read_dir(path)?
            .map(|e| e.map(|e| e.path()))
            .collect()
    }

    fn is_dir(&self, path: &Path) -> bool {
        path.is_dir()
    }

    fn exists(&self, path: &Path) -> bool {
        path.exists()
    }
}

/// The PATH argument, defaulted: `./ship` if it exists, else `.`. A
/// project folder given as PATH (no `.ship` file in it, a `ship/` folder
/// inside) means its `ship/` folder, as `.` does.
pub fn project_path(arg: Option<&Path>) -> PathBuf {
    let has_ship_files = |p: &Path| {
        std::fs::read_dir(p).is_ok_and(|entries| {
            entries
                .flatten()
                .any(|e| e.path().extension().is_some_and(|x| x == "ship"))
        })
    };
    match arg {
        Some(p) if p.is_dir() && !has_ship_files(p) && p.join("ship").is_dir() => p.join("ship"),
        Some(p) => p.to_path_buf(),
        None if Path::new("ship").is_dir() => PathBuf::from("ship"),
        None => PathBuf::from("."),
    }
}
