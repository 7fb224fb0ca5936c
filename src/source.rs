//! Source files and spans.
//!
//! Input: file texts registered by the loader. Output: [`FileId`]s and [`Span`]s
//! that every later phase carries, plus line/column lookup for rendering.
//! Invariant: a span's byte offsets always lie on char boundaries of its file.

use std::path::{Path, PathBuf};

/// Index of a file in the [`SourceMap`].
#[derive(
    serde::Serialize,
    serde::Deserialize,
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
)]
pub struct FileId(pub u32);

/// A byte range in one source file.
#[derive(
    serde::Serialize,
    serde::Deserialize,
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
)]
pub struct Span {
    /// The file the range is in.
    pub file: FileId,
    /// Start byte offset (inclusive).
    pub start: u32,
    /// End byte offset (exclusive).
    pub end: u32,
}

impl Span {
    /// A span over `start..end` of `file`.
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span {
            file,
            start: u32::try_from(start).unwrap_or(u32::MAX),
            end: u32::try_from(end).unwrap_or(u32::MAX),
        }
    }

    /// The smallest span covering both (same file assumed; else `self`).
    pub fn to(self, other: Span) -> Span {
        if self.file != other.file {
            return self;
        }
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// Byte length of the span.
    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start) as usize
    }

    /// Whether the span is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One loaded source file.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The file's id.
    pub id: FileId,
    /// Path as shown to the user (relative where possible).
    pub path: PathBuf,
    /// Full text.
    pub text: String,
    /// Whether the file is part of the embedded stdlib.
    pub stdlib: bool,
    line_starts: Vec<usize>,
}

impl SourceFile {
    /// 1-based line and column (in chars) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.line_starts.get(line).copied().unwrap_or(0);
        let col = self
            .text
            .get(start..offset.min(self.text.len()))
            .map(|s| s.chars().count())
            .unwrap_or(0);
        (line + 1, col + 1)
    }

    /// The text under a span (empty when out of range).
    pub fn slice(&self, span: Span) -> &str {
        self.text
            .get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }
}

/// All files of a run, stdlib first.
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// The size of the project's own sources (the stdlib's not counted):
    /// what decides whether a run is small (`par::set_serial`) or large
    /// (a compile frees its syntax trees early).
    pub fn project_bytes(&self) -> usize {
        self.files
            .iter()
            .filter(|f| !f.stdlib)
            .map(|f| f.text.len())
            .sum()
    }

    /// An empty map.
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    /// Register a file and return its id.
    pub fn add(&mut self, path: PathBuf, text: String, stdlib: bool) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        self.files.push(SourceFile {
            id,
            path,
            text,
            stdlib,
            line_starts,
        });
        id
    }

    /// The file with this id.
    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    /// Every file, in registration order.
    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }

    /// Path of a file (empty when unknown).
    pub fn path(&self, id: FileId) -> &Path {
        self.get(id)
            .map(|f| f.path.as_path())
            .unwrap_or(Path::new(""))
    }

    /// The text under a span.
    pub fn slice(&self, span: Span) -> &str {
        self.get(span.file).map(|f| f.slice(span)).unwrap_or("")
    }
}
