//! Collecting a [`Program`] from the loaded files: declarations by kind and
//! name, lets, types, templates, stdlib functions. Reports duplicates (E1002,
//! E1008), unknown types (E1001), `fn` outside the stdlib (E1011), unknown and
//! recursive templates (E1010, E1009) and templates on the wrong kinds (E1016).

pub mod types;

use crate::diag::{suggest, Code, Diagnostic, Diagnostics};
use crate::load::Loaded;
use crate::source::Span;
use crate::syntax::ast::{self, DeclKind, TypeExpr};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use types::{primitive, FieldTy, FnSig, ParamTy, RecordTy, Ty, Types};

/// The whole program: every module's declarations in one namespace.
#[derive(Debug, Default)]
pub struct Program {
    /// Type aliases (stdlib and user).
    pub types: Types,
    /// Stdlib functions.
    pub fns: BTreeMap<String, FnSig>,
    /// Templates.
    pub templates: BTreeMap<String, ast::Template>,
    /// Templates' lowered parameters.
    pub template_params: BTreeMap<String, Vec<ParamTy>>,
    /// User lets.
    pub lets: BTreeMap<String, ast::Let>,
    /// Stdlib module lets: module → name → let.
    pub std_lets: BTreeMap<String, BTreeMap<String, ast::Let>>,
    /// `import std.X` aliases.
    pub std_imports: BTreeMap<String, Span>,
    /// Declarations by kind, then name.
    pub decls: BTreeMap<DeclKind, BTreeMap<String, ast::Decl>>,
    /// The `project { }` block.
    pub project: Option<ast::Block>,
    /// The `policy { }` block.
    pub policy: Option<ast::Block>,
    /// Some file failed to load: unknown names may be declared there.
    pub incomplete: bool,
}

impl Program {
    /// The type environment.
    pub fn types_ref(&self) -> &Types {
        &self.types
    }

    /// The declarations of a kind.
    pub fn of(&self, kind: DeclKind) -> impl Iterator<Item = (&String, &ast::Decl)> {
        self.decls.get(&kind).into_iter().flat_map(|m| m.iter())
    }

    /// One declaration.
    pub fn decl(&self, kind: DeclKind, name: &str) -> Option<&ast::Decl> {
        self.decls.get(&kind).and_then(|m| m.get(name))
    }

    /// The schema type of a declaration kind.
    pub fn schema(&self, kind: DeclKind) -> Ty {
        Ty::Named(
            match kind {
                DeclKind::Image => "ImageSchema",
                DeclKind::Service => "ServiceSchema",
                DeclKind::Infra => "InfraSchema",
                DeclKind::Env => "EnvSchema",
                DeclKind::Config => "ConfigSchema",
                DeclKind::Object => "ObjectSchema",
            }
            .into(),
        )
    }

    /// Every name an expression can refer to (for suggestions).
    pub fn visible_names(&self) -> BTreeSet<String> {
        let mut names: BTreeSet<String> = self.lets.keys().cloned().collect();
        for m in self.decls.values() {
            names.extend(m.keys().cloned());
        }
        names.extend(self.std_imports.keys().cloned());
        names.extend(["env", "self", "std"].map(String::from));
        names
    }
}

/// Build the program, reporting name-level errors.
pub fn collect(loaded: &mut Loaded, diags: &mut Diagnostics) -> Program {
    let mut c = Collector {
        p: Program {
            incomplete: loaded.incomplete,
            std_imports: loaded.std_imports.clone(),
            ..Program::default()
        },
        type_decls: Vec::new(),
        fn_decls: Vec::new(),
        type_spans: BTreeMap::new(),
    };
    // The syntax trees move into the program (no copy of the whole AST).
    for f in std::mem::take(&mut loaded.files) {
        for item in f.ast.items {
            c.item(item, f.stdlib, f.std_module.as_ref(), diags);
        }
    }
    c.finish(diags)
}

/// The program being collected, and the type and function declarations
/// lowered once every name is known.
struct Collector {
    p: Program,
    type_decls: Vec<ast::TypeDecl>,
    fn_decls: Vec<ast::FnDecl>,
    type_spans: BTreeMap<String, Span>,
}

