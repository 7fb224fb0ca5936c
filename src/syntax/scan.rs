//! The pre-scan: a linear pass over the raw text that refuses what would
//! otherwise crash or mislead the parser (NUL bytes, raw newlines in strings,
//! unterminated strings, nesting deeper than [`super::MAX_DEPTH`]).

use crate::diag::{Code, Diagnostic};
use crate::source::{SourceFile, Span};

#[derive(Clone, Copy, PartialEq)]
enum Frame {
    Bracket,
    Str { triple: bool, start: usize },
    Interp,
}

pub(super) fn prescan(file: &SourceFile) -> Result<(), Box<Diagnostic>> {
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
                b'(' | b'[' | b'{' => stack.push(Frame::Bracket),
                b')' | b']' if stack.last() == Some(&Frame::Bracket) => {
                    stack.pop();
                }
                b'}' if matches!(stack.last(), Some(Frame::Bracket | Frame::Interp)) => {
                    stack.pop();
                }
                _ => {}
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
    Ok(())
}
