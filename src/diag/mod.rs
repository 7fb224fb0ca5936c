//! Diagnostics: one plain [`Diagnostic`] type for every phase, the code
//! registry ([`codes`]) with a long explanation per code, and "did you mean"
//! suggestions ([`suggest`]).
//!
//! Rendering lives in the CLI (`cli/render.rs`); this module never prints.
//! Invariant: every diagnostic carries a registered code and a primary span.

pub mod codes;
pub mod suggest;

use crate::source::Span;
pub use codes::Code;

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Stops the run (exit 1).
    Error,
    /// Reported, does not fail the run.
    Warning,
}

/// A labelled span.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What the span is (may be empty).
    pub message: String,
}

/// One error or warning, pointing at `.ship` source.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Diagnostic {
    /// The stable code (`E2001`, `P006`, …).
    pub code: Code,
    /// Error or warning.
    pub severity: Severity,
    /// Lowercase, no final period, identifiers in backticks.
    pub message: String,
    /// The primary span and what it is.
    pub primary: Label,
    /// Other ends (first definition, each edge of a cycle).
    pub secondary: Vec<Label>,
    /// One actionable line.
    pub help: Option<String>,
    /// Extra context lines.
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// A diagnostic with the code's default severity.
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: code.default_severity(),
            message: message.into(),
            primary: Label {
                span,
                message: String::new(),
            },
            secondary: Vec::new(),
            help: None,
            notes: Vec::new(),
        }
    }

    /// Set the primary label's text.
    pub fn label(mut self, message: impl Into<String>) -> Diagnostic {
        self.primary.message = message.into();
        self
    }

    /// Add a secondary label.
    pub fn secondary(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.secondary.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// Set the help line.
    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Set the help line when there is one.
    pub fn maybe_help(mut self, help: Option<String>) -> Diagnostic {
        if help.is_some() {
            self.help = help;
        }
        self
    }

    /// Add a note.
    pub fn note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The diagnostics of a run: collected, then sorted and de-duplicated.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Copies of the diagnostics pushed since there were `n`, sorted and
    /// without repeats.
    pub fn since(&self, n: usize) -> Vec<Diagnostic> {
        let mut out = self
            .items
            .get(n..)
            .map(<[Diagnostic]>::to_vec)
            .unwrap_or_default();
        // A cached computation's report, replayed on every use: without
        // repeats, so `let b = a + a` chains stay linear.
        out.sort();
        out.dedup();
        out
    }

    /// Drop the diagnostics pushed since there were `n`.
    pub fn truncate(&mut self, n: usize) {
        self.items.truncate(n);
    }
    /// An empty collection.
    pub fn new() -> Diagnostics {
        Diagnostics::default()
    }

    /// Add one.
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    /// Add many.
    pub fn extend(&mut self, ds: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(ds);
    }

    /// Whether any error was reported.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    /// Number of errors.
    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    /// Number of warnings.
    pub fn warning_count(&self) -> usize {
        self.items.len() - self.error_count()
    }

    /// Number of diagnostics.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Sorted by position (file, offset), then code; exact duplicates removed
    /// (the same mistake seen while evaluating several environments).
    pub fn into_sorted(mut self) -> Vec<Diagnostic> {
        self.items.sort_by(|a, b| {
            (a.primary.span, a.code, &a.message).cmp(&(b.primary.span, b.code, &b.message))
        });
        self.items.dedup_by(|a, b| {
            a.code == b.code && a.primary.span == b.primary.span && a.message == b.message
        });
        self.items
    }

    /// A view of the items in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }
}
