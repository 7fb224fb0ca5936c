//! `shipc fmt`: one canonical layout for `.ship` text, like gofmt — no
//! options. It works on tokens, so it can only change whitespace (and the
//! optional commas between body entries): comments stay where they were
//! (own-line and end-of-line, with the author's spacing before an
//! end-of-line one), string contents are untouched, and the line
//! structure the author chose is kept, because newlines separate entries.
//!
//! The rules: two spaces of indentation per open bracket; one space around
//! `=`, `|`, `||`, `&&`, `==`, `!=`, `+`, `..` and `->`, after `,` and `:`,
//! inside an inline `{ … }`; none inside `( )` and `[ ]`, before `,`, `:`,
//! `?` or a call's `(`, around `.`; in a block that spans lines, one entry
//! per line (a `,` between entries becomes a line break, a trailing one
//! goes, and `{` and `}` stand at the ends of their lines); an inline
//! `{ a = 1, b = 2 }` that makes its line longer than [`WIDTH`] is opened
//! up that way; runs of blank lines become one, none after `{`, before `}`
//! or at either end of the file; no trailing spaces; one final newline. A file
//! that does not parse is refused: the caller checks with `syntax::parse`
//! first.

/// A token, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok<'a> {
    /// An identifier, keyword, number (with its unit) or string.
    Word(&'a str),
    /// Punctuation or an operator.
    Punct(&'a str),
    /// `# …` to the end of the line.
    Comment(&'a str),
    /// A line break.
    Newline,
}

fn is_word_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The end (exclusive) of a string literal starting at `start` (on its
/// opening quote), with `${ … }` interpolations (which may hold strings).
pub(crate) fn string_end(b: &[u8], start: usize) -> usize {
    let triple = b.get(start..start + 3) == Some(b"\"\"\"");
    let mut i = start + if triple { 3 } else { 1 };
    while i < b.len() {
        match b.get(i) {
            Some(b'\\') => i += 2,
            Some(b'"') if !triple => return i + 1,
            Some(b'"') if b.get(i..i + 3) == Some(b"\"\"\"") => return i + 3,
            Some(b'$') if b.get(i + 1) == Some(&b'{') => {
                // An interpolation: to its matching `}`, strings inside skipped.
                i += 2;
                let mut depth = 1;
                while i < b.len() && depth > 0 {
                    match b.get(i) {
                        Some(b'"') => i = string_end(b, i),
                        Some(b'{') => {
                            depth += 1;
                            i += 1;
                        }
                        Some(b'}') => {
                            depth -= 1;
                            i += 1;
                        }
                        _ => i += 1,
                    }
                }
            }
            _ => i += 1,
        }
    }
    b.len()
}

fn lex(text: &str) -> Vec<Tok<'_>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let slice = |a: usize, z: usize| text.get(a..z).unwrap_or("");
    while i < b.len() {
        let c = b.get(i).copied().unwrap_or(0);
        match c {
            b'\n' => {
                out.push(Tok::Newline);
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'#' => {
                let end = text
                    .get(i..)
                    .and_then(|r| r.find('\n'))
                    .map_or(b.len(), |n| i + n);
                // After code on the same line, the author's spacing before
                // the comment is kept (aligned comments stay aligned).
                let mut start = i;
                while start > 0 && matches!(b.get(start - 1), Some(b' ' | b'\t')) {
                    start -= 1;
                }
                let after_code = start > 0 && b.get(start - 1) != Some(&b'\n');
                let from = if after_code { start } else { i };
                out.push(Tok::Comment(slice(from, end).trim_end()));
                i = end;
            }
            b'"' => {
                let end = string_end(b, i);
                out.push(Tok::Word(slice(i, end)));
                i = end;
            }
            b'-' if b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let end = number_end(b, i + 1);
                out.push(Tok::Word(slice(i, end)));
                i = end;
            }
            c if c.is_ascii_digit() => {
                let end = number_end(b, i);
                out.push(Tok::Word(slice(i, end)));
                i = end;
            }
            c if is_word_char(c) => {
                let mut end = i;
                while b.get(end).is_some_and(|c| is_word_char(*c)) {
                    end += 1;
                }
                out.push(Tok::Word(slice(i, end)));
                i = end;
            }
            _ => {
                let two = slice(i, i + 2);
                let n = if ["==", "!=", "||", "&&", "..", "->"].contains(&two) {
                    2
                } else {
                    // One character (a UTF-8 sequence stays whole).
                    text.get(i..)
                        .and_then(|r| r.chars().next())
                        .map_or(1, char::len_utf8)
                };
                out.push(Tok::Punct(slice(i, i + n)));
                i += n;
            }
        }
    }
    out
}

/// A number with its unit: digits (and `_`), an optional fraction, then
/// letters and digits (`1h30m`, `1.5Gi`) or `%`; never a `..`.
pub(crate) fn number_end(b: &[u8], start: usize) -> usize {
    let mut i = start;
    while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
        i += 1;
    }
    if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    if b.get(i) == Some(&b'%') {
        return i + 1;
    }
    loop {
        match b.get(i) {
            Some(c) if c.is_ascii_alphanumeric() || *c == b'_' => i += 1,
            Some(b'.')
                if b.get(i + 1).is_some_and(u8::is_ascii_digit)
                    && b.get(i.wrapping_sub(1)).is_some_and(u8::is_ascii_digit) =>
            {
                i += 1
            }
            _ => return i,
        }
    }
}

fn opens(t: &Tok<'_>) -> bool {
    matches!(t, Tok::Punct("{" | "[" | "("))
}

fn closes(t: &Tok<'_>) -> bool {
    matches!(t, Tok::Punct("}" | "]" | ")"))
}

const SPACED: &[&str] = &["=", "|", "||", "&&", "==", "!=", "+", "..", "->"];

/// Whether a space goes between two tokens on one line.
fn space_between(prev: &Tok<'_>, next: &Tok<'_>) -> bool {
    use Tok::{Comment, Punct, Word};
    match (prev, next) {
        // An end-of-line comment carries its own leading spacing.
        (_, Comment(c)) => !c.starts_with([' ', '\t']),
        (Punct(p), _) if SPACED.contains(p) => true,
        (_, Punct(n)) if SPACED.contains(n) => true,
        (Punct("{"), Punct("}")) => false,
        (Punct("{"), _) | (_, Punct("}")) => true,
        // A record first in a list or call: `[{ … }]`, `f({ … })`.
        (Punct("(" | "["), Punct("{")) => false,
        (_, Punct("{")) => true,
        (Punct("(" | "[" | "." | "@" | "!" | "<"), _) => false,
        (_, Punct(")" | "]" | "," | "." | ":" | "?" | ">" | "<")) => false,
        // A call or a parameter list: `f(x)`, `from web(…)`, `@label("x")`.
        (Word(_) | Punct(")" | "]" | ">"), Punct("(")) => false,
        // A list type or a list after a word: `[String]`; `x[0]` is not Ship.
        (Punct(","), _) | (Punct(":"), _) => true,
        _ => true,
    }
}

/// The bracket each line's tokens close or open, to decide what a `,`
/// means: inside a `{ … }` that spans lines, a separator of entries.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Open {
    brace: bool,
    multiline: bool,
    /// The output line it was opened on: brackets opened on one line
    /// (`f("x", {`, `[{`) indent what they hold by one level together.
    line: usize,
}

