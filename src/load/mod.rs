//! Module discovery: the root module (a folder's `*.ship` files, or one file),
//! the modules it imports (transitively), and the embedded stdlib.
//!
//! All file access goes through the [`Host`] trait (the file system in the CLI,
//! memory in tests). Output: a [`SourceMap`] and the parsed files. A file with a
//! syntax error is reported and left out; the others are still checked, and
//! the program is marked incomplete so that names it might have declared do
//! not cascade into unknown-name errors.
//! Codes owned: E0007, E1004–E1007 (plus the syntax codes of each file).

pub mod stdlib;

use crate::diag::{suggest, Code, Diagnostic, Diagnostics};
use crate::source::{FileId, SourceMap, Span};
use crate::syntax::{self, ast};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

/// File access for the loader.
pub trait Host {
    /// The bytes of a file.
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>>;
    /// The entries of a folder (any order).
    fn list_dir(&self, path: &Path) -> std::io::Result<Vec<PathBuf>>;
    /// Whether the path is a folder.
    fn is_dir(&self, path: &Path) -> bool;
    /// Whether the path exists.
    fn exists(&self, path: &Path) -> bool;
}

/// An in-memory [`Host`] for tests and tools: path → text.
#[derive(Debug, Default, Clone)]
pub struct MemoryHost {
    /// Files by normalised path.
    pub files: BTreeMap<PathBuf, Vec<u8>>,
}

impl MemoryHost {
    /// An empty host.
    pub fn new() -> MemoryHost {
        MemoryHost::default()
    }

    /// Add a file.
    pub fn add(&mut self, path: impl Into<PathBuf>, text: impl Into<Vec<u8>>) -> &mut MemoryHost {
        self.files.insert(normalize(&path.into()), text.into());
        self
    }
}

impl Host for MemoryHost {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        self.files
            .get(&normalize(path))
            .cloned()
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"))
    }

    fn list_dir(&self, path: &Path) -> std::io::Result<Vec<PathBuf>> {
        let dir = normalize(path);
        let mut out = BTreeSet::new();
        // Paths order component by component, so a folder's files are one
        // range of the map.
        for f in self.files.range(dir.clone()..).map(|(k, _)| k) {
            let Ok(rest) = f.strip_prefix(&dir) else {
                break;
            };
            if let Some(first) = rest.components().next() {
                out.insert(dir.join(first));
            }
        }
        Ok(out.into_iter().collect())
    }

    fn is_dir(&self, path: &Path) -> bool {
        let dir = normalize(path);
        self.files
            .range(dir.clone()..)
            .map(|(k, _)| k)
            .take_while(|f| f.starts_with(&dir))
            .any(|f| f != &dir)
    }

    fn exists(&self, path: &Path) -> bool {
        self.files.contains_key(&normalize(path)) || self.is_dir(path)
    }
}

/// The embedded stdlib: (module, file name, text). Files named `prelude*` are
/// global; others are the module `std.<stem>`.
pub const STDLIB: &[(&str, &str)] = &[
    (
        "prelude.ship",
        include_str!("../../stdlib/ship/prelude.ship"),
    ),
    (
        "security.ship",
        include_str!("../../stdlib/ship/security.ship"),
    ),
];

/// The stdlib modules that `import std.X` accepts.
pub fn std_modules() -> Vec<&'static str> {
    STDLIB
        .iter()
        .filter_map(|(name, _)| name.strip_suffix(".ship"))
        .filter(|n| !n.starts_with("prelude"))
        .collect()
}

/// A parsed file with where it belongs.
#[derive(Debug, Clone)]
pub struct LoadedFile {
    /// The syntax tree.
    pub ast: ast::File,
    /// `Some("security")` for `stdlib/ship/security.ship`; `None` for the
    /// prelude and for user files.
    pub std_module: Option<String>,
    /// Whether this file belongs to the stdlib.
    pub stdlib: bool,
}