impl Collector {
    fn item(
        &mut self,
        item: ast::Item,
        stdlib: bool,
        std_module: Option<&String>,
        diags: &mut Diagnostics,
    ) {
        let is_policy = matches!(item, ast::Item::Policy(_));
        match item {
            ast::Item::Import(_) => {}
            ast::Item::Let(l) => self.let_(l, std_module, diags),
            ast::Item::Type(t) => self.type_(t, diags),
            ast::Item::Fn(fd) => self.fn_(fd, stdlib, diags),
            ast::Item::Template(t) => self.template(t, diags),
            ast::Item::Policy(b) | ast::Item::Project(b) => self.block(b, is_policy, diags),
            ast::Item::Decl(d) => self.decl(d, diags),
        }
    }

    fn let_(&mut self, l: ast::Let, std_module: Option<&String>, diags: &mut Diagnostics) {
        let p = &mut self.p;
        if let Some(m) = std_module {
            p.std_lets
                .entry(m.clone())
                .or_default()
                .insert(l.name.name.clone(), l);
        } else if let Some(old) = p.lets.get(&l.name.name) {
            diags.push(duplicate("let", &l.name, old.name.span));
        } else {
            p.lets.insert(l.name.name.clone(), l);
        }
    }

    fn type_(&mut self, t: ast::TypeDecl, diags: &mut Diagnostics) {
        let (type_spans, type_decls) = (&mut self.type_spans, &mut self.type_decls);
        if let Some(old) = type_spans.get(&t.name.name) {
            diags.push(duplicate("type", &t.name, *old));
        } else if primitive(&t.name.name).is_some() {
            diags.push(
                Diagnostic::new(
                    Code::E1002,
                    t.name.span,
                    format!("`{}` is a built-in type", t.name.name),
                )
                .label("cannot be redefined")
                .help("choose another name"),
            );
        } else {
            type_spans.insert(t.name.name.clone(), t.name.span);
            type_decls.push(t);
        }
    }

    fn fn_(&mut self, fd: ast::FnDecl, stdlib: bool, diags: &mut Diagnostics) {
        let fn_decls = &mut self.fn_decls;
        if stdlib {
            fn_decls.push(fd);
        } else {
            diags.push(
                Diagnostic::new(
                    Code::E1011,
                    fd.span,
                    "functions can only be declared in the stdlib",
                )
                .label("`fn` is not available in projects")
                .help("use a `template` to reuse parts of declarations"),
            );
        }
    }

    fn template(&mut self, t: ast::Template, diags: &mut Diagnostics) {
        let p = &mut self.p;
        if let Some(old) = p.templates.get(&t.name.name) {
            diags.push(duplicate("template", &t.name, old.name.span));
        } else {
            p.templates.insert(t.name.name.clone(), t);
        }
    }

    /// `policy { }` or `project { }`: one of each.
    fn block(&mut self, b: ast::Block, is_policy: bool, diags: &mut Diagnostics) {
        let p = &mut self.p;
        let slot = if is_policy {
            &mut p.policy
        } else {
            &mut p.project
        };
        if let Some(old) = slot {
            let what = if is_policy { "policy" } else { "project" };
            diags.push(
                Diagnostic::new(
                    Code::E1008,
                    b.keyword,
                    format!("more than one `{what}` block"),
                )
                .label("second block")
                .secondary(old.keyword, "first block here")
                .help(format!("merge the two `{what}` blocks into one")),
            );
        } else {
            *slot = Some(b);
        }
    }

    fn decl(&mut self, d: ast::Decl, diags: &mut Diagnostics) {
        let p = &mut self.p;
        if let Some(from) = d.templates().next() {
            if matches!(d.kind, DeclKind::Env | DeclKind::Image) {
                diags.push(
                    Diagnostic::new(
                        Code::E1016,
                        from.span,
                        format!("an `{}` cannot use a template", d.kind.keyword()),
                    )
                    .label("templates are for `service` and `infra`")
                    .help("remove `from …`, or use a `let` for shared values"),
                );
            }
        }
        let m = p.decls.entry(d.kind).or_default();
        if let Some(old) = m.get(&d.name.name) {
            diags.push(duplicate(d.kind.keyword(), &d.name, old.name.span));
        } else {
            m.insert(d.name.name.clone(), d);
        }
    }