/// The indentation depth of the first `n` open brackets: one level per
/// output line that opened any of them.
fn depth_of(opened: &[Open], n: usize) -> usize {
    let open = opened.get(..n).unwrap_or(opened);
    open.iter()
        .enumerate()
        .filter(|(i, o)| {
            i.checked_sub(1)
                .and_then(|j| open.get(j))
                .is_none_or(|prev| prev.line != o.line)
        })
        .count()
}

/// Lines longer than this have their inline `{ a = 1, b = 2 }` blocks
/// opened up, one entry per line.
pub const WIDTH: usize = 100;

/// Format `.ship` text. The text must parse (the caller checks).
pub fn format(text: &str) -> String {
    let toks = lex(text);
    // Which opener each closer matches, and which openers span lines.
    let mut matching: Vec<Option<usize>> = vec![None; toks.len()];
    let mut multiline = vec![false; toks.len()];
    let mut stack: Vec<usize> = Vec::new();
    let mut line_of = Vec::with_capacity(toks.len());
    let mut line = 0usize;
    for (i, t) in toks.iter().enumerate() {
        line_of.push(line);
        if *t == Tok::Newline {
            line += 1;
        } else if opens(t) {
            stack.push(i);
        } else if closes(t) {
            if let Some(o) = stack.pop() {
                if let Some(m) = matching.get_mut(o) {
                    *m = Some(i);
                }
                if let (Some(lo), Some(m)) = (line_of.get(o).copied(), multiline.get_mut(o)) {
                    *m = lo != line;
                }
            }
        }
    }
    // A block that makes its line too long is opened up, outermost first,
    // until every line fits or nothing more can be opened.
    let mut out = String::new();
    for _ in 0..64 {
        let (text, too_long) = render(&toks, &multiline, &matching);
        out = text;
        if too_long.is_empty() {
            break;
        }
        for o in too_long {
            if let Some(m) = multiline.get_mut(o) {
                *m = true;
            }
        }
    }
    out
}

