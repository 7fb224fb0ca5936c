//! Addresses: what `x.port.P`, `x.host` need of a declaration — its ports,
//! `expose`, name and namespace — evaluated apart and cached per env, so two
//! services may reference each other's addresses.

use super::*;

impl<'p> Evaluator<'p> {
    /// The ports and host of a service or infra in this env (cached).
    pub(crate) fn ports_info(
        &mut self,
        target: &DeclRef,
        span: Span,
    ) -> Option<std::rc::Rc<PortsInfo>> {
        if !self.touched.contains(target) {
            self.touched.insert(target.clone());
        }
        if let Some(info) = self.ports.get(target) {
            let info = info.clone();
            if let Some(ds) = self.ports_diags.get(target) {
                self.diags.extend(ds.iter().cloned());
            }
            return info;
        }
        let before = self.diags.len();
        // What the address read of the env is in the address, which a
        // reader's reuse compares (see `env_reads`).
        let reads = self.env_reads;
        // Nor are another declaration's fields this one's.
        let noting = self.field_reads.take();
        let outer = std::mem::take(&mut self.touched);
        let info = self.compute_ports_info(target, span);
        let inner = std::mem::replace(&mut self.touched, outer);
        let own = self.env_reads == reads && inner.iter().all(|t| t == target);
        self.touched.extend(inner);
        self.field_reads = noting;
        self.env_reads = reads;
        let produced = self.diags.since(before);
        self.ports_diags.insert(target.clone(), produced);
        if own || info.is_none() {
            return info;
        }
        // Marked on the cached record, now the only other reference.
        drop(info);
        let cached = self.ports.get_mut(target).and_then(Option::as_mut)?;
        if let Some(p) = std::rc::Rc::get_mut(cached) {
            p.own = false;
        }
        Some(cached.clone())
    }

    /// A declaration's address in this env (ports, host, name) and what
    /// computing it reports, for the incremental checker to compare. The
    /// report is not added to this evaluator's diagnostics.
    pub fn address(&mut self, target: &DeclRef) -> Option<(PortsInfo, Vec<Diagnostic>)> {
        let info = self.quiet_ports_info(target)?;
        let diags = self.ports_diags.get(target).cloned().unwrap_or_default();
        Some(((*info).clone(), diags))
    }

    /// A service's or infra's ports and host, none for anything else; what
    /// computing them reports is kept in `ports_diags` only.
    fn quiet_ports_info(&mut self, target: &DeclRef) -> Option<std::rc::Rc<PortsInfo>> {
        if !matches!(target.kind, DeclKind::Service | DeclKind::Infra) {
            return None;
        }
        let span = self.p.decl(target.kind, &target.name)?.name.span;
        let before = self.diags.len();
        let info = self.ports_info(target, span);
        self.diags.truncate(before);
        info
    }

    /// The env's release suffix (part of every service's address).
    pub fn suffix(&self) -> &str {
        &self.suffix
    }

    /// Whether a declaration's address in this env is `expected` (as
    /// [`Evaluator::address`] gave it in another), without copying it.
    pub fn address_is(
        &mut self,
        target: &DeclRef,
        expected: &Option<(PortsInfo, Vec<Diagnostic>)>,
    ) -> bool {
        let info = self.quiet_ports_info(target);
        match (info, expected) {
            (Some(info), Some((ports, diags))) => {
                *info == *ports
                    && self
                        .ports_diags
                        .get(target)
                        .map_or(diags.is_empty(), |d| d == diags)
            }
            (None, None) => true,
            _ => false,
        }
    }

    fn compute_ports_info(
        &mut self,
        target: &DeclRef,
        span: Span,
    ) -> Option<std::rc::Rc<PortsInfo>> {
        let decl = self.p.decl(target.kind, &target.name)?;
        if !self.ports_active.insert(target.clone()) {
            self.err(
                Diagnostic::new(
                    Code::E3001,
                    span,
                    format!("the ports of `{}` depend on themselves", target.name),
                )
                .label("needed to compute this address"),
            );
            return None;
        }
        let saved = std::mem::replace(
            &mut self.frame,
            Frame {
                self_: Some(target.clone()),
                current: None,
                env_allowed: true,
                ..Frame::default()
            },
        );
        let acc = self.layers(decl, target, Filter::Addressing);
        self.frame = saved;
        self.ports_active.remove(target);
        let rec = Value::new(V::Record(acc), decl.span);
        let base = rec
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| names::k8s_name(&target.name));
        let host = match target.kind {
            DeclKind::Service => format!("{base}{}", self.suffix),
            _ => {
                let h = rec
                    .get("host")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| base.clone());
                match rec.get("namespace").and_then(Value::as_str) {
                    Some(ns) if !h.contains('.') => format!("{h}.{ns}"),
                    _ => h,
                }
            }
        };
        let mut ports = BTreeMap::new();
        for (label, v) in rec
            .get("ports")
            .map(|p| p.entries().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            let number = match &v.kind {
                V::Int(n) => *n,
                V::Call(c) => c.args.get("number").and_then(Value::as_int).unwrap_or(0),
                _ => 0,
            };
            let exposed = rec
                .get("expose")
                .and_then(|e| e.get(label))
                .and_then(Value::as_int)
                .unwrap_or(number);
            ports.insert(label.to_string(), (exposed, number));
        }
        let internal = rec
            .get("internal")
            .map(Value::strings)
            .unwrap_or_default()
            .into_iter()
            .map(str::to_string)
            .collect();
        let ns = rec
            .get("namespace")
            .and_then(Value::as_str)
            .map(str::to_string);
        let services = rec
            .get("services")
            .map(|s| s.entries().collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .map(|(name, svc)| {
                let h = svc
                    .get("host")
                    .and_then(Value::as_str)
                    .unwrap_or(name)
                    .to_string();
                let h = match &ns {
                    Some(ns) if !h.contains('.') => format!("{h}.{ns}"),
                    _ => h,
                };
                let ports = svc
                    .get("ports")
                    .map(|p| p.entries().collect::<Vec<_>>())
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(label, v)| {
                        let n = match &v.kind {
                            V::Int(n) => *n,
                            V::Call(c) => c.args.get("number").and_then(Value::as_int).unwrap_or(0),
                            _ => 0,
                        };
                        (label.to_string(), n)
                    })
                    .collect();
                (name.to_string(), (h, ports))
            })
            .collect();
        // Shared: every address of this target reads the same record.
        let info = std::rc::Rc::new(PortsInfo {
            services,
            host,
            k8s_name: base,
            ports,
            internal,
            own: true,
        });
        self.ports.insert(target.clone(), Some(info.clone()));
        Some(info)
    }
}