    /// Lower the types, function signatures and template parameters now
    /// that every type name is known; check aliases and templates.
    fn finish(self, diags: &mut Diagnostics) -> Program {
        let Collector {
            mut p,
            type_decls,
            fn_decls,
            type_spans,
        } = self;
        // Nominal types: results of functions.
        for fd in &fn_decls {
            if let TypeExpr::Named(n) = &fd.ret {
                if primitive(&n.name).is_none() && !type_spans.contains_key(&n.name) {
                    p.types.nominals.insert(n.name.clone());
                }
            }
        }
        for n in &p.types.nominals {
            p.types
                .aliases
                .insert(n.clone(), Ty::Nominal(n.as_str().into()));
        }
        let known: BTreeSet<String> = type_spans
            .keys()
            .cloned()
            .chain(p.types.nominals.iter().cloned())
            .collect();
        for t in &type_decls {
            let ty = lower_type(&t.ty, &known, diags);
            p.types.aliases.insert(t.name.name.clone(), ty);
        }
        check_alias_cycles(&p, &type_decls, diags);
        for fd in &fn_decls {
            let params = lower_params(&fd.params, &known, diags);
            let ret = match &fd.ret {
                TypeExpr::Named(n) => n.name.clone(),
                _ => "Any".to_string(),
            };
            p.fns.insert(
                fd.name.name.clone(),
                FnSig {
                    name: fd.name.name.clone(),
                    params,
                    name_arc: fd.name.name.as_str().into(),
                    ret_arc: ret.as_str().into(),
                    ret,
                    span: fd.span,
                },
            );
        }
        for t in p.templates.values() {
            let params = lower_params(&t.params, &known, diags);
            p.template_params.insert(t.name.name.clone(), params);
        }
        check_templates(&p, diags);
        p
    }
}

/// Lower the parameters of a template or function.
pub fn lower_params(
    params: &[ast::Param],
    known: &BTreeSet<String>,
    diags: &mut Diagnostics,
) -> Vec<ParamTy> {
    let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
    let mut out = Vec::new();
    for prm in params {
        if let Some(old) = seen.insert(&prm.name.name, prm.name.span) {
            diags.push(duplicate("parameter", &prm.name, old));
            continue;
        }
        out.push(ParamTy {
            name: prm.name.name.clone(),
            ty: lower_type(&prm.ty, known, diags),
            optional: prm.optional,
            default: prm.default.clone(),
            span: prm.span,
        });
    }
    out
}

/// The names usable as types in a program (aliases and nominals).
pub fn known_types(p: &Program) -> BTreeSet<String> {
    p.types
        .aliases
        .keys()
        .cloned()
        .chain(p.types.nominals.iter().cloned())
        .collect()
}

fn duplicate(what: &str, name: &ast::Ident, first: Span) -> Diagnostic {
    Diagnostic::new(
        Code::E1002,
        name.span,
        format!("{what} `{}` is declared twice", name.name),
    )
    .label("second declaration")
    .secondary(first, "first declared here")
    .help("rename one of them; names are unique per kind across the module")
}