/// Whether the `{` at `o` holds a `,` of its own (entries to split at).
fn has_own_comma(toks: &[Tok<'_>], o: usize, c: usize) -> bool {
    let mut depth = 0usize;
    for t in toks.get(o + 1..c).unwrap_or_default() {
        if opens(t) {
            depth += 1;
        } else if closes(t) {
            depth = depth.saturating_sub(1);
        } else if depth == 0 && *t == Tok::Punct(",") {
            return true;
        }
    }
    false
}

struct Printer<'t, 'a> {
    toks: &'t [Tok<'a>],
    multiline: &'t [bool],
    matching: &'t [Option<usize>],
    out: String,
    /// The line being built, without indentation, and its tokens.
    cur: String,
    line_toks: Vec<usize>,
    depth: usize,
    blank_pending: bool,
    lines_out: usize,
    last_opened: bool,
    /// Inline blocks to open up because their lines are too long: on each
    /// such line the first block with entries to split, and the blocks
    /// around it on that line.
    too_long: Vec<usize>,
}

impl Printer<'_, '_> {
    fn flush(&mut self) {
        if self.cur.is_empty() {
            return;
        }
        let line = self.cur.trim_end();
        let closes_first = line.starts_with(['}', ']', ')']);
        if self.blank_pending && self.lines_out > 0 && !closes_first && !self.last_opened {
            self.out.push('\n');
        }
        self.blank_pending = false;
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
        self.out.push_str(line);
        self.out.push('\n');
        self.lines_out += 1;
        self.last_opened = line.ends_with(['{', '[', '(']);
        if 2 * self.depth + line.chars().count() > WIDTH {
            let inline = |o: usize| -> Option<usize> {
                let c = self.matching.get(o).copied().flatten()?;
                (self.toks.get(o) == Some(&Tok::Punct("{"))
                    && !self.multiline.get(o).copied().unwrap_or(true)
                    && self.line_toks.contains(&c))
                .then_some(c)
            };
            let found = self
                .line_toks
                .iter()
                .copied()
                .find(|&o| inline(o).is_some_and(|c| has_own_comma(self.toks, o, c)));
            if let (Some(o), Some(c)) = (found, found.and_then(inline)) {
                self.too_long.push(o);
                // The blocks around it open too, or it could not.
                for &a in &self.line_toks {
                    if a < o && inline(a).is_some_and(|ac| ac > c) {
                        self.too_long.push(a);
                    }
                }
            }
        }
        self.cur.clear();
        self.line_toks.clear();
    }
}

