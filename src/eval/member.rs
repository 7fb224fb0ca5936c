//! Member access: `record.field`, `std.module.name`, and the members of
//! declarations and addresses (`api.port.http.url`, `db.host`, `x.name`).
//! Resolving `X.port.P`, `X.host` or `X.name` records a graph edge.

use super::Evaluator;
use crate::diag::{suggest, Code, Diagnostic};
use crate::model::{Address, DeclRef, Fields, Value, V};
use crate::program::types::Ty;
use crate::source::Span;
use crate::syntax::ast::DeclKind;

impl Evaluator<'_> {
    pub(super) fn member(&mut self, base: Value, m: &str, mspan: Span, span: Span) -> Value {
        match base.kind {
            V::Unknown => Value::unknown(span),
            V::Record(map) => match map.get(m) {
                Some(v) => Value::new(v.kind.clone(), span),
                None => {
                    let keys: Vec<&str> = map.keys().map(|k| k.as_str()).collect();
                    self.err(
                        Diagnostic::new(
                            Code::E2018,
                            mspan,
                            format!("no field `{m}` in this record"),
                        )
                        .label("unknown member")
                        .maybe_help(suggest::did_you_mean(m, &keys)),
                    );
                    Value::unknown(span)
                }
            },
            V::Namespace(ns) => {
                if ns == "std" {
                    if self.p.std_lets.contains_key(m) {
                        return Value::new(V::Namespace(format!("std.{m}")), span);
                    }
                    let mods: Vec<&String> = self.p.std_lets.keys().collect();
                    self.err(
                        Diagnostic::new(
                            Code::E1007,
                            mspan,
                            format!("unknown stdlib module `std.{m}`"),
                        )
                        .label("no such module")
                        .maybe_help(suggest::did_you_mean(m, &mods)),
                    );
                    return Value::unknown(span);
                }
                let module = ns.trim_start_matches("std.");
                let found = self.p.std_lets.get(module).and_then(|lets| lets.get(m));
                match found {
                    Some(l) => {
                        // Stdlib lets are constants: evaluate each once.
                        let key = l as *const crate::syntax::ast::Let as usize;
                        if let Some(v) = self.std_consts.get(&key) {
                            return Value::new(v.kind.clone(), span);
                        }
                        let saved = std::mem::take(&mut self.frame);
                        let v = self.raw(&l.value, &Ty::Any);
                        self.frame = saved;
                        self.std_consts.insert(key, v.clone());
                        Value::new(v.kind, span)
                    }
                    None => {
                        let names: Vec<&String> = self
                            .p
                            .std_lets
                            .get(module)
                            .map(|l| l.keys().collect())
                            .unwrap_or_default();
                        self.err(
                            Diagnostic::new(Code::E1001, mspan, format!("`{ns}` has no `{m}`"))
                                .label("unknown name")
                                .maybe_help(suggest::did_you_mean(m, &names)),
                        );
                        Value::unknown(span)
                    }
                }
            }
            V::Name { name, weak } => {
                let kind = [
                    DeclKind::Service,
                    DeclKind::Infra,
                    DeclKind::Image,
                    DeclKind::Env,
                ]
                .into_iter()
                .find(|k| self.p.decl(*k, &name).is_some())
                .unwrap_or(DeclKind::Service);
                self.decl_member(
                    DeclRef {
                        kind,
                        name: name.into(),
                    },
                    weak,
                    m,
                    mspan,
                    span,
                    base.span,
                )
            }
            V::Decl(d) => {
                let weak = self.frame.self_.as_ref() == Some(&d);
                self.decl_member(d, weak, m, mspan, span, base.span)
            }
            V::Ports(d, weak) => {
                let Some(info) = self.ports_info(&d, span) else {
                    return Value::unknown(span);
                };
                if info.internal.contains(m) {
                    self.err(
                        Diagnostic::new(
                            Code::E2024,
                            mspan,
                            format!(
                                "port `{m}` of `{}` is internal: it is not on its Service",
                                d.name
                            ),
                        )
                        .label("no address")
                        .help(format!(
                            "remove `{m}` from `{}`'s `internal`, or use another port",
                            d.name
                        )),
                    );
                    return Value::unknown(span);
                }
                match info.ports.get(m) {
                    Some((port, number)) => {
                        self.edge_to_port((*d).clone(), span, weak, Some(*number));
                        Value::new(
                            V::Addr(Box::new(Address {
                                target: *d,
                                host: info.host.clone(),
                                port: *port,
                                number: *number,
                            })),
                            span,
                        )
                    }
                    None => {
                        let labels: Vec<&String> = info.ports.keys().collect();
                        let help = suggest::did_you_mean(m, &labels).or_else(|| {
                            if labels.is_empty() {
                                Some(format!(
                                    "`{}` declares no ports; add `port {m} = …`",
                                    d.name
                                ))
                            } else {
                                Some(format!(
                                    "its ports: {}",
                                    labels
                                        .iter()
                                        .map(|l| format!("`{l}`"))
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                ))
                            }
                        });
                        self.err(
                            Diagnostic::new(
                                Code::E2024,
                                mspan,
                                format!("`{}` has no port `{m}`", d.name),
                            )
                            .label("unknown port label")
                            .maybe_help(help),
                        );
                        Value::unknown(span)
                    }
                }
            }
            V::Addr(a) => match m {
                "url" => Value::new(V::Str(format!("http://{}", a.host_port())), span),
                "host" => Value::new(V::Str(a.host.clone()), span),
                "number" => Value::new(V::Int(a.number), span),
                "port" => Value::new(V::Int(a.port), span),
                _ => {
                    self.err(
                        Diagnostic::new(
                            Code::E2018,
                            mspan,
                            format!("an address has no member `{m}`"),
                        )
                        .label("unknown member")
                        .maybe_help(
                            suggest::did_you_mean(m, ["url", "host", "number", "port"]).or(Some(
                                "addresses have `.url`, `.host`, `.number` and `.port`".into(),
                            )),
                        ),
                    );
                    Value::unknown(span)
                }
            },
            V::Call(ref c) => match c.args.get(m) {
                Some(v) => Value::new(v.kind.clone(), span),
                None => {
                    let keys: Vec<&str> = c.args.keys().map(|k| k.as_str()).collect();
                    self.err(
                        Diagnostic::new(
                            Code::E2018,
                            mspan,
                            format!("the result of `{}()` has no member `{m}`", c.func),
                        )
                        .label("unknown member")
                        .maybe_help(suggest::did_you_mean(m, &keys)),
                    );
                    Value::unknown(span)
                }
            },
            ref other => {
                let shown = Value::new(other.clone(), base.span).describe();
                self.err(
                    Diagnostic::new(Code::E2018, mspan, format!("{shown} has no member `{m}`"))
                        .label("unknown member"),
                );
                Value::unknown(span)
            }
        }
    }

    fn decl_member(
        &mut self,
        d: DeclRef,
        weak: bool,
        m: &str,
        mspan: Span,
        span: Span,
        _base: Span,
    ) -> Value {
        let addressable = matches!(d.kind, DeclKind::Service | DeclKind::Infra);
        match m {
            "port" if addressable => Value::new(V::Ports(Box::new(d), weak), span),
            // `jaeger.service.collector.port.otlp`: a record of the infra's
            // further Services, each with its host and addresses.
            "service" if d.kind == DeclKind::Infra => {
                let Some(info) = self.ports_info(&d, span) else {
                    return Value::unknown(span);
                };
                self.edge(d.clone(), span, weak);
                let mut services = Fields::new();
                for (name, (host, ports)) in &info.services {
                    let mut addrs = Fields::new();
                    for (label, n) in ports {
                        let addr = Address {
                            target: d.clone(),
                            host: host.clone(),
                            port: *n,
                            number: *n,
                        };
                        addrs.insert(label.clone(), Value::new(V::Addr(Box::new(addr)), span));
                    }
                    let mut rec = Fields::new();
                    rec.insert("host", Value::new(V::Str(host.clone()), span));
                    rec.insert("port", Value::new(V::Record(addrs), span));
                    services.insert(name.clone(), Value::new(V::Record(rec), span));
                }
                Value::new(V::Record(services), span)
            }
            "host" | "name" if addressable => {
                let Some(info) = self.ports_info(&d, span) else {
                    return Value::unknown(span);
                };
                self.edge(d, span, weak);
                let s = if m == "host" {
                    info.host.clone()
                } else {
                    info.k8s_name.clone()
                };
                Value::new(V::Str(s), span)
            }
            _ => {
                let options: &[&str] = if d.kind == DeclKind::Infra {
                    &["port", "host", "name", "service"]
                } else if addressable {
                    &["port", "host", "name"]
                } else {
                    &[]
                };
                let help = suggest::did_you_mean(m, options).or_else(|| {
                    Some(if addressable {
                        "services and infra have `.port.NAME`, `.host` and `.name`".to_string()
                    } else {
                        format!(
                            "an {} has no members that can be referenced",
                            d.kind.keyword()
                        )
                    })
                });
                self.err(
                    Diagnostic::new(
                        Code::E2018,
                        mspan,
                        format!("{} `{}` has no member `{m}`", d.kind.keyword(), d.name),
                    )
                    .label("unknown member")
                    .maybe_help(help),
                );
                Value::unknown(span)
            }
        }
    }
}