/// Everything the loader found.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// All source texts (stdlib first).
    pub sources: SourceMap,
    /// Parsed files (those with a syntax error are left out).
    pub files: Vec<LoadedFile>,
    /// The project root (the folder holding `ship/`, or the file's folder).
    pub root: PathBuf,
    /// `import std.X` aliases: `X` → module.
    pub std_imports: BTreeMap<String, Span>,
    /// Whether some user file failed to parse or load.
    pub incomplete: bool,
}

/// A failure to load anything at all (not a source diagnostic).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// What went wrong, with the path.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Lexically normalise a path (`a/./b/../c` → `a/c`) without touching disk.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(out.last(), Some(Component::Normal(_))) {
                    out.pop();
                } else if !matches!(out.last(), Some(Component::RootDir | Component::Prefix(_))) {
                    out.push(c);
                }
            }
            _ => out.push(c),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

/// The project root for a PATH argument: a folder named `ship` → its parent;
/// another folder → itself; a file → its folder.
pub fn project_root(host: &dyn Host, path: &Path) -> PathBuf {
    let path = normalize(path);
    if host.is_dir(&path) {
        if path.file_name().is_some_and(|n| n == "ship") {
            return path
                .parent()
                .map(|p| {
                    if p.as_os_str().is_empty() {
                        PathBuf::from(".")
                    } else {
                        p.to_path_buf()
                    }
                })
                .unwrap_or_else(|| PathBuf::from("."));
        }
        return path;
    }
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Load only the stdlib (used to type-check it, and by [`load`]).
pub fn load_stdlib(loaded: &mut Loaded, diags: &mut Diagnostics) {
    load_stdlib_with(loaded, diags, None);
}

fn load_stdlib_with(loaded: &mut Loaded, diags: &mut Diagnostics, cache: Option<&ParseCache>) {
    // The trees parsed when shipc was built, when they are of this text
    // and the stdlib's files get the ids they were parsed with.
    let mut embedded = stdlib::embedded()
        .filter(|_| loaded.sources.files().is_empty())
        .map(Vec::into_iter);
    for (name, text) in STDLIB {
        let id = loaded.sources.add(
            PathBuf::from(format!("<std>/{name}")),
            (*text).to_string(),
            true,
        );
        let std_module = name
            .strip_suffix(".ship")
            .filter(|n| !n.starts_with("prelude"))
            .map(str::to_string);
        if let Some(ast) = embedded.as_mut().and_then(Iterator::next) {
            loaded.files.push(LoadedFile {
                ast,
                std_module,
                stdlib: true,
            });
            continue;
        }
        if let Some(file) = loaded.sources.get(id) {
            match parse_file(cache, file) {
                Ok(ast) => loaded.files.push(LoadedFile {
                    ast,
                    std_module,
                    stdlib: true,
                }),
                Err(d) => diags.push(*d),
            }
        }
    }
}

/// Load the module at `path` (a `.ship` file or a folder), its imports and the
/// stdlib. Source problems become diagnostics; only an unusable `path` is an
/// error.
pub fn load(host: &dyn Host, path: &Path, diags: &mut Diagnostics) -> Result<Loaded, LoadError> {
    load_with(host, path, diags, None)
}

/// Parsed files kept between loads (the language server re-checks after
/// every edit): a file whose id and text are those of a cached parse is
/// not parsed again. Syntax errors are cached too.
#[derive(Debug, Default)]
pub struct ParseCache {
    files: std::sync::Mutex<BTreeMap<FileId, Parsed>>,
}

type Parsed = (String, Result<std::sync::Arc<ast::File>, Box<Diagnostic>>);

impl ParseCache {
    /// An empty cache.
    pub fn new() -> ParseCache {
        ParseCache::default()
    }

    /// The syntax tree of a file as last parsed, if `text` is still its text.
    pub fn ast(&self, id: FileId, text: &str) -> Option<std::sync::Arc<ast::File>> {
        let files = self.files.lock().ok()?;
        match files.get(&id) {
            Some((t, Ok(ast))) if t == text => Some(ast.clone()),
            _ => None,
        }
    }

    fn parse(&self, file: &crate::source::SourceFile) -> Result<ast::File, Box<Diagnostic>> {
        if let Ok(files) = self.files.lock() {
            if let Some((text, result)) = files.get(&file.id) {
                if *text == file.text {
                    return result.as_ref().map(|a| (**a).clone()).map_err(Clone::clone);
                }
            }
        }
        let result = syntax::parse(file);
        if let Ok(mut files) = self.files.lock() {
            let kept = result
                .as_ref()
                .map(|a| std::sync::Arc::new(a.clone()))
                .map_err(Clone::clone);
            files.insert(file.id, (file.text.clone(), kept));
        }
        result
    }
}

fn parse_file(
    cache: Option<&ParseCache>,
    file: &crate::source::SourceFile,
) -> Result<ast::File, Box<Diagnostic>> {
    match cache {
        Some(c) => c.parse(file),
        None => syntax::parse(file),
    }
}

/// [`load`], reusing (and filling) a [`ParseCache`].
pub fn load_with(
    host: &dyn Host,
    path: &Path,
    diags: &mut Diagnostics,
    cache: Option<&ParseCache>,
) -> Result<Loaded, LoadError> {
    let path = normalize(path);
    if !host.exists(&path) {
        return Err(LoadError {
            message: format!("`{}` does not exist", path.display()),
            hint: Some(
                "pass a `.ship` file or a folder of them (default: `./ship`, else `.`)".into(),
            ),
        });
    }
    let mut loaded = Loaded {
        root: project_root(host, &path),
        ..Loaded::default()
    };
    load_stdlib_with(&mut loaded, diags, cache);
    let mut modules: BTreeSet<PathBuf> = BTreeSet::new();
    // Module import graph for cycle detection: module → [(imported, span)].
    let mut edges: BTreeMap<PathBuf, Vec<(PathBuf, Span)>> = BTreeMap::new();
    let mut queue = vec![path.clone()];
    let root_is_file = !host.is_dir(&path);
    if root_is_file && path.extension().is_none_or(|e| e != "ship") {
        return Err(LoadError {
            message: format!("`{}` is not a `.ship` file", path.display()),
            hint: None,
        });
    }
    while let Some(module) = queue.pop() {
        if !modules.insert(module.clone()) {
            continue;
        }
        let to_parse = read_module(host, &module, &mut loaded, diags)?;
        let parsed = parse_all(&loaded.sources, &to_parse, cache);
        for ((_, file_path), result) in to_parse.into_iter().zip(parsed) {
            let ast = match result {
                Ok(ast) => ast,
                Err(d) => {
                    diags.push(*d);
                    loaded.incomplete = true;
                    continue;
                }
            };
            let dir = file_path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            for item in &ast.items {
                let ast::Item::Import(imp) = item else {
                    continue;
                };
                match &imp.target {
                    ast::ImportTarget::Std(parts) => {
                        std_import(parts, imp.span, &mut loaded, diags)
                    }
                    ast::ImportTarget::Path(rel, span) => {
                        let next = path_import(
                            host,
                            rel,
                            *span,
                            &dir,
                            &module,
                            &path,
                            &modules,
                            &mut loaded,
                            diags,
                        );
                        if let Some(target_module) = next {
                            edges
                                .entry(module.clone())
                                .or_default()
                                .push((target_module.clone(), *span));
                            queue.push(target_module);
                        }
                    }
                }
            }
            loaded.files.push(LoadedFile {
                ast,
                std_module: None,
                stdlib: false,
            });
        }
    }
    report_cycles(&edges, diags);
    Ok(loaded)
}

/// Read a module's files into the source map: a UTF-8 BOM is dropped,
/// invalid UTF-8 is E0007. Returns the files to parse.
fn read_module(
    host: &dyn Host,
    module: &Path,
    loaded: &mut Loaded,
    diags: &mut Diagnostics,
) -> Result<Vec<(crate::source::FileId, PathBuf)>, LoadError> {
    let files = module_files(host, module).map_err(|e| LoadError {
        message: format!("cannot read `{}`: {e}", module.display()),
        hint: None,
    })?;
    let mut to_parse: Vec<(crate::source::FileId, PathBuf)> = Vec::new();
    for file_path in files {
        let bytes = match host.read(&file_path) {
            Ok(b) => b,
            Err(e) => {
                return Err(LoadError {
                    message: format!("cannot read `{}`: {e}", file_path.display()),
                    hint: None,
                })
            }
        };
        // A UTF-8 byte order mark (Windows editors write one) is not text.
        let bytes = match bytes.strip_prefix(b"\xef\xbb\xbf") {
            Some(rest) => rest.to_vec(),
            None => bytes,
        };
        let (text, utf8_error) = match String::from_utf8(bytes) {
            Ok(t) => (t, None),
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                (String::from_utf8_lossy(e.as_bytes()).into_owned(), Some(at))
            }
        };
        let id = loaded.sources.add(file_path.clone(), text, false);
        if let Some(at) = utf8_error {
            let prefix = loaded
                .sources
                .get(id)
                .map(|f| f.text.get(..at).map_or(0, str::len))
                .unwrap_or(0);
            diags.push(
                Diagnostic::new(
                    Code::E0007,
                    Span::new(id, prefix, prefix + 1),
                    "file is not valid UTF-8",
                )
                .label("invalid byte here"),
            );
            loaded.incomplete = true;
            continue;
        }
        to_parse.push((id, file_path));
    }
    Ok(to_parse)
}

