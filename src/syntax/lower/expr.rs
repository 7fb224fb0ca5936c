//! Expressions: operators (Pratt), numbers with units, strings with
//! interpolation and dedented blocks.

use super::*;

impl Lower {
    pub(super) fn expr(&self, p: Pair<'_, Rule>) -> R<Expr> {
        let span = self.span(&p);
        match p.as_rule() {
            Rule::expr | Rule::paren => {
                let inner = p.into_inner().next().ok_or_else(|| self.shape(span))?;
                let mut e = self.expr(inner)?;
                if e.span.start > span.start {
                    e.span = span;
                }
                Ok(e)
            }
            Rule::if_expr => {
                let mut it = p.into_inner();
                let _ = self.next(&mut it, span)?;
                let c = self.expr(self.next(&mut it, span)?)?;
                let _ = self.next(&mut it, span)?;
                let a = self.expr(self.next(&mut it, span)?)?;
                let _ = self.next(&mut it, span)?;
                let b = self.expr(self.next(&mut it, span)?)?;
                Ok(Expr {
                    kind: ExprKind::If(Box::new(c), Box::new(a), Box::new(b)),
                    span,
                })
            }
            Rule::binary => self.binary(p.into_inner(), span),
            Rule::limit_expr => {
                let mut it = p.into_inner();
                let _ = self.next(&mut it, span)?;
                let limit = self.expr(self.next(&mut it, span)?)?;
                Ok(Expr {
                    kind: ExprKind::LimitOnly(Box::new(limit)),
                    span,
                })
            }
            Rule::postfix => {
                let mut it = p.into_inner();
                let mut e = self.expr(self.next(&mut it, span)?)?;
                for q in it {
                    let qs = self.span(&q);
                    let s = e.span.to(qs);
                    e = match q.as_rule() {
                        Rule::member => {
                            let id = q.into_inner().next().ok_or_else(|| self.shape(qs))?;
                            Expr {
                                kind: ExprKind::Member(Box::new(e), self.ident(id)),
                                span: s,
                            }
                        }
                        _ => Expr {
                            kind: ExprKind::Call(Box::new(e), self.args(q)?),
                            span: s,
                        },
                    };
                }
                Ok(e)
            }
            Rule::boolean => Ok(Expr {
                kind: ExprKind::Bool(p.as_str() == "true"),
                span,
            }),
            Rule::ident => Ok(Expr {
                kind: ExprKind::Ident(p.as_str().to_string()),
                span,
            }),
            Rule::number => self.number(p.as_str(), span),
            Rule::list => {
                let items = self.each(p.into_inner(), |q| self.expr(q))?;
                Ok(Expr {
                    kind: ExprKind::List(items),
                    span,
                })
            }
            Rule::record => {
                let b = p.into_inner().next().ok_or_else(|| self.shape(span))?;
                Ok(Expr {
                    kind: ExprKind::Record(self.body(b)?),
                    span,
                })
            }
            Rule::string | Rule::triple_string => self.string(p),
            _ => Err(self.shape(span)),
        }
    }

    /// Binary operators by precedence (Pratt), then prefix `!`.
    fn binary(&self, pairs: Pairs<'_, Rule>, span: Span) -> R<Expr> {
        use pest::pratt_parser::{Assoc, Op, PrattParser};
        thread_local! {
            static PRATT: PrattParser<Rule> = PrattParser::new()
                .op(Op::infix(Rule::or_op, Assoc::Left))
                .op(Op::infix(Rule::and_op, Assoc::Left))
                .op(Op::infix(Rule::cmp_op, Assoc::Left))
                .op(Op::infix(Rule::range_op, Assoc::Left))
                .op(Op::infix(Rule::add_op, Assoc::Left))
                .op(Op::prefix(Rule::not_op));
        }
        PRATT
            .with(|pratt| {
                pratt
                    .map_primary(|p| self.expr(p))
                    .map_prefix(|_op, rhs| {
                        let rhs = rhs?;
                        let s = rhs.span;
                        Ok(Expr {
                            kind: ExprKind::Not(Box::new(rhs)),
                            span: s,
                        })
                    })
                    .map_infix(|lhs, op, rhs| {
                        let (lhs, rhs) = (lhs?, rhs?);
                        let op = match op.as_rule() {
                            Rule::or_op => BinOp::Or,
                            Rule::and_op => BinOp::And,
                            Rule::cmp_op if op.as_str() == "==" => BinOp::Eq,
                            Rule::cmp_op => BinOp::Ne,
                            Rule::range_op => BinOp::Range,
                            _ => BinOp::Add,
                        };
                        let s = lhs.span.to(rhs.span);
                        Ok(Expr {
                            kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
                            span: s,
                        })
                    })
                    .parse(pairs)
            })
            .map_err(|e: Box<Diagnostic>| {
                if e.primary.span.is_empty() {
                    Box::new(Diagnostic::new(Code::E0001, span, e.message))
                } else {
                    e
                }
            })
    }

