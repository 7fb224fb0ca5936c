//! `shipc explain CODE`: the long help of a diagnostic code.

use super::args::ExplainArgs;
use super::render::Output;
use shipc::Code;

pub fn run(out: &Output, a: &ExplainArgs) -> u8 {
    match Code::parse(&a.code) {
        Some(c) => {
            if out.json() {
                let v = serde_json::json!({"code": c.id(), "name": c.name(), "explanation": c.explanation()});
                println!("{v}");
            } else {
                print!("{}", c.explanation());
            }
            0
        }
        None => {
            let ids: Vec<&str> = Code::ALL.iter().map(|c| c.id()).collect();
            let hint = shipc::diag::suggest::did_you_mean(&a.code.to_uppercase(), &ids)
                .unwrap_or_else(|| "codes look like E0001, E1001, E2001, E3001".to_string());
            out.tool_error(&format!("unknown code `{}`", a.code), Some(&hint));
            super::USAGE
        }
    }
}
