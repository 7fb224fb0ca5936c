//! `shipc explain CODE`: the long help of a diagnostic code.

use super::args::ExplainArgs;
use super::render::Output;
use shipc::Code;

pub fn run(out: &Output, a: &ExplainArgs) -> u8 {
    if a.list || a.code.is_none() {
        if out.json() {
            let codes: Vec<serde_json::Value> = Code::ALL
                .iter()
                .map(|c| serde_json::json!({"code": c.id(), "name": c.name(), "severity": c.default_severity()}))
                .collect();
            println!("{}", serde_json::json!({"version": 1, "codes": codes}));
        } else {
            for c in Code::ALL {
                let title = c
                    .explanation()
                    .lines()
                    .next()
                    .and_then(|l| l.split_once(": "))
                    .map_or("", |(_, t)| t);
                println!("{}  {:<28} {title}", c.id(), c.name());
            }
        }
        return 0;
    }
    let code = a.code.as_deref().unwrap_or("");
    match Code::parse(code) {
        Some(c) => {
            if out.json() {
                let v = serde_json::json!({"version": 1, "code": c.id(), "name": c.name(), "explanation": c.explanation()});
                println!("{v}");
            } else {
                print!("{}", c.explanation());
            }
            0
        }
        None => {
            let ids: Vec<&str> = Code::ALL.iter().map(|c| c.id()).collect();
            let hint = shipc::diag::suggest::did_you_mean(&code.to_uppercase(), &ids)
                .unwrap_or_else(|| "`shipc explain --list` lists every code".to_string());
            out.tool_error(&format!("unknown code `{code}`"), Some(&hint));
            super::USAGE
        }
    }
}
