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

/// pest's error-detail switch is process-global: parses share it (read),
/// and the detailed re-parse of a failed file holds it alone (write), so a
/// file's message never depends on what other threads parse meanwhile.
static DETAIL: std::sync::RwLock<()> = std::sync::RwLock::new(());

/// Parse one file. Returns the first syntax error of the file on failure.
pub fn parse(file: &SourceFile) -> Result<ast::File, Box<Diagnostic>> {
    let boundaries = scan::prescan(file)?;
    if let Some(pieces) = split(&file.text, &boundaries) {
        if let Some(parsed) = parse_pieces(file, &pieces) {
            return Ok(parsed);
        }
    }
    let parsed = {
        let _shared = DETAIL
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        ShipParser::parse(Rule::file, &file.text)
    };
    let pairs = parsed.map_err(|e| Box::new(detailed_error(file, &e)))?;
    lower::lower_file(file.id, 0, pairs)
}

/// A piece of a file is at least this large: a file of twice as much or
/// more is parsed in pieces.
const PIECE_MIN: usize = 64 * 1024;

/// Cut a large file at declaration boundaries into pieces of about equal
/// size, the byte ranges: as many pieces as cores, or a multiple of that
/// so each piece is under twice [`PIECE_MIN`]. pest holds a piece's tokens
/// (many times its size) until the piece is lowered, and a thread reuses
/// that memory for its next piece: a large file's peak is a few pieces'
/// tokens, not the whole file's. `None` when the file is small, there is
/// one core, or no boundary falls near the first cut.
fn split(text: &str, boundaries: &[usize]) -> Option<Vec<std::ops::Range<usize>>> {
    let workers = crate::par::workers(text.len() / PIECE_MIN);
    let rounds = (text.len() / (workers * PIECE_MIN)).max(1);
    split_into(text, boundaries, workers * rounds)
}

/// [`split`] into `count` pieces (fewer where declarations are larger
/// than a piece).
fn split_into(
    text: &str,
    boundaries: &[usize],
    count: usize,
) -> Option<Vec<std::ops::Range<usize>>> {
    if count < 2 {
        return None;
    }
    let mut cuts = vec![0];
    for k in 1..count {
        let want = text.len() * k / count;
        let at = boundaries.partition_point(|&b| b < want);
        let Some(&cut) = boundaries.get(at) else {
            break;
        };
        if cut > cuts.last().copied().unwrap_or(0) {
            cuts.push(cut);
        }
    }
    cuts.push(text.len());
    let pieces: Vec<_> = cuts
        .windows(2)
        .filter_map(|w| match w {
            [a, b] => Some(*a..*b),
            _ => None,
        })
        .collect();
    (pieces.len() > 1).then_some(pieces)
}

/// Parse the pieces of a file on their own threads and join their items.
/// Any error gives `None`: the caller parses the whole file again, so the
/// diagnostic (and anything a cut could change) is the whole file's.
fn parse_pieces(file: &SourceFile, pieces: &[std::ops::Range<usize>]) -> Option<ast::File> {
    let parsed = crate::par::map(pieces.to_vec(), |range| {
        let text = file.text.get(range.clone())?;
        let _shared = DETAIL
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let pairs = ShipParser::parse(Rule::file, text).ok()?;
        lower::lower_file(file.id, range.start, pairs).ok()
    });
    let mut items = Vec::new();
    for piece in parsed {
        items.extend(piece??.items);
    }
    Some(ast::File {
        file: file.id,
        items,
    })
}

/// On failure, parse again with pest's attempt tracking (off on the fast
/// path) to learn the furthest position and the tokens expected there.
fn detailed_error(file: &SourceFile, first: &pest::error::Error<Rule>) -> Diagnostic {
    let again = {
        let _alone = DETAIL
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        pest::set_error_detail(true);
        let again = ShipParser::parse(Rule::file, &file.text).err();
        pest::set_error_detail(false);
        again
    };
    let Some(again) = again else {
        return pest_error(file, first, None);
    };
    let Some(attempts) = again.parse_attempts() else {
        return pest_error(file, first, None);
    };
    let mut words: Vec<String> = attempts
        .expected_tokens()
        .iter()
        .map(ToString::to_string)
        .filter(|t| !t.trim().is_empty() && t != "#" && !t.contains(".."))
        .map(|t| {
            if ["(", "-", "[", "false", "true", "if", "!", "\"\"\""].contains(&t.as_str()) {
                "an expression".to_string()
            } else if [
                "import", "let", "type", "template", "fn", "policy", "project", "image", "service",
                "infra", "env", "config", "object",
            ]
            .contains(&t.as_str())
            {
                "a declaration (`service`, `image`, `infra`, `env`, …)".to_string()
            } else if ["!=", "&&", "+", "==", "||", ".."].contains(&t.as_str()) {
                "an operator".to_string()
            } else {
                format!("`{t}`")
            }
        })
        .collect();
    if let pest::error::ErrorVariant::ParsingError { positives, .. } = &again.variant {
        words.extend(
            positives
                .iter()
                .filter_map(|r| rule_word(*r))
                .map(str::to_string),
        );
    }
    words.retain(|w| !["`\"`", "`_`", "`\"\"\"`", "`${`", "`\\`"].contains(&w.as_str()));
    if words.iter().any(|w| w == "an expression") {
        words.retain(|w| w != "`{`");
    }
    if words.iter().any(|w| w == "`=`") {
        words.retain(|w| !["a field", "a name", "`.`"].contains(&w.as_str()));
    }
    pest_error(file, first, Some((attempts.max_position, words)))
}