/// Lower a type expression.
pub fn lower_type(t: &TypeExpr, known: &BTreeSet<String>, diags: &mut Diagnostics) -> Ty {
    match t {
        TypeExpr::Named(n) => {
            if let Some(p) = primitive(&n.name) {
                p
            } else if known.contains(&n.name) {
                Ty::Named(n.name.as_str().into())
            } else {
                let mut all: Vec<String> = known.iter().cloned().collect();
                all.extend(
                    [
                        "String", "Int", "Bool", "Cpu", "Memory", "Storage", "Duration", "Port",
                        "DnsLabel", "Path", "Url", "Digest", "ImageRef", "Image", "Service",
                        "Infra", "Env", "Config",
                    ]
                    .map(String::from),
                );
                diags.push(
                    Diagnostic::new(Code::E1001, n.span, format!("unknown type `{}`", n.name))
                        .label("not a type")
                        .maybe_help(suggest::did_you_mean(&n.name, &all)),
                );
                Ty::Any
            }
        }
        TypeExpr::Generic(n, arg) => {
            let inner = lower_type(arg, known, diags);
            if n.name == "Range" {
                Ty::Range(Arc::new(inner))
            } else {
                diags.push(
                    Diagnostic::new(
                        Code::E1001,
                        n.span,
                        format!("unknown generic type `{}`", n.name),
                    )
                    .label("only `Range<T>` takes a type argument"),
                );
                Ty::Any
            }
        }
        TypeExpr::List(t, _) => Ty::List(Arc::new(lower_type(t, known, diags))),
        TypeExpr::Map(t, _) => Ty::Map(Arc::new(lower_type(t, known, diags))),
        TypeExpr::Lit(s, _) => Ty::Lit(s.as_str().into()),
        TypeExpr::Union(alts, _) => {
            Ty::Union(alts.iter().map(|a| lower_type(a, known, diags)).collect())
        }
        TypeExpr::Optional(t, _) => Ty::Optional(Arc::new(lower_type(t, known, diags))),
        TypeExpr::Record(fields, _) => {
            let mut r = RecordTy::default();
            for f in fields {
                if let Some(old) = r.fields.get(f.name.name.as_str()) {
                    diags.push(duplicate("field", &f.name, old.span));
                    continue;
                }
                if let Some(l) = &f.label {
                    r.labels.insert(l.clone(), f.name.name.clone());
                }
                r.fields.insert(
                    f.name.name.as_str().into(),
                    FieldTy {
                        ty: lower_type(&f.ty, known, diags),
                        optional: f.optional,
                        default: f.default.clone(),
                        span: f.name.span,
                    },
                );
            }
            Ty::Record(Arc::new(r))
        }
    }
}

/// `type A = B` / `type B = A`: an alias chain that never reaches a type;
/// and a chain longer than [`MAX_CHAIN`] (types resolve through at most that
/// many aliases). Each alias is walked once: names already known to reach
/// a type end a walk, so 4,000 chained aliases cost 4,000 steps.
fn check_alias_cycles(p: &Program, decls: &[ast::TypeDecl], diags: &mut Diagnostics) {
    let mut fine: BTreeSet<&str> = BTreeSet::new();
    for d in decls {
        let mut seen: Vec<&str> = vec![d.name.name.as_str()];
        let mut on_path: BTreeSet<&str> = seen.iter().copied().collect();
        let mut cur = p.types.aliases.get(&d.name.name);
        let mut ok = true;
        while let Some(Ty::Named(n)) = cur {
            if fine.contains(&**n) {
                break;
            }
            if on_path.contains(&**n) {
                ok = false;
                let first = seen.iter().min().copied().unwrap_or("");
                if &**n == d.name.name.as_str() && first == d.name.name.as_str() {
                    let chain: Vec<String> = seen.iter().map(|s| format!("`{s}`")).collect();
                    diags.push(
                        Diagnostic::new(
                            Code::E1017,
                            d.name.span,
                            format!(
                                "type `{}` is defined by itself: {} → `{n}`",
                                d.name.name,
                                chain.join(" → ")
                            ),
                        )
                        .label("this alias never reaches a type")
                        .help("define one of the aliases as a real type"),
                    );
                }
                break;
            }
            seen.push(n);
            on_path.insert(n);
            cur = p.types.aliases.get(&**n);
        }
        if ok {
            fine.extend(seen);
        }
    }
    // Depth: the longest chain of aliases ending at each alias, memoised.
    let mut depth: BTreeMap<&str, usize> = BTreeMap::new();
    for d in decls {
        let mut path: Vec<&str> = Vec::new();
        let mut cur: &str = d.name.name.as_str();
        let base = loop {
            if let Some(k) = depth.get(cur) {
                break *k;
            }
            if path.contains(&cur) || path.len() > MAX_CHAIN * 2 {
                break 0;
            }
            path.push(cur);
            match p.types.aliases.get(cur) {
                Some(Ty::Named(n)) if p.types.aliases.contains_key(&**n) => cur = n,
                _ => break 0,
            }
        };
        for (i, name) in path.iter().rev().enumerate() {
            depth.entry(name).or_insert(base + i + 1);
        }
        // Reported once, at the alias where the chain first gets too long.
        if depth.get(d.name.name.as_str()).copied().unwrap_or(0) == MAX_CHAIN + 1 {
            diags.push(
                Diagnostic::new(
                    Code::E1017,
                    d.name.span,
                    format!(
                        "type `{}` goes through more than {MAX_CHAIN} aliases",
                        d.name.name
                    ),
                )
                .label("alias chain too long")
                .help("define it as the type it stands for"),
            );
        }
    }
}