/// `import std.NAME`: a stdlib module, or E1007.
fn std_import(parts: &[ast::Ident], span: Span, loaded: &mut Loaded, diags: &mut Diagnostics) {
    let names: Vec<&str> = parts.iter().map(|p| p.name.as_str()).collect();
    let ok = names.len() == 2
        && names.first() == Some(&"std")
        && std_modules().contains(names.get(1).unwrap_or(&""));
    if ok {
        if let Some(m) = parts.get(1) {
            loaded.std_imports.insert(m.name.clone(), m.span);
        }
    } else {
        let shown = names.join(".");
        let last = names.last().copied().unwrap_or("");
        let mods: Vec<String> = std_modules().iter().map(|m| format!("std.{m}")).collect();
        diags.push(
            Diagnostic::new(
                Code::E1007,
                span,
                format!("unknown stdlib module `{shown}`"),
            )
            .label("no such module")
            .maybe_help(
                suggest::closest(last, std_modules()).map(|c| format!("did you mean `std.{c}`?")),
            )
            .note(format!("stdlib modules: {}", mods.join(", "))),
        );
    }
}

/// `import "path"`: the module it names, to load next (none: an error
/// was reported, or it is this module).
#[allow(clippy::too_many_arguments)]
fn path_import(
    host: &dyn Host,
    rel: &str,
    span: Span,
    dir: &Path,
    module: &Path,
    path: &Path,
    modules: &BTreeSet<PathBuf>,
    loaded: &mut Loaded,
    diags: &mut Diagnostics,
) -> Option<PathBuf> {
    let target = normalize(&dir.join(rel));
    if escapes(&loaded.root, &target) {
        diags.push(
            Diagnostic::new(
                Code::E1006,
                span,
                format!("import `{rel}` leaves the project root"),
            )
            .label("outside the project")
            .help(format!(
                "keep imported files inside `{}`",
                loaded.root.display()
            )),
        );
        return None;
    }
    if !host.exists(&target) {
        diags.push(
            Diagnostic::new(Code::E1004, span, format!("cannot find `{rel}`"))
                .label(format!("no file or folder at `{}`", target.display()))
                .help("import paths are relative to the importing file"),
        );
        loaded.incomplete = true;
        return None;
    }
    let target_module = module_of(host, &target, modules, path);
    (target_module != module).then_some(target_module)
}