fn pest_error(
    file: &SourceFile,
    e: &pest::error::Error<Rule>,
    detail: Option<(usize, Vec<String>)>,
) -> Diagnostic {
    use pest::error::{ErrorVariant, InputLocation};
    let pos = match e.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let mut expected: Vec<String> = match &e.variant {
        ErrorVariant::ParsingError { positives, .. } => positives
            .iter()
            .filter_map(|r| rule_word(*r))
            .map(str::to_string)
            .collect(),
        ErrorVariant::CustomError { .. } => Vec::new(),
    };
    let pos = match detail {
        Some((p, words)) if p >= pos && !words.is_empty() => {
            expected = words;
            p
        }
        _ => pos,
    };
    expected.sort_unstable();
    expected.dedup();
    let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
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
    } else if expected.contains(&"`=`") && !found.contains("`=`") {
        d = d.help("fields are written `name = value` or `name { … }`");
    } else if expected.contains(&"`,`") && expected.contains(&"`]`") {
        d = d.help("separate list items with commas: `[a, b]`");
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
        Rule::ident | Rule::named_type | Rule::path => "a name",
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
        Rule::expr | Rule::binary => "an expression",
        Rule::type_expr | Rule::type_postfix => "a type",
        Rule::body | Rule::record => "`{`",
        Rule::string | Rule::plain_string | Rule::triple_string => "a string",
        Rule::std_path => "`std.…`",
        Rule::number => "a number",
        Rule::params | Rule::call_args => "`(`",
        Rule::or_op | Rule::and_op | Rule::cmp_op | Rule::range_op | Rule::add_op => "an operator",
        Rule::member => "`.`",
        Rule::EOI => "end of file",
        Rule::entry | Rule::labelled_tail => "a field",
        Rule::param => "a parameter",
        Rule::arg => "an argument",
        Rule::field_type => "a field type",
        Rule::optional_mark => "`?`",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file of `n` declarations of every kind, with the things a cut must
    /// not fall inside: block strings and comments holding declaration
    /// keywords at a line start, indented keywords, nested records.
    fn big_file(n: usize) -> String {
        let mut s = String::from("project { name = \"p\" }\n");
        for i in 0..n {
            s.push_str(&format!(
                "# service commented{i} {{\n\
                 service s{i} {{\n  image = external(\"r/s{i}:1\")\n  port http = 80{i}\n\
                   env_vars {{\n    A = \"\"\"\nservice inside{i} {{\n\"\"\"\n  }}\n}}\n\
                 let l{i} = [\n\"x\",\nimage\n]\n\
                 image i{i} {{ context = \"c\" }}\n\n"
            ));
        }
        s.push_str("env dev {\n  kind = tilt\n}\n");
        s
    }

    fn source(text: String) -> crate::source::SourceMap {
        let mut map = crate::source::SourceMap::new();
        map.add("big.ship".into(), text, false);
        map
    }

    #[test]
    fn a_file_parsed_in_pieces_is_the_file_parsed_whole() {
        let map = source(big_file(400));
        let file = map.get(crate::source::FileId(0)).unwrap();
        let boundaries = scan::prescan(file).unwrap();
        let whole = {
            let pairs = ShipParser::parse(Rule::file, &file.text).unwrap();
            lower::lower_file(file.id, 0, pairs).unwrap()
        };
        for workers in [2, 3, 7, 24] {
            let pieces = split_into(&file.text, &boundaries, workers).unwrap();
            assert_eq!(pieces.len(), workers, "cut into {workers}");
            for p in &pieces {
                // Every cut is at a declaration, never inside the strings,
                // comments or lists that hold keywords.
                let at = &file.text[p.start..];
                assert!(
                    p.start == 0
                        || at.starts_with("service s")
                        || at.starts_with("let l")
                        || at.starts_with("image i")
                        || at.starts_with("env dev"),
                    "cut at {:?}",
                    &at[..20]
                );
            }
            let parsed = parse_pieces(file, &pieces).unwrap();
            assert_eq!(format!("{parsed:?}"), format!("{whole:?}"));
        }
    }

    #[test]
    fn an_error_in_a_piece_is_reported_as_in_the_whole_file() {
        // Large enough to be cut on two cores.
        let mut text = big_file(1000);
        let at = text.len() * 3 / 4;
        let line = text[at..].find("\nservice").unwrap() + at + 1;
        text.insert_str(line, "service broken { image = }\n");
        let map = source(text);
        let file = map.get(crate::source::FileId(0)).unwrap();
        let err = parse(file).unwrap_err();
        let whole = {
            let pairs = ShipParser::parse(Rule::file, &file.text).unwrap_err();
            detailed_error(file, &pairs)
        };
        assert_eq!(err.primary.span, whole.primary.span);
        assert_eq!(err.message, whole.message);
        assert!(
            err.primary.span.start as usize > line,
            "{:?}",
            err.primary.span
        );
    }
}
