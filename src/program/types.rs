//! Types: the structural types of Ship, lowered from `type` declarations
//! (user and stdlib) and `fn` signatures.

use crate::source::Span;
use crate::syntax::ast::{self, DeclKind};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// A resolved type.
#[derive(Debug, Clone)]
pub enum Ty {
    /// `String`
    String,
    /// `Int` (64-bit)
    Int,
    /// `Bool`
    Bool,
    /// `Cpu`
    Cpu,
    /// `Memory`
    Memory,
    /// `Storage`
    Storage,
    /// `Duration`
    Duration,
    /// `Percent` (`70%`)
    Percent,
    /// `Port` (1–65535)
    Port,
    /// `DnsLabel` (RFC 1123 label)
    DnsLabel,
    /// `Path` (relative, not escaping)
    Path,
    /// `Url`
    Url,
    /// `Digest` (`sha256:` + 64 hex)
    Digest,
    /// `ImageRef`
    ImageRef,
    /// A port label of the enclosing declaration (a bare identifier).
    PortName,
    /// Anything.
    Any,
    /// A reference to a declaration of a kind.
    Ref(DeclKind),
    /// `Range<T>`: request .. limit.
    Range(Arc<Ty>),
    /// `[T]`
    List(Arc<Ty>),
    /// `{String: T}`
    Map(Arc<Ty>),
    /// A record schema.
    Record(Arc<RecordTy>),
    /// A string literal.
    Lit(Arc<str>),
    /// `A | B`
    Union(Arc<[Ty]>),
    /// `T?`
    Optional(Arc<Ty>),
    /// A type alias, resolved through [`Types`].
    Named(Arc<str>),
    /// A type only built by stdlib functions (`Probe`, `Volume`, …).
    Nominal(Arc<str>),
}

/// A record schema.
#[derive(Debug, Clone, Default)]
pub struct RecordTy {
    /// Fields by name.
    pub fields: BTreeMap<crate::model::Key, FieldTy>,
    /// Labelled-entry keyword → map field (`port` → `ports`).
    pub labels: BTreeMap<String, String>,
}

/// A field of a record schema.
#[derive(Debug, Clone)]
pub struct FieldTy {
    /// The type.
    pub ty: Ty,
    /// Optional (may stay unset).
    pub optional: bool,
    /// The default, evaluated when the field is unset.
    pub default: Option<ast::Expr>,
    /// Where the field was declared.
    pub span: Span,
}

/// A stdlib function's signature.
#[derive(Debug, Clone)]
pub struct FnSig {
    /// The name.
    pub name: String,
    /// Parameters in order: (name, type, optional, default).
    pub params: Vec<ParamTy>,
    /// The result type's name.
    pub ret: String,
    /// `name`, shared by every call's value.
    pub name_arc: Arc<str>,
    /// `ret`, shared by every call's value.
    pub ret_arc: Arc<str>,
    /// Where declared.
    pub span: Span,
}

/// A parameter of a function or template.
#[derive(Debug, Clone)]
pub struct ParamTy {
    /// The name.
    pub name: String,
    /// The type.
    pub ty: Ty,
    /// May be omitted (then unset).
    pub optional: bool,
    /// The default when omitted.
    pub default: Option<ast::Expr>,
    /// Where declared.
    pub span: Span,
}

/// The type environment: aliases by name.
#[derive(Debug, Default, Clone)]
pub struct Types {
    /// Aliases.
    pub aliases: BTreeMap<String, Ty>,
    /// Names of types produced by functions.
    pub nominals: std::collections::BTreeSet<String>,
}

/// A primitive type by name.
pub fn primitive(name: &str) -> Option<Ty> {
    Some(match name {
        "String" => Ty::String,
        "Int" => Ty::Int,
        "Bool" => Ty::Bool,
        "Cpu" => Ty::Cpu,
        "Memory" => Ty::Memory,
        "Storage" => Ty::Storage,
        "Duration" => Ty::Duration,
        "Percent" => Ty::Percent,
        "Port" => Ty::Port,
        "DnsLabel" => Ty::DnsLabel,
        "Path" => Ty::Path,
        "Url" => Ty::Url,
        "Digest" => Ty::Digest,
        "ImageRef" => Ty::ImageRef,
        "PortName" => Ty::PortName,
        "Any" => Ty::Any,
        "Image" => Ty::Ref(DeclKind::Image),
        "Service" => Ty::Ref(DeclKind::Service),
        "Infra" => Ty::Ref(DeclKind::Infra),
        "Config" => Ty::Ref(DeclKind::Config),
        "Env" => Ty::Ref(DeclKind::Env),
        _ => return None,
    })
}