/// Parse files on all cores (a module's files are independent), results in
/// input order.
fn parse_all(
    sources: &SourceMap,
    files: &[(crate::source::FileId, PathBuf)],
    cache: Option<&ParseCache>,
) -> Vec<Result<ast::File, Box<Diagnostic>>> {
    let parse_one = |id: crate::source::FileId| match sources.get(id) {
        Some(f) => parse_file(cache, f),
        None => Err(Box::new(Diagnostic::new(
            Code::E0001,
            Span::default(),
            "missing source",
        ))),
    };
    let ids: Vec<crate::source::FileId> = files.iter().map(|(id, _)| *id).collect();
    crate::par::map(ids, parse_one)
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|| {
                Err(Box::new(Diagnostic::new(
                    Code::E0001,
                    Span::default(),
                    "parser thread failed",
                )))
            })
        })
        .collect()
}

fn module_files(host: &dyn Host, module: &Path) -> std::io::Result<Vec<PathBuf>> {
    if host.is_dir(module) {
        let mut files: Vec<PathBuf> = host
            .list_dir(module)?
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "ship") && !host.is_dir(p))
            .collect();
        files.sort();
        Ok(files)
    } else {
        Ok(vec![module.to_path_buf()])
    }
}

/// The module an import target belongs to: a folder is its own module; a file
/// inside an already-loaded folder module (or the root folder) belongs to it.
fn module_of(host: &dyn Host, target: &Path, loaded: &BTreeSet<PathBuf>, root: &Path) -> PathBuf {
    if host.is_dir(target) {
        return target.to_path_buf();
    }
    if let Some(parent) = target.parent() {
        if loaded.contains(parent) || (parent == root && host.is_dir(root)) {
            return parent.to_path_buf();
        }
    }
    target.to_path_buf()
}

