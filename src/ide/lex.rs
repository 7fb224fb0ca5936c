//! A forgiving lexer for half-typed text: tokens with byte offsets, never
//! an error. Completion, folding and the word under the cursor use it, so
//! they work in a file that does not parse.

use crate::fmt::{number_end, string_end};

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokKind {
    /// An identifier or keyword.
    Word,
    /// A number (with its unit).
    Number,
    /// A string literal (quotes included).
    Str,
    /// Punctuation or an operator.
    Punct,
    /// `# …` to the end of the line.
    Comment,
    /// A line break.
    Newline,
}

/// One token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tok {
    /// What it is.
    pub kind: TokKind,
    /// Start byte offset.
    pub start: usize,
    /// End byte offset (exclusive).
    pub end: usize,
}

impl Tok {
    /// The token's text.
    pub fn text<'t>(&self, text: &'t str) -> &'t str {
        text.get(self.start..self.end).unwrap_or("")
    }
}

fn is_word_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Every token of `text`.
pub fn lex(text: &str) -> Vec<Tok> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let (kind, end) = match c {
            b'\n' => (TokKind::Newline, i + 1),
            b' ' | b'\t' | b'\r' => {
                i += 1;
                continue;
            }
            b'#' => (
                TokKind::Comment,
                text.get(i..)
                    .and_then(|r| r.find('\n'))
                    .map_or(b.len(), |n| i + n),
            ),
            b'"' => (TokKind::Str, string_end(b, i).max(i + 1)),
            c if c.is_ascii_digit() => (TokKind::Number, number_end(b, i).max(i + 1)),
            c if is_word_char(c) => {
                let mut end = i;
                while b.get(end).is_some_and(|c| is_word_char(*c)) {
                    end += 1;
                }
                (TokKind::Word, end)
            }
            _ => {
                let two = text.get(i..i + 2).unwrap_or("");
                let n = if ["==", "!=", "||", "&&", "..", "->"].contains(&two) {
                    2
                } else {
                    text.get(i..)
                        .and_then(|r| r.chars().next())
                        .map_or(1, char::len_utf8)
                };
                (TokKind::Punct, i + n)
            }
        };
        let end = end.min(b.len());
        out.push(Tok {
            kind,
            start: i,
            end,
        });
        i = end;
    }
    out
}

/// The identifier that ends at (or contains) `offset`: its start and end.
pub fn word_at(text: &str, offset: usize) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let offset = offset.min(b.len());
    let mut start = offset;
    while start > 0 && b.get(start - 1).is_some_and(|c| is_word_char(*c)) {
        start -= 1;
    }
    let mut end = offset;
    while b.get(end).is_some_and(|c| is_word_char(*c)) {
        end += 1;
    }
    (start < end && !b.get(start).is_some_and(u8::is_ascii_digit)).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexes_half_typed_text() {
        let text = "service api {\n  port http = 80\n  image = \"x\n";
        let toks = lex(text);
        let kinds: Vec<TokKind> = toks.iter().map(|t| t.kind).collect();
        assert_eq!(kinds.first(), Some(&TokKind::Word));
        assert!(kinds.contains(&TokKind::Number));
        assert_eq!(toks.last().map(|t| t.kind), Some(TokKind::Str));
        assert_eq!(word_at(text, 10), Some((8, 11)));
        assert_eq!(word_at(text, 12), None);
    }
}