impl Types {
    /// Follow aliases (bounded, so a recursive alias cannot loop).
    pub fn resolve<'a>(&'a self, mut ty: &'a Ty) -> &'a Ty {
        for _ in 0..64 {
            match ty {
                Ty::Named(n) => match self.aliases.get(&**n) {
                    Some(t) => ty = t,
                    None => return &Ty::Any,
                },
                _ => return ty,
            }
        }
        &Ty::Any
    }

    /// The record schema behind a type, if it is one.
    pub fn record<'a>(&'a self, ty: &'a Ty) -> Option<&'a Arc<RecordTy>> {
        match self.resolve(ty) {
            Ty::Record(r) => Some(r),
            Ty::Optional(t) => self.record(t),
            _ => None,
        }
    }

    /// Whether a bare identifier `name` is accepted as a string for `ty`
    /// (a member of a string-literal union, or a port label).
    pub fn accepts_bare_ident(&self, ty: &Ty, name: &str) -> bool {
        match self.resolve(ty) {
            Ty::Lit(s) => &**s == name,
            Ty::PortName => true,
            Ty::Union(alts) => alts.iter().any(|t| self.accepts_bare_ident(t, name)),
            Ty::Optional(t) => self.accepts_bare_ident(t, name),
            _ => false,
        }
    }

    /// The string literals a type accepts (empty when it accepts others too).
    pub fn literals(&self, ty: &Ty) -> Vec<String> {
        fn go(t: &Types, ty: &Ty, out: &mut Vec<String>) -> bool {
            match t.resolve(ty) {
                Ty::Lit(s) => {
                    out.push(s.to_string());
                    true
                }
                Ty::Union(alts) => alts.iter().all(|a| go(t, a, out)),
                Ty::Optional(inner) => go(t, inner, out),
                _ => false,
            }
        }
        let mut out = Vec::new();
        if go(self, ty, &mut out) {
            out
        } else {
            Vec::new()
        }
    }

    /// The element type of a list/map type (Any otherwise).
    pub fn element(&self, ty: &Ty) -> Ty {
        match self.resolve(ty) {
            Ty::List(t) | Ty::Map(t) => (**t).clone(),
            Ty::Optional(t) => self.element(t),
            _ => Ty::Any,
        }
    }

    /// Render a type for messages, expanding aliases one level for unions.
    pub fn show(&self, ty: &Ty) -> String {
        ty.to_string()
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::String => f.write_str("String"),
            Ty::Int => f.write_str("Int"),
            Ty::Bool => f.write_str("Bool"),
            Ty::Cpu => f.write_str("Cpu"),
            Ty::Memory => f.write_str("Memory"),
            Ty::Storage => f.write_str("Storage"),
            Ty::Duration => f.write_str("Duration"),
            Ty::Percent => f.write_str("Percent"),
            Ty::Port => f.write_str("Port"),
            Ty::DnsLabel => f.write_str("DnsLabel"),
            Ty::Path => f.write_str("Path"),
            Ty::Url => f.write_str("Url"),
            Ty::Digest => f.write_str("Digest"),
            Ty::ImageRef => f.write_str("ImageRef"),
            Ty::PortName => f.write_str("a port label"),
            Ty::Any => f.write_str("Any"),
            Ty::Ref(k) => f.write_str(k.type_name()),
            Ty::Range(t) => write!(f, "Range<{t}>"),
            Ty::List(t) => write!(f, "[{t}]"),
            Ty::Map(t) => write!(f, "{{String: {t}}}"),
            Ty::Record(r) => {
                let names: Vec<&str> = r.fields.keys().map(|k| k.as_str()).take(4).collect();
                let more = if r.fields.len() > 4 { ", …" } else { "" };
                write!(f, "{{ {}{more} }}", names.join(", "))
            }
            Ty::Lit(s) => write!(f, "\"{s}\""),
            Ty::Union(alts) => {
                let parts: Vec<String> = alts.iter().map(ToString::to_string).collect();
                f.write_str(&parts.join(" | "))
            }
            Ty::Optional(t) => write!(f, "{t}?"),
            Ty::Named(n) | Ty::Nominal(n) => f.write_str(n),
        }
    }
}