fn escapes(root: &Path, target: &Path) -> bool {
    let root = normalize(root);
    if root == Path::new(".") {
        return target
            .components()
            .next()
            .is_some_and(|c| matches!(c, Component::ParentDir | Component::RootDir));
    }
    !target.starts_with(&root)
}

fn report_cycles(edges: &BTreeMap<PathBuf, Vec<(PathBuf, Span)>>, diags: &mut Diagnostics) {
    // Depth-first search with an explicit stack (an import chain may be
    // thousands of modules long); a back edge closes a cycle, reported at
    // its import.
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Active,
        Done,
    }
    let none: &[(PathBuf, Span)] = &[];
    let mut state: BTreeMap<&PathBuf, State> = BTreeMap::new();
    for root in edges.keys() {
        if state.contains_key(root) {
            continue;
        }
        // (module, the span of the import that reached it, next edge index)
        let mut stack: Vec<(&PathBuf, Span, usize)> = vec![(root, Span::default(), 0)];
        state.insert(root, State::Active);
        while let Some(top) = stack.last_mut() {
            let (m, _, next) = *top;
            let out = edges.get(m).map_or(none, Vec::as_slice);
            let Some((to, span)) = out.get(next) else {
                state.insert(m, State::Done);
                stack.pop();
                continue;
            };
            top.2 += 1;
            match state.get(to) {
                Some(State::Active) => {
                    let mut d = Diagnostic::new(
                        Code::E1005,
                        *span,
                        format!(
                            "import cycle between modules: `{}` imports `{}`",
                            m.display(),
                            to.display()
                        ),
                    )
                    .label("this import closes the cycle")
                    .help("move the shared declarations into a module that both import");
                    if let Some(pos) = stack.iter().position(|(x, _, _)| *x == to) {
                        for (x, s, _) in stack.iter().skip(pos + 1) {
                            d = d.secondary(*s, format!("`{}` is imported here", x.display()));
                        }
                    }
                    diags.push(d);
                }
                Some(State::Done) => {}
                None => {
                    state.insert(to, State::Active);
                    stack.push((to, *span, 0));
                }
            }
        }
    }
}
