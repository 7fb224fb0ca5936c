//! Parsing: text → [`ast::File`], or one syntax diagnostic per file.
//!
//! The ONLY module where pest appears (invariant 1). A cheap pre-scan refuses
//! NUL bytes (E0003), raw newlines in `"…"` strings (E0002) and nesting deeper
//! than [`MAX_DEPTH`] (E0006) before pest's recursive descent runs, so no input
//! can overflow the stack. pest's "expected rule" lists are mapped to words a
//! user knows (E0001). Lowering resolves escapes (E0004) and integers (E0005).
//! Codes owned: E0001–E0006.

pub mod ast;
mod lower;
mod scan;

use crate::diag::{Code, Diagnostic};
use crate::source::{SourceFile, Span};
use parser::{Rule, ShipParser};
use pest::Parser;

/// How deeply brackets may nest.
pub const MAX_DEPTH: usize = 256;

mod parser {
    #![allow(missing_docs)]
    #[derive(pest_derive::Parser)]
    #[grammar = "../grammar/ship.pest"]
    pub struct ShipParser;
}

/// Parse one file. Returns the first syntax error of the file on failure.
pub fn parse(file: &SourceFile) -> Result<ast::File, Box<Diagnostic>> {
    scan::prescan(file)?;
    let pairs =
        ShipParser::parse(Rule::file, &file.text).map_err(|e| Box::new(pest_error(file, &e)))?;
    lower::lower_file(file.id, pairs)
}

fn pest_error(file: &SourceFile, e: &pest::error::Error<Rule>) -> Diagnostic {
    use pest::error::{ErrorVariant, InputLocation};
    let pos = match e.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let mut expected: Vec<&'static str> = match &e.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            positives.iter().filter_map(|r| rule_word(*r)).collect()
        }
        ErrorVariant::CustomError { .. } => Vec::new(),
    };
    expected.sort_unstable();
    expected.dedup();
    let (found, len) = found_token(&file.text, pos);
    let span = Span::new(file.id, pos, pos + len);
    let message = if expected.is_empty() {
        format!("unexpected {found}")
    } else {
        format!("expected {}, found {found}", join_words(&expected))
    };
    let mut d = Diagnostic::new(Code::E0001, span, message).label("unexpected here");
    if found.contains("`=`") && expected.iter().any(|w| w.contains("expression")) {
        d = d.help("write a value after `=`");
    } else if expected.contains(&"`=`") {
        d = d.help("fields are written `name = value` or `name { … }`");
    }
    d
}

fn join_words(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

fn found_token(text: &str, pos: usize) -> (String, usize) {
    let rest = text.get(pos..).unwrap_or("");
    let Some(c) = rest.chars().next() else {
        return ("end of file".to_string(), 0);
    };
    if c == '\n' {
        return ("end of line".to_string(), 1);
    }
    if c.is_ascii_alphanumeric() || c == '_' {
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        return (format!("`{}`", rest.get(..len).unwrap_or("")), len);
    }
    (format!("`{c}`"), c.len_utf8())
}

/// A user-facing word for a grammar rule; `None` hides internal rules.
fn rule_word(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::ident | Rule::named_type | Rule::key | Rule::path => "a name",
        Rule::decl_kind => "a declaration (`service`, `image`, `infra`, `env`, …)",
        Rule::kw_import
        | Rule::kw_let
        | Rule::kw_type
        | Rule::kw_template
        | Rule::kw_fn
        | Rule::kw_policy
        | Rule::kw_project => "a declaration (`service`, `image`, `infra`, `env`, …)",
        Rule::kw_from => "`from`",
        Rule::kw_then => "`then`",
        Rule::kw_else => "`else`",
        Rule::expr => "an expression",
        Rule::type_expr | Rule::type_postfix => "a type",
        Rule::body | Rule::record => "`{`",
        Rule::string | Rule::plain_string | Rule::triple_string => "a string",
        Rule::std_path => "`std.…`",
        Rule::number => "a number",
        Rule::params | Rule::call_args => "`(`",
        Rule::or_op | Rule::and_op | Rule::cmp_op | Rule::range_op | Rule::add_op => "an operator",
        Rule::member => "`.`",
        Rule::EOI => "end of file",
        Rule::labelled_entry | Rule::block_entry | Rule::assign_entry => "a field",
        Rule::param => "a parameter",
        Rule::arg => "an argument",
        Rule::field_type => "a field type",
        Rule::optional_mark => "`?`",
        _ => return None,
    })
}