/// One rendering with the given multi-line blocks: the text, and the
/// inline blocks to open up because their lines are too long.
fn render(
    toks: &[Tok<'_>],
    multiline: &[bool],
    matching: &[Option<usize>],
) -> (String, Vec<usize>) {
    let mut p = Printer {
        toks,
        multiline,
        matching,
        out: String::new(),
        cur: String::new(),
        line_toks: Vec::new(),
        depth: 0,
        blank_pending: false,
        lines_out: 0,
        last_opened: false,
        too_long: Vec::new(),
    };
    let mut opened: Vec<Open> = Vec::new();
    let mut prev: Option<&Tok<'_>> = None;
    let mut newlines_in_row = 0usize;
    for (i, t) in toks.iter().enumerate() {
        match t {
            Tok::Newline => {
                if !p.cur.is_empty() {
                    p.flush();
                    newlines_in_row = 1;
                } else {
                    newlines_in_row += 1;
                    if newlines_in_row >= 2 {
                        p.blank_pending = true;
                    }
                }
                prev = None;
            }
            Tok::Punct(",") if opened.last().is_some_and(|o| o.brace && o.multiline) => {
                // Between entries of a multi-line block: a line break.
                let next_is_newline_or_end = matches!(
                    toks.get(i + 1),
                    None | Some(Tok::Newline) | Some(Tok::Comment(_))
                );
                if !next_is_newline_or_end && !p.cur.is_empty() {
                    p.flush();
                    prev = None;
                }
            }
            _ => {
                // The `}` of a multi-line block starts its own line.
                if *t == Tok::Punct("}")
                    && !p.cur.is_empty()
                    && opened.last().is_some_and(|o| o.brace && o.multiline)
                {
                    p.flush();
                    prev = None;
                }
                if p.cur.is_empty() {
                    // Indentation: the depth after the closers that start the line.
                    // A closer of a multi-line block after the first starts
                    // a line of its own, so it does not count here.
                    let mut leading_closers = 0;
                    for (k, c) in toks.get(i..).unwrap_or_default().iter().enumerate() {
                        if !closes(c) {
                            break;
                        }
                        let closes_multiline = opened
                            .len()
                            .checked_sub(k + 1)
                            .and_then(|d| opened.get(d))
                            .is_some_and(|o| o.brace && o.multiline);
                        if k > 0 && *c == Tok::Punct("}") && closes_multiline {
                            break;
                        }
                        leading_closers += 1;
                    }
                    p.depth = depth_of(&opened, opened.len().saturating_sub(leading_closers));
                    if closes(t) {
                        p.blank_pending = false;
                    }
                } else if let Some(q) = prev {
                    if space_between(q, t) {
                        p.cur.push(' ');
                    }
                }
                match t {
                    Tok::Word(w) | Tok::Punct(w) => p.cur.push_str(w),
                    Tok::Comment(c) if p.cur.is_empty() => p.cur.push_str(c.trim_start()),
                    Tok::Comment(c) => p.cur.push_str(c),
                    Tok::Newline => {}
                }
                p.line_toks.push(i);
                prev = Some(t);
                if opens(t) {
                    let open = Open {
                        brace: *t == Tok::Punct("{"),
                        multiline: multiline.get(i).copied().unwrap_or(false),
                        line: p.lines_out,
                    };
                    opened.push(open);
                    // A multi-line block's entries start on the next line.
                    let next = toks.get(i + 1);
                    if open.brace
                        && open.multiline
                        && !matches!(next, None | Some(Tok::Newline) | Some(Tok::Comment(_)))
                    {
                        p.flush();
                        prev = None;
                    }
                } else if closes(t) {
                    opened.pop();
                }
            }
        }
    }
    p.flush();
    (p.out, p.too_long)
}

/// Whether `after` differs from `before` only in whitespace and commas
/// (the safety net under every write: the same words, operators and
/// comments in the same order, never a comma more).
pub fn same_tokens(before: &str, after: &str) -> bool {
    let solid = |t: &Tok<'_>| !matches!(t, Tok::Newline | Tok::Punct(","));
    let trim = |v: Vec<Tok<'_>>| -> Vec<String> {
        v.into_iter()
            .filter(solid)
            .map(|t| match t {
                Tok::Word(w) | Tok::Punct(w) => w.to_string(),
                Tok::Comment(c) => c.trim_start().to_string(),
                Tok::Newline => String::new(),
            })
            .collect()
    };
    let a = lex(before);
    let b = lex(after);
    let commas = |v: &[Tok<'_>]| v.iter().filter(|t| **t == Tok::Punct(",")).count();
    let (ca, cb) = (commas(&a), commas(&b));
    trim(a) == trim(b) && cb <= ca
}

/// Format every file on all cores; results in the order given.
pub fn format_files(
    files: &[&crate::source::SourceFile],
) -> Vec<Result<String, Box<crate::diag::Diagnostic>>> {
    crate::par::map(files.to_vec(), format_file)
        .into_iter()
        .zip(files)
        .map(|(r, f)| {
            r.unwrap_or_else(|| {
                Err(Box::new(crate::diag::Diagnostic::new(
                    crate::diag::Code::E0001,
                    crate::source::Span::new(f.id, 0, 0),
                    "internal error: formatting stopped unexpectedly",
                )))
            })
        })
        .collect()
}

/// Format a parsed file's text, or say why not: the text must parse, and
/// so must the result, with the same tokens.
pub fn format_file(
    file: &crate::source::SourceFile,
) -> Result<String, Box<crate::diag::Diagnostic>> {
    crate::syntax::parse(file)?;
    let out = format(&file.text);
    if out == file.text {
        return Ok(out);
    }
    let mut check = crate::source::SourceMap::new();
    let id = check.add(file.path.clone(), out.clone(), false);
    let reparsed = check.get(id).map(crate::syntax::parse);
    if !same_tokens(&file.text, &out) || !matches!(reparsed, Some(Ok(_))) {
        return Err(Box::new(
            crate::diag::Diagnostic::new(
                crate::diag::Code::E0001,
                crate::source::Span::new(file.id, 0, 0),
                "internal error: formatting this file would change its meaning; it was left as it is",
            )
            .help("please report this with the file"),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::format;

    #[test]
    fn layout() {
        let src = "\n\n# top\nservice  web  from backend( port_number=3000 ){\n\n   replicas=if env.name==\"prod\" then 3 else 1 # three\n  resources { cpu = 100m..500m , memory=128Mi .. 256Mi }\n  env_vars{ A = \"x ${ y.port.http.url }\", B=secret( \"n\",\"k\" ) ,}\n  labels=[ \"a\",\"b\" ]\n\n\n\n  port http=8080\n\n}\n\n\n";
        let want = "# top\nservice web from backend(port_number = 3000) {\n  replicas = if env.name == \"prod\" then 3 else 1 # three\n  resources { cpu = 100m .. 500m, memory = 128Mi .. 256Mi }\n  env_vars { A = \"x ${ y.port.http.url }\", B = secret(\"n\", \"k\"), }\n  labels = [\"a\", \"b\"]\n\n  port http = 8080\n}\n";
        assert_eq!(format(src), want);
        assert_eq!(format(want), want, "idempotent");
    }

    #[test]
    fn multi_line_blocks_put_one_entry_per_line() {
        let src =
            "env prod {\n  kind = flux, registry = \"r\",\n  cluster { namespace = \"x\" }\n}\n";
        assert_eq!(
            format(src),
            "env prod {\n  kind = flux\n  registry = \"r\"\n  cluster { namespace = \"x\" }\n}\n"
        );
    }

    #[test]
    fn types_and_strings_are_kept() {
        let src = "type T = {\n  @label(\"port\") ports: {String: PortValue} = {}\n  name?: DnsLabel\n  s: Secret<String> | \"a\"\n}\nfn f(x: Int) -> String\nlet s = \"\"\"\n  keep   this\n\"\"\"\nlet n = -1\n";
        let out = format(src);
        assert!(
            out.contains("@label(\"port\") ports: { String: PortValue } = {}"),
            "{out}"
        );
        assert!(out.contains("name?: DnsLabel"), "{out}");
        assert!(out.contains("s: Secret<String> | \"a\""), "{out}");
        assert!(out.contains("fn f(x: Int) -> String"), "{out}");
        assert!(out.contains("\"\"\"\n  keep   this\n\"\"\""), "{out}");
        assert!(out.contains("let n = -1"), "{out}");
        assert_eq!(format(&out), out);
    }

    #[test]
    fn inline_blocks_that_do_not_fit_are_opened_up() {
        let long = "service web {\n  resources { cpu = 100m .. 500m, memory = 128Mi .. 256Mi, ephemeral = 1Gi .. 2Gi, gpu = 1, tpu = 2 }\n}\n";
        let out = format(long);
        assert_eq!(
            out,
            "service web {\n  resources {\n    cpu = 100m .. 500m\n    memory = 128Mi .. 256Mi\n    ephemeral = 1Gi .. 2Gi\n    gpu = 1\n    tpu = 2\n  }\n}\n"
        );
        assert_eq!(format(&out), out);
        let short =
            "service web {\n  resources { cpu = 100m .. 500m, memory = 128Mi .. 256Mi }\n}\n";
        assert_eq!(format(short), short, "short records stay inline");
    }

    #[test]
    fn brackets_opened_on_one_line_indent_one_level() {
        let src = "service a {\n  patches = [\n    merge_patch(\"Deployment\", { spec { template { spec { dnsPolicy = \"None\", hostNetwork = false, priorityClassName = \"high\" } } } }),\n  ]\n  rules = [{ api_groups = [\"coordination.k8s.io\"], resources = [\"leases\"], verbs = [\"get\", \"update\"] }]\n}\n";
        let want = "service a {\n  patches = [\n    merge_patch(\"Deployment\", {\n      spec {\n        template {\n          spec {\n            dnsPolicy = \"None\"\n            hostNetwork = false\n            priorityClassName = \"high\"\n          }\n        }\n      }\n    }),\n  ]\n  rules = [{\n    api_groups = [\"coordination.k8s.io\"]\n    resources = [\"leases\"]\n    verbs = [\"get\", \"update\"]\n  }]\n}\n";
        assert_eq!(format(src), want);
        assert_eq!(format(want), want, "idempotent");
    }

    #[test]
    fn a_block_that_spans_lines_opens_and_closes_on_lines_of_its_own() {
        let src = "service a { replicas = 1,\n  image = b }\n";
        assert_eq!(format(src), "service a {\n  replicas = 1\n  image = b\n}\n");
    }
}
