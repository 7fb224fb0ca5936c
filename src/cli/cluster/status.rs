//! `history` and `status`.

use super::*;

pub fn history(out: &Output, a: &HistoryArgs) -> u8 {
    let loaded = match load(out, &a.cluster, "history") {
        Ok(l) => l,
        Err(c) => return c,
    };
    if loaded.kind() == Some(EnvKind::Flux) {
        return super::super::gitops::history(out, a, loaded);
    }
    let b = match bind(out, &a.cluster, loaded) {
        Ok(b) => b,
        Err(c) => return c,
    };
    let mut extra = serde_json::Map::new();
    extra.insert("env".into(), b.rendered.env.clone().into());
    match b.runtime.block_on(engine::history(&b.cluster, &b.rendered)) {
        Ok((lines, warnings)) => {
            if out.json() {
                extra.insert(
                    "revisions".into(),
                    serde_json::to_value(&lines).unwrap_or_default(),
                );
                b.report(out, warnings, extra);
                return 0;
            }
            b.report(out, warnings, extra);
            if lines.is_empty() {
                eprintln!(
                    "env `{}` has no recorded revision in `{}`",
                    b.env_name, b.context
                );
                return 0;
            }
            let mut o = std::io::stdout().lock();
            let _ = writeln!(
                o,
                "{:<9}{:<22}{:<12}{:<9}DESCRIPTION",
                "REVISION", "TIME", "STATUS", "OBJECTS"
            );
            for l in &lines {
                let _ = writeln!(
                    o,
                    "{:<9}{:<22}{:<12}{:<9}{}",
                    l.revision,
                    l.time,
                    serde_json::to_value(l.status)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                    l.objects,
                    l.description
                );
                for i in &l.images_changed {
                    let _ = writeln!(o, "{:<9}image {i}", "");
                }
            }
            0
        }
        Err(diags) => {
            b.report(out, diags, extra);
            1
        }
    }
}

pub fn status(out: &Output, a: &StatusArgs) -> u8 {
    let loaded = match load(out, &a.cluster, "status") {
        Ok(l) => l,
        Err(c) => return c,
    };
    let flux_objects = if loaded.kind() == Some(EnvKind::Flux) {
        super::super::gitops::flux_objects_of(&loaded, &a.cluster)
    } else {
        Vec::new()
    };
    let b = match bind(out, &a.cluster, loaded) {
        Ok(b) => b,
        Err(c) => return c,
    };
    let color = out.color && std::io::stdout().is_terminal();
    loop {
        let result = b
            .runtime
            .block_on(shipc::cluster::status::status(&b.cluster, &b.rendered));
        let mut extra = serde_json::Map::new();
        extra.insert("env".into(), b.rendered.env.clone().into());
        let flux = if flux_objects.is_empty() {
            Ok(Vec::new())
        } else {
            b.runtime.block_on(shipc::gitops::flux::states(
                &b.cluster,
                &flux_objects,
                b.rendered.span,
            ))
        };
        let result = match (result, flux) {
            (Ok(r), Ok(f)) => Ok((r, f)),
            (Err(d), _) => Err(d),
            (_, Err(d)) => Err(vec![d]),
        };
        let code = match result {
            Ok((report, flux)) => {
                let flux_ok = flux.iter().all(|s| s.ready == "True" && !s.suspended);
                if out.json() {
                    extra.insert(
                        "status".into(),
                        serde_json::to_value(&report).unwrap_or_default(),
                    );
                    extra.insert("summary".into(), report.summary().into());
                    extra.insert("healthy".into(), (report.healthy() && flux_ok).into());
                    if !flux_objects.is_empty() {
                        extra.insert(
                            "flux".into(),
                            serde_json::to_value(&flux).unwrap_or_default(),
                        );
                    }
                    b.report(out, Vec::new(), extra);
                } else {
                    if a.watch && color {
                        print!("\x1b[H\x1b[2J");
                    }
                    print_status(&b, &report, color);
                    if !flux.is_empty() {
                        super::super::gitops::print_flux_states(&flux, color);
                    }
                }
                if report.healthy() && flux_ok {
                    0
                } else {
                    CHANGES
                }
            }
            Err(diags) => {
                b.report(out, diags, extra);
                1
            }
        };
        if !a.watch {
            return code;
        }
        std::thread::sleep(Duration::from_secs(2));
    }
}

fn print_status(b: &Bound, r: &shipc::cluster::status::Report, color: bool) {
    let mut o = std::io::stdout().lock();
    let _ = writeln!(o, "env `{}` in context `{}`", b.env_name, b.context);
    for s in &r.services {
        let code = match s.health {
            "ready" => "32",
            "progressing" | "drift" => "33",
            _ => "31",
        };
        let reason = if s.reason.is_empty() {
            String::new()
        } else {
            format!("  ({})", s.reason)
        };
        let _ = writeln!(
            o,
            "  {} {}  {}/{} ready, {} restarts{reason}",
            paint(color, code, &format!("{:<11}", s.health)),
            s.workload,
            s.ready,
            s.total,
            s.restarts
        );
        for i in &s.images {
            let running = if i.running.is_empty() {
                "(no pod reports one)".to_string()
            } else {
                i.running.join(", ")
            };
            let mark = if i.drift {
                paint(color, "33", " DRIFT")
            } else {
                String::new()
            };
            let _ = writeln!(
                o,
                "      {}: pinned {}, running {running}{mark}",
                i.container, i.pinned
            );
        }
        for x in &s.objects {
            let _ = writeln!(o, "      {x}");
        }
    }
    for i in &r.infra {
        let code = if i.health == "ready" { "32" } else { "31" };
        let _ = writeln!(
            o,
            "  {} infra {} ({})",
            paint(color, code, &format!("{:<11}", i.health)),
            i.name,
            i.target
        );
    }
    let code = if r.healthy() { "32" } else { "33" };
    let _ = writeln!(o, "{}", paint(color, code, &r.summary()));
}
