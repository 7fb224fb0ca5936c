//! Checks of the `allow_from` / `allow_to` peers of services and infra
//! (E2043): a peer is pods (by labels and/or namespace) or an IP block,
//! never both and never nothing; IP blocks are CIDRs, and each `except` a
//! block inside its `cidr`; port labels name the declaration's own ports,
//! and only in `allow_from` (a client's egress has no labels to name).

use crate::diag::{suggest, Code, Diagnostic, Diagnostics};
use crate::model::view::{Infra, NetworkPeer};
use crate::model::{Decl, Value, V};
use crate::source::Span;
use crate::syntax::ast::DeclKind;
use std::net::IpAddr;

/// Check a service's or infra's peers.
pub fn check(d: &Decl, diags: &mut Diagnostics) {
    let (from, to, ports) = match d.id.kind {
        DeclKind::Service => {
            let s = d.service();
            (s.allow_from(), s.allow_to(), s.ports())
        }
        DeclKind::Infra => {
            let i = Infra::of(&d.value);
            (i.allow_from(), i.allow_to(), i.ports())
        }
        _ => return,
    };
    let labels: Vec<&str> = ports
        .map(|p| p.entries().map(|(k, _)| k.as_str()).collect())
        .unwrap_or_default();
    for p in from.map(Value::as_list).unwrap_or(&[]) {
        peer(d, p, Some(&labels), diags);
    }
    for p in to.map(Value::as_list).unwrap_or(&[]) {
        peer(d, p, None, diags);
    }
}

fn err(diags: &mut Diagnostics, span: Span, msg: String, label: &str, help: &str) {
    diags.push(
        Diagnostic::new(Code::E2043, span, msg)
            .label(label)
            .help(help),
    );
}

/// A CIDR: (address, prefix length, address bits).
fn cidr(s: &str) -> Option<(u128, u32, u32)> {
    let (addr, len) = s.split_once('/')?;
    let len: u32 = len.parse().ok()?;
    match addr.parse::<IpAddr>().ok()? {
        IpAddr::V4(a) if len <= 32 => Some((u128::from(u32::from(a)), len, 32)),
        IpAddr::V6(a) if len <= 128 => Some((u128::from(a), len, 128)),
        _ => None,
    }
}

fn mask(len: u32, bits: u32) -> u128 {
    let all = if bits == 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    };
    if len == 0 {
        0
    } else {
        all & !((1u128 << (bits - len)) - 1)
    }
}

fn peer(d: &Decl, v: &Value, own_labels: Option<&[&str]>, diags: &mut Diagnostics) {
    let p = NetworkPeer::of(v);
    for (k, x) in p
        .pods()
        .map(|m| m.entries().collect::<Vec<_>>())
        .unwrap_or_default()
    {
        let problem = crate::names::label_key(k)
            .err()
            .or_else(|| x.as_str().and_then(|s| crate::names::label_value(s).err()));
        if let Some(why) = problem {
            err(
                diags,
                x.span,
                format!("`{k}` is not a pod label selector: {why}"),
                "invalid label",
                "label keys are `[prefix/]name`, values at most 63 letters, digits, `-`, `_`, `.`",
            );
        }
    }
    let has_pods = p.pods().is_some_and(|m| m.entries().next().is_some());
    let has_ns = p.namespace().and_then(Value::as_str).is_some();
    let block = p.cidr().and_then(Value::as_str);
    match block {
        Some(_) if has_pods || has_ns => err(
            diags,
            p.cidr().map_or(v.span, |x| x.span),
            "a peer is pods or an IP block, not both".into(),
            "IP block beside pod selectors",
            "write two peers: one with `cidr`, one with `namespace` / `pods`",
        ),
        None if !has_pods && !has_ns => err(
            diags,
            v.span,
            "this peer admits nothing: it names no pods, namespace or IP block".into(),
            "empty peer",
            "set `namespace = \"ingress-nginx\"` (its pods), `pods { app = \"x\" }` (pods of the env's namespace), or `cidr = \"0.0.0.0/0\"` (anywhere)",
        ),
        _ => {}
    }
    let parsed = block.and_then(|c| {
        let r = cidr(c);
        if r.is_none() {
            err(
                diags,
                p.cidr().map_or(v.span, |x| x.span),
                format!("`{c}` is not a CIDR block"),
                "invalid CIDR",
                "write an address and a prefix length: `10.0.0.0/8`, `0.0.0.0/0`, `fd00::/8`",
            );
        }
        r
    });
    for e in p.except().map(Value::as_list).unwrap_or(&[]) {
        let Some(text) = e.as_str() else { continue };
        let Some(outer) = parsed else {
            if block.is_none() {
                err(
                    diags,
                    e.span,
                    "`except` needs a `cidr` to take blocks out of".into(),
                    "no `cidr`",
                    "set `cidr`, or remove `except`",
                );
            }
            continue;
        };
        match cidr(text) {
            None => err(
                diags,
                e.span,
                format!("`{text}` is not a CIDR block"),
                "invalid CIDR",
                "write an address and a prefix length: `10.1.0.0/16`",
            ),
            Some((a, len, bits)) => {
                let (oa, olen, obits) = outer;
                let inside = bits == obits
                    && len > olen
                    && (a & mask(olen, bits)) == (oa & mask(olen, bits));
                if !inside {
                    err(
                        diags,
                        e.span,
                        format!("`{text}` is not strictly inside the peer's `cidr`"),
                        "outside the block",
                        "Kubernetes only takes smaller blocks of `cidr` out of it",
                    );
                }
            }
        }
    }
    for port in p.ports().map(Value::as_list).unwrap_or(&[]) {
        let V::Str(label) = &port.kind else { continue };
        match own_labels {
            None => err(
                diags,
                port.span,
                format!("`allow_to` ports are numbers: `{label}` names no port of the peer"),
                "a port label",
                "write the peer's port number: `ports = [443]`",
            ),
            Some(labels) if !labels.contains(&label.as_str()) => {
                let hint = suggest::did_you_mean(label, labels.iter())
                    .map(|h| format!("{h} "))
                    .unwrap_or_default();
                err(
                    diags,
                    port.span,
                    format!("`{}` has no port `{label}`", d.id.name),
                    "unknown port label",
                    &format!("{hint}`allow_from` ports are this declaration's own: a label of its ports, or a number"),
                );
            }
            Some(_) => {}
        }
    }
}
