//! The pre-scan: a linear pass over the raw text that refuses what would
//! otherwise crash or mislead the parser (NUL bytes, raw newlines in strings,
//! unterminated strings, nesting deeper than [`super::MAX_DEPTH`], and
//! expressions nested without brackets — `!!!…`, `if … else if …`, `a + b +
//! …` — past [`MAX_OPERATORS`] operators in one entry, E0006).
//!
//! Every parser, lowering and evaluator level recurses once per nesting
//! level. Brackets are counted exactly; unbracketed nesting is bounded by the
//! operators and `if`s of one entry (an entry starts where a line starts
//! with `name =`, `name {`, `a.b = `, a labelled field or a declaration
//! keyword), which is at least its nesting depth. 30,000 nested `if`s
//! overflowed a debug build's 256 MiB stack; 8,000 leave a wide margin, and
//! no hand-written entry comes near.

use crate::diag::{Code, Diagnostic};
use crate::source::{SourceFile, Span};

/// Operators (`! + && || == != ..`) and `if`s allowed in one entry.
pub const MAX_OPERATORS: usize = 8_000;

/// Does the line starting at `i` (after indentation) start a new entry?
fn starts_entry(text: &[u8], mut i: usize) -> bool {
    while matches!(text.get(i), Some(b' ' | b'\t' | b'\r')) {
        i += 1;
    }
    let word = |i: usize| {
        let mut j = i;
        while text
            .get(j)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            j += 1;
        }
        j
    };
    let end = word(i);
    if end == i {
        return false;
    }
    if let Some(w) = text.get(i..end) {
        const KEYWORDS: [&[u8]; 12] = [
            b"let",
            b"type",
            b"template",
            b"image",
            b"service",
            b"infra",
            b"config",
            b"object",
            b"env",
            b"import",
            b"project",
            b"policy",
        ];
        if KEYWORDS.contains(&w) {
            return true;
        }
        if [&b"if"[..], b"then", b"else"].contains(&w) {
            return false;
        }
    }
    // name (.name)* [label] ( `=` not `==` | `{` )
    let mut j = end;
    let mut words = 1;
    loop {
        while matches!(text.get(j), Some(b' ' | b'\t')) {
            j += 1;
        }
        match text.get(j) {
            Some(b'.') => {
                let e = word(j + 1);
                if e == j + 1 {
                    return false;
                }
                j = e;
            }
            Some(b'=') => return text.get(j + 1) != Some(&b'='),
            Some(b'{') => return true,
            Some(c) if (c.is_ascii_alphabetic() || *c == b'_') && words == 1 => {
                words += 1;
                j = word(j);
            }
            _ => return false,
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Frame {
    Bracket,
    Str { triple: bool, start: usize },
    Interp,
}

/// Does a top-level declaration start at `i` (a line start, no
/// indentation): a declaration keyword followed by a blank?
fn starts_declaration(text: &[u8], i: usize) -> bool {
    const KEYWORDS: [&[u8]; 13] = [
        b"service ",
        b"image ",
        b"infra ",
        b"config ",
        b"object ",
        b"env ",
        b"let ",
        b"type ",
        b"template ",
        b"fn ",
        b"import ",
        b"project ",
        b"policy ",
    ];
    text.get(i..)
        .is_some_and(|rest| KEYWORDS.iter().any(|k| rest.starts_with(k)))
}

/// Where the pre-scan found top-level declarations starting: byte offsets
/// of line starts, outside every bracket, string and comment, where a
/// declaration keyword begins the line. The text between two of them is
/// whole declarations (with the comments and blank lines between them), so
/// a large file can be parsed in pieces.
pub(super) type Boundaries = Vec<usize>;

pub(super) fn prescan(file: &SourceFile) -> Result<Boundaries, Box<Diagnostic>> {
    let text = file.text.as_bytes();
    let err = |code, at: usize, len: usize, msg: &str| {
        Diagnostic::new(code, Span::new(file.id, at, at + len), msg)
    };
    if let Some(i) = text.iter().position(|&b| b == 0) {
        return Err(Box::new(
            err(Code::E0003, i, 1, "source contains a NUL byte").label("NUL byte here"),
        ));
    }
    let mut stack: Vec<Frame> = Vec::new();
    // Operators counted in the current entry, and at each open bracket the
    // count outside it (a bracket's contents nest inside its entry).
    let mut operators = 0usize;
    let mut levels: Vec<usize> = Vec::new();
    let mut boundaries = Boundaries::new();
    let mut i = 0;
    while let Some(&b) = text.get(i) {
        let in_str = match stack.last() {
            Some(Frame::Str { triple, start }) => Some((*triple, *start)),
            _ => None,
        };
        if let Some((triple, _)) = in_str {
            match b {
                b'\\' => i += 1,
                b'\n' if !triple => {
                    return Err(Box::new(
                        err(Code::E0002, i, 1, "raw newline in a string")
                            .label("the string is not closed on this line")
                            .help("close the string, write `\\n`, or use a `\"\"\"` block string"),
                    ));
                }
                b'"' if !triple => {
                    stack.pop();
                }
                b'"' if text.get(i..i + 3) == Some(b"\"\"\"") => {
                    stack.pop();
                    i += 2;
                }
                b'$' if text.get(i + 1) == Some(&b'{') => {
                    stack.push(Frame::Interp);
                    levels.push(operators);
                    i += 1;
                }
                _ => {}
            }
        } else {
            match b {
                b'#' => {
                    while text.get(i).is_some_and(|&c| c != b'\n') {
                        i += 1;
                    }
                    continue;
                }
                b'"' => {
                    let triple = text.get(i..i + 3) == Some(b"\"\"\"");
                    stack.push(Frame::Str { triple, start: i });
                    if triple {
                        i += 2;
                    }
                }
                b'\n' if starts_entry(text, i + 1) => {
                    operators = levels.last().copied().unwrap_or(0);
                    if stack.is_empty() && starts_declaration(text, i + 1) {
                        boundaries.push(i + 1);
                    }
                }
                b',' => operators = levels.last().copied().unwrap_or(0),
                b'!' | b'+' | b'&' | b'|' | b'=' | b'.'
                    if matches!(
                        (b, text.get(i + 1)),
                        (b'!', _)
                            | (b'+', _)
                            | (b'&', Some(b'&'))
                            | (b'|', Some(b'|'))
                            | (b'=', Some(b'='))
                            | (b'.', Some(b'.'))
                    ) =>
                {
                    operators += 1;
                    if b != b'!' && b != b'+' {
                        i += 1;
                    }
                }
                b'i' if text.get(i + 1) == Some(&b'f')
                    && !text
                        .get(i + 2)
                        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
                    && !(i > 0
                        && text.get(i - 1).is_some_and(|c| {
                            c.is_ascii_alphanumeric() || *c == b'_' || *c == b'.'
                        })) =>
                {
                    operators += 1;
                }
                b'(' | b'[' | b'{' => {
                    stack.push(Frame::Bracket);
                    levels.push(operators);
                }
                b')' | b']' if stack.last() == Some(&Frame::Bracket) => {
                    stack.pop();
                    operators = levels.pop().unwrap_or(0);
                }
                b'}' if matches!(stack.last(), Some(Frame::Bracket | Frame::Interp)) => {
                    stack.pop();
                    operators = levels.pop().unwrap_or(0);
                }
                _ => {}
            }
            if operators > MAX_OPERATORS {
                return Err(Box::new(
                    err(Code::E0006, i, 1, "expression is nested too deeply")
                        .label(format!(
                            "more than {MAX_OPERATORS} operators and `if`s in one entry"
                        ))
                        .help("split it with `let` bindings"),
                ));
            }
            if stack.len() > super::MAX_DEPTH {
                return Err(Box::new(
                    err(Code::E0006, i, 1, "nesting is too deep")
                        .label(format!("more than {} levels deep here", super::MAX_DEPTH))
                        .help("flatten the structure, e.g. with `let` bindings"),
                ));
            }
        }
        i += 1;
    }
    if let Some(Frame::Str { start, .. }) =
        stack.iter().rev().find(|f| matches!(f, Frame::Str { .. }))
    {
        return Err(Box::new(
            err(Code::E0002, *start, 1, "unterminated string")
                .label("this string is never closed")
                .help("add the closing quote"),
        ));
    }
    Ok(boundaries)
}