/// The longest chain of type aliases or of templates (`from`) allowed.
pub const MAX_CHAIN: usize = 64;

fn check_templates(p: &Program, diags: &mut Diagnostics) {
    let names: Vec<&String> = p.templates.keys().collect();
    let unknown = |from: &ast::FromClause, diags: &mut Diagnostics| {
        diags.push(
            Diagnostic::new(
                Code::E1010,
                from.name.span,
                format!("unknown template `{}`", from.name.name),
            )
            .label("no template with this name")
            .maybe_help(suggest::did_you_mean(&from.name.name, &names)),
        );
    };
    for t in p.templates.values() {
        if let Some(from) = &t.from {
            if !p.templates.contains_key(&from.name.name) {
                unknown(from, diags);
            }
        }
    }
    for m in p.decls.values() {
        for d in m.values() {
            for from in d.templates() {
                if !p.templates.contains_key(&from.name.name) {
                    unknown(from, diags);
                }
            }
        }
    }
    // Recursion: follow each template's `from` chain. A template whose
    // chain is known to end is not walked again (linear in the templates);
    // a chain deeper than MAX_CHAIN is refused.
    let mut reported: BTreeSet<String> = BTreeSet::new();
    let mut ends: BTreeMap<&str, usize> = BTreeMap::new();
    for start in p.templates.values() {
        let mut chain: Vec<&ast::Template> = vec![start];
        let mut on_chain: BTreeSet<&str> = BTreeSet::from([start.name.name.as_str()]);
        let mut cur = start;
        let mut below = Some(0usize);
        while let Some(from) = &cur.from {
            let Some(next) = p.templates.get(&from.name.name) else {
                break;
            };
            if let Some(k) = ends.get(next.name.name.as_str()) {
                below = Some(*k + 1);
                break;
            }
            if on_chain.contains(next.name.name.as_str()) {
                below = None;
                let pos = chain
                    .iter()
                    .position(|t| t.name.name == next.name.name)
                    .unwrap_or(0);
                let cycle: Vec<&ast::Template> =
                    chain.get(pos..).map(|s| s.to_vec()).unwrap_or_default();
                let key = cycle
                    .iter()
                    .map(|t| t.name.name.clone())
                    .min()
                    .unwrap_or_default();
                if reported.insert(key) {
                    let names: Vec<String> =
                        cycle.iter().map(|t| format!("`{}`", t.name.name)).collect();
                    let mut d = Diagnostic::new(
                        Code::E1009,
                        from.name.span,
                        format!(
                            "template recursion: {} → `{}`",
                            names.join(" → "),
                            next.name.name
                        ),
                    )
                    .label("uses a template that uses this one")
                    .help("templates may use other templates, but not themselves");
                    for t in &cycle {
                        if let Some(f) = &t.from {
                            if f.span != from.span {
                                d = d.secondary(
                                    f.name.span,
                                    format!("`{}` uses `{}` here", t.name.name, f.name.name),
                                );
                            }
                        }
                    }
                    diags.push(d);
                }
                break;
            }
            chain.push(next);
            on_chain.insert(next.name.name.as_str());
            cur = next;
        }
        if let Some(below) = below {
            for (i, t) in chain.iter().rev().enumerate() {
                ends.entry(t.name.name.as_str()).or_insert(below + i);
            }
            // Once, where the chain first gets too deep.
            if below + chain.len() == MAX_CHAIN + 2 {
                if let Some(from) = &start.from {
                    diags.push(
                        Diagnostic::new(
                            Code::E1009,
                            from.name.span,
                            format!(
                                "template `{}` builds on more than {MAX_CHAIN} templates",
                                start.name.name
                            ),
                        )
                        .label("template chain too deep")
                        .help("flatten the chain: a template may set many fields at once"),
                    );
                }
            }
        }
    }
}