    fn number(&self, text: &str, span: Span) -> R<Expr> {
        let is_int = text
            .bytes()
            .enumerate()
            .all(|(i, b)| b.is_ascii_digit() || b == b'_' || (i == 0 && b == b'-'));
        if is_int {
            let clean: String = text.chars().filter(|&c| c != '_').collect();
            return match clean.parse::<i64>() {
                Ok(n) => Ok(Expr {
                    kind: ExprKind::Int(n),
                    span,
                }),
                Err(_) => Err(Box::new(
                    Diagnostic::new(
                        Code::E0005,
                        span,
                        format!("integer `{text}` does not fit in 64 bits"),
                    )
                    .label("too large")
                    .help("integers range from -9223372036854775808 to 9223372036854775807"),
                )),
            };
        }
        if text.len() > 64 {
            return Err(Box::new(
                Diagnostic::new(Code::E0005, span, "number literal is too long")
                    .label("at most 64 characters"),
            ));
        }
        Ok(Expr {
            kind: ExprKind::Number(text.chars().filter(|&c| c != '_').collect()),
            span,
        })
    }

    pub(super) fn string(&self, p: Pair<'_, Rule>) -> R<Expr> {
        let span = self.span(&p);
        let triple = p.as_rule() == Rule::triple_string;
        let pairs = p.into_inner();
        let mut parts: Vec<StrPart> = Vec::with_capacity(pairs.len());
        for q in pairs {
            match q.as_rule() {
                Rule::str_text | Rule::triple_text => push_lit(&mut parts, q.as_str()),
                Rule::escape => {
                    let qs = self.span(&q);
                    let c = match q.as_str().get(1..) {
                        Some("n") => "\n",
                        Some("t") => "\t",
                        Some("\"") => "\"",
                        Some("\\") => "\\",
                        Some("$") => "$",
                        other => {
                            return Err(Box::new(
                                Diagnostic::new(
                                    Code::E0004,
                                    qs,
                                    format!("unknown escape `\\{}`", other.unwrap_or("")),
                                )
                                .label("not an escape")
                                .help("escapes are `\\n`, `\\t`, `\\\"`, `\\\\` and `\\$`; write `\\\\` for a backslash"),
                            ))
                        }
                    };
                    push_lit(&mut parts, c);
                }
                Rule::interp => {
                    let qs = self.span(&q);
                    let inner = q.into_inner().next().ok_or_else(|| self.shape(qs))?;
                    parts.push(StrPart::Interp(self.expr(inner)?));
                }
                _ => return Err(self.shape(self.span(&q))),
            }
        }
        if triple {
            dedent(&mut parts);
        }
        // Escapes join the text around them into one part: the tree keeps
        // only what is used.
        parts.shrink_to_fit();
        for part in &mut parts {
            if let StrPart::Lit(t) = part {
                t.shrink_to_fit();
            }
        }
        Ok(Expr {
            kind: ExprKind::Str(parts),
            span,
        })
    }
}

fn push_lit(parts: &mut Vec<StrPart>, s: &str) {
    if let Some(StrPart::Lit(t)) = parts.last_mut() {
        t.push_str(s);
    } else {
        parts.push(StrPart::Lit(s.to_string()));
    }
}

/// Remove the common leading indentation of a `"""` string, the newline right
/// after the opening quotes, and the whitespace-only last line.
fn dedent(parts: &mut [StrPart]) {
    if let Some(StrPart::Lit(first)) = parts.first_mut() {
        if let Some(pos) = first.find('\n') {
            if first.get(..pos).is_some_and(|s| s.trim().is_empty()) {
                first.replace_range(..=pos, "");
            }
        }
    }
    if let Some(StrPart::Lit(last)) = parts.last_mut() {
        if let Some(pos) = last.rfind('\n') {
            if last.get(pos + 1..).is_some_and(|s| s.trim().is_empty()) {
                last.truncate(pos + 1);
            }
        }
    }
    // Lines start at offset 0 of the first part and after every '\n' of a literal part.
    let mut min: Option<usize> = None;
    let mut at_line_start = true;
    for part in parts.iter() {
        match part {
            StrPart::Lit(t) => {
                for (i, line) in t.split('\n').enumerate() {
                    if i > 0 {
                        at_line_start = true;
                    }
                    if at_line_start {
                        let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
                        let blank = line.trim().is_empty() && i + 1 < t.split('\n').count();
                        if !blank && !line.is_empty() {
                            min = Some(min.map_or(indent, |m| m.min(indent)));
                        }
                        if !line.is_empty() {
                            at_line_start = false;
                        }
                    }
                }
            }
            StrPart::Interp(_) => {
                if at_line_start {
                    min = Some(0);
                }
                at_line_start = false;
            }
        }
    }
    let Some(n) = min.filter(|&n| n > 0) else {
        return;
    };
    let mut at_line_start = true;
    for part in parts.iter_mut() {
        match part {
            StrPart::Lit(t) => {
                let mut out = String::with_capacity(t.len());
                for (i, line) in t.split('\n').enumerate() {
                    if i > 0 {
                        out.push('\n');
                        at_line_start = true;
                    }
                    if at_line_start && !line.is_empty() {
                        let strip = line.len() - line.trim_start_matches([' ', '\t']).len();
                        out.push_str(line.get(strip.min(n)..).unwrap_or(""));
                        at_line_start = false;
                    } else {
                        out.push_str(line);
                    }
                }
                *t = out;
            }
            StrPart::Interp(_) => at_line_start = false,
        }
    }
}
