//! The syntax tree of one file: no semantics, every node with its span.

use crate::source::{FileId, Span};

/// One parsed `.ship` file.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
pub struct File {
    /// Which file.
    pub file: FileId,
    /// Top-level items in source order.
    pub items: Vec<Item>,
}

/// A name with its span.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    /// The text.
    pub name: String,
    /// Where.
    pub span: Span,
}

/// A top-level item.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
pub enum Item {
    /// `import "path"` or `import std.x`.
    Import(Import),
    /// `let NAME = expr`.
    Let(Let),
    /// `type NAME = T`.
    Type(TypeDecl),
    /// `template NAME(params) from …{ … }`.
    Template(Template),
    /// `fn NAME(params) -> T` (stdlib only).
    Fn(FnDecl),
    /// `policy { … }`.
    Policy(Block),
    /// `project { … }`.
    Project(Block),
    /// `image|service|infra|env NAME { … }`.
    Decl(Decl),
}

/// An import.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
pub struct Import {
    /// What is imported.
    pub target: ImportTarget,
    /// The whole item.
    pub span: Span,
}

/// The target of an import.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
pub enum ImportTarget {
    /// A file or folder, relative to the importing file.
    Path(String, Span),
    /// A stdlib module, `std.security`.
    Std(Vec<Ident>),
}

/// `let NAME = expr`.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
pub struct Let {
    /// The name.
    pub name: Ident,
    /// The value.
    pub value: Expr,
    /// The whole item.
    pub span: Span,
}

/// `type NAME = T`.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
pub struct TypeDecl {
    /// The name.
    pub name: Ident,
    /// The type.
    pub ty: TypeExpr,
    /// The whole item.
    pub span: Span,
}

/// A template or function parameter.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
pub struct Param {
    /// The name.
    pub name: Ident,
    /// `name?: T`.
    pub optional: bool,
    /// The type.
    pub ty: TypeExpr,
    /// `= default`.
    pub default: Option<Expr>,
    /// The whole parameter.
    pub span: Span,
}

/// `from NAME(args)`.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
pub struct FromClause {
    /// The template.
    pub name: Ident,
    /// Arguments (none when the parentheses are dropped).
    pub args: Vec<Arg>,
    /// The whole clause.
    pub span: Span,
}

/// `template NAME(params) from … { body }`.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
pub struct Template {
    /// The name.
    pub name: Ident,
    /// Parameters.
    pub params: Vec<Param>,
    /// The parent template.
    pub from: Option<FromClause>,
    /// The partial body.
    pub body: Body,
    /// The whole item.
    pub span: Span,
}

/// `fn NAME(params) -> T`.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
pub struct FnDecl {
    /// The name.
    pub name: Ident,
    /// Parameters.
    pub params: Vec<Param>,
    /// The result type.
    pub ret: TypeExpr,
    /// The whole item.
    pub span: Span,
}

/// `policy { … }` / `project { … }`.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
pub struct Block {
    /// The body.
    pub body: Body,
    /// The keyword.
    pub keyword: Span,
    /// The whole item.
    pub span: Span,
}

/// The declaration kinds with a name and a body.
#[derive(
    serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash,
)]
pub enum DeclKind {
    /// `image`.
    Image,
    /// `service`.
    Service,
    /// `infra`.
    Infra,
    /// `env`.
    Env,
    /// `config`: a ConfigMap.
    Config,
    /// `object`: a Kubernetes object Ship does not model.
    Object,
}

impl DeclKind {
    /// The keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            DeclKind::Image => "image",
            DeclKind::Service => "service",
            DeclKind::Infra => "infra",
            DeclKind::Env => "env",
            DeclKind::Config => "config",
            DeclKind::Object => "object",
        }
    }

    /// The reference type's name (`Image`).
    pub fn type_name(self) -> &'static str {
        match self {
            DeclKind::Image => "Image",
            DeclKind::Service => "Service",
            DeclKind::Infra => "Infra",
            DeclKind::Env => "Env",
            DeclKind::Config => "Config",
            DeclKind::Object => "Object",
        }
    }
}

/// `service NAME from t(…) { … }` and the other kinds.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
pub struct Decl {
    /// Which kind.
    pub kind: DeclKind,
    /// The name.
    pub name: Ident,
    /// A template use.
    pub from: Option<FromClause>,
    /// Further templates (`from a, b(…)`), merged after `from` in order,
    /// before the body.
    pub also: Vec<FromClause>,
    /// The body.
    pub body: Body,
    /// The whole item.
    pub span: Span,
}

