//! The source excerpt miette draws a diagnostic from: only the lines around
//! the labels, each long line cut to a window around its labels, every span
//! clamped to the text and to character boundaries, line numbers as in the
//! file. Whatever the input (a 1 MiB line, a span past the end, a label
//! 4,000 lines from the primary one), what is printed is small and the
//! renderer never sees an offset it cannot draw.

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};
use shipc::source::SourceFile;

/// The longest stretch of one line that is shown, in bytes.
const WINDOW: usize = 160;
/// Labels further than this many lines from the primary one become notes.
const NEAR: usize = 8;

/// The lines of a file that a diagnostic shows.
pub struct Excerpt {
    name: String,
    text: String,
    /// The file's line number (0-based) of the excerpt's first line.
    first_line: usize,
    /// Per excerpt line, the characters cut from its start (columns shown
    /// are the file's).
    cut: Vec<usize>,
}

impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner = self.text.read_span(span, before, after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            inner.line() + self.first_line,
            inner.column() + self.cut.get(inner.line()).copied().unwrap_or(0),
            inner.line_count(),
        )))
    }
}

/// A label of the file, as byte offsets into it.
pub struct Mark {
    pub start: usize,
    pub end: usize,
    pub message: Option<String>,
    pub primary: bool,
}

/// A label to draw: its message, its span in the excerpt, whether primary.
pub type Drawn = (Option<String>, SourceSpan, bool);
/// A label too far away to draw: its message, line and column (1-based).
pub type Far = (String, usize, usize);

/// The excerpt, the labels as spans into it, and the labels too far away
/// to draw (as `(message, line, column)`, 1-based).
pub fn build(name: String, file: &SourceFile, marks: Vec<Mark>) -> (Excerpt, Vec<Drawn>, Vec<Far>) {
    let text = file.text.as_str();
    let floor = |mut i: usize| {
        i = i.min(text.len());
        while i > 0 && !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let line_of = |offset: usize| file.line_col(offset).0.saturating_sub(1);
    let line_start = |line: usize| -> usize {
        text.split_inclusive('\n')
            .take(line)
            .map(str::len)
            .sum::<usize>()
    };
    let primary_line = marks
        .iter()
        .find(|m| m.primary)
        .map_or(0, |m| line_of(floor(m.start)));
    let mut near = Vec::new();
    let mut far = Vec::new();
    for m in marks {
        let start = floor(m.start);
        let line = line_of(start);
        if line.abs_diff(primary_line) > NEAR && !m.primary {
            let (l, c) = file.line_col(start);
            far.push((m.message.unwrap_or_default(), l, c));
            continue;
        }
        // A label ends on the line it starts on (an unterminated string's
        // span runs to the end of the file).
        let ls = line_start(line);
        let le = text
            .get(ls..)
            .and_then(|r| r.find('\n'))
            .map_or(text.len(), |i| ls + i);
        let end = floor(m.end.max(start).min(le));
        near.push((m, line, start, end));
    }
    let first = near
        .iter()
        .map(|n| n.1)
        .min()
        .unwrap_or(0)
        .saturating_sub(1);
    let last = near.iter().map(|n| n.1).max().unwrap_or(0) + 1;
    let mut out = String::new();
    let mut labels = Vec::new();
    let mut cuts = Vec::new();
    let mut offset = line_start(first);
    for (i, line) in text
        .split_inclusive('\n')
        .enumerate()
        .skip(first)
        .take(last + 1 - first)
    {
        let body = line.trim_end_matches(['\n', '\r']);
        let on_line: Vec<&(Mark, usize, usize, usize)> = near.iter().filter(|n| n.1 == i).collect();
        let (from, to) = if body.len() <= WINDOW {
            (0, body.len())
        } else {
            let lo = on_line.iter().map(|n| n.2 - offset).min().unwrap_or(0);
            let from = lo.saturating_sub(WINDOW / 3);
            let to = (from + WINDOW).min(body.len());
            (from, to)
        };
        let cut = |i: usize| {
            let mut i = i.min(body.len());
            while i > 0 && !body.is_char_boundary(i) {
                i -= 1;
            }
            i
        };
        let (from, to) = (cut(from), cut(to));
        let base = out.len();
        let prefix = if from > 0 { "…" } else { "" };
        let cut_chars = body.get(..from).map_or(0, |b| b.chars().count());
        cuts.push(cut_chars.saturating_sub(prefix.chars().count()));
        out.push_str(prefix);
        out.push_str(body.get(from..to).unwrap_or(""));
        if to < body.len() {
            out.push('…');
        }
        out.push('\n');
        for (m, _, s, e) in on_line {
            let map = |x: usize| {
                let col = (x - offset).clamp(from, to);
                base + prefix.len() + (col - from)
            };
            let (a, b) = (map(*s), map(*e));
            labels.push((
                m.message.clone(),
                SourceSpan::new(a.into(), b - a),
                m.primary,
            ));
        }
        offset += line.len();
    }
    (
        Excerpt {
            name,
            text: out,
            first_line: first,
            cut: cuts,
        },
        labels,
        far,
    )
}
