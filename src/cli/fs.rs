//! The file-system [`Host`]: the only place the front end reads files.

use shipc::load::Host;
use std::path::{Path, PathBuf};

/// Reads the real file system.
pub struct FsHost;

impl Host for FsHost {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        std::fs::read(path)
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

/// The PATH argument, defaulted: `./ship` if it exists, else `.`.
pub fn project_path(arg: Option<&Path>) -> PathBuf {
    match arg {
        Some(p) => p.to_path_buf(),
        None if Path::new("ship").is_dir() => PathBuf::from("ship"),
        None => PathBuf::from("."),
    }
}