impl Decl {
    /// Every template the declaration uses, in the order they apply.
    pub fn templates(&self) -> impl Iterator<Item = &FromClause> {
        self.from.iter().chain(self.also.iter())
    }
}

/// `{ entries }`.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
pub struct Body {
    /// Entries in source order.
    pub entries: Vec<Entry>,
    /// Braces included.
    pub span: Span,
}

/// How an entry was written.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
pub enum EntryKind {
    /// `a.b = v`.
    Assign,
    /// `a { … }`.
    Block,
    /// `port http = v`: `keyword` names the labelled field.
    Labelled(Ident),
}

/// One `path = value` entry of a body.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
pub struct Entry {
    /// How it was written.
    pub kind: EntryKind,
    /// The field path (the label, for a labelled entry).
    pub path: Vec<Key>,
    /// The value.
    pub value: Expr,
    /// The whole entry.
    pub span: Span,
}

/// A field name or a quoted key.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// The text (unquoted).
    pub name: String,
    /// Where.
    pub span: Span,
}

/// A type expression.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
pub enum TypeExpr {
    /// `String`, `Service`, an alias.
    Named(Ident),
    /// `Range<Cpu>`.
    Generic(Ident, Box<TypeExpr>),
    /// `[T]`.
    List(Box<TypeExpr>, Span),
    /// `{String: T}`.
    Map(Box<TypeExpr>, Span),
    /// `{ a: T = d, b?: U }`.
    Record(Vec<FieldType>, Span),
    /// `"tilt"`.
    Lit(String, Span),
    /// `A | B`.
    Union(Vec<TypeExpr>, Span),
    /// `T?`.
    Optional(Box<TypeExpr>, Span),
}

impl TypeExpr {
    /// Where the type was written.
    pub fn span(&self) -> Span {
        match self {
            TypeExpr::Named(i) => i.span,
            TypeExpr::Generic(i, t) => i.span.to(t.span()),
            TypeExpr::List(_, s)
            | TypeExpr::Map(_, s)
            | TypeExpr::Record(_, s)
            | TypeExpr::Lit(_, s)
            | TypeExpr::Union(_, s)
            | TypeExpr::Optional(_, s) => *s,
        }
    }
}

/// A field of a record type.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
pub struct FieldType {
    /// The name.
    pub name: Ident,
    /// `name?: T` (or `T?`).
    pub optional: bool,
    /// The type.
    pub ty: TypeExpr,
    /// `= default`.
    pub default: Option<Expr>,
    /// `@label("port")`: the keyword of a labelled entry filling this map.
    pub label: Option<String>,
    /// Where.
    pub span: Span,
}

/// An expression with its span.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where.
    pub span: Span,
}

/// Binary operators.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `||`
    Or,
    /// `&&`
    And,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `..`
    Range,
    /// `+`
    Add,
}

impl BinOp {
    /// As written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "||",
            BinOp::And => "&&",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Range => "..",
            BinOp::Add => "+",
        }
    }
}

/// Expression forms.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
pub enum ExprKind {
    /// A string with interpolations.
    Str(Vec<StrPart>),
    /// An integer.
    Int(i64),
    /// A number with a unit, or a decimal, kept as written (`250m`, `0.5`).
    Number(String),
    /// `true` / `false`.
    Bool(bool),
    /// `[a, b]`.
    List(Vec<Expr>),
    /// `{ k = v }`.
    Record(Body),
    /// A bare name.
    Ident(String),
    /// `e.name`.
    Member(Box<Expr>, Ident),
    /// `f(args)`.
    Call(Box<Expr>, Vec<Arg>),
    /// `if c then a else b`.
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `a OP b`.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `!e`.
    Not(Box<Expr>),
    /// `.. e`: a range with a limit and no request.
    LimitOnly(Box<Expr>),
}

/// A piece of a string literal.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
pub enum StrPart {
    /// Literal text (escapes resolved).
    Lit(String),
    /// `${expr}`.
    Interp(Expr),
}

/// A call or template argument.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
pub struct Arg {
    /// `name = …` for a named argument.
    pub name: Option<Ident>,
    /// The value.
    pub value: Expr,
}
