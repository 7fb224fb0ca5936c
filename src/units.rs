//! Unit literals (SPEC §2): the lexer keeps `number+unit`; the expected type
//! decides what it means. `10m` is 10 millicores as a `Cpu` and ten minutes
//! as a `Duration`.

use crate::model::QuantityKind;

/// Interpret a literal as a quantity of `kind`: the amount in base units
/// (millicores, bytes, milliseconds), or a help line for E2004.
pub fn parse(text: &str, kind: QuantityKind) -> Result<f64, String> {
    match kind {
        QuantityKind::Cpu => cpu(text),
        QuantityKind::Memory | QuantityKind::Storage => bytes(text, kind),
        QuantityKind::Duration => duration(text),
        QuantityKind::Percent => percent(text),
    }
}

fn percent(text: &str) -> Result<f64, String> {
    let help = "a Percent is a number with `%`, e.g. `70%`".to_string();
    match split_number(text) {
        Some((n, "%")) if n >= 0.0 => Ok(n),
        Some((_, "%")) => Err("a Percent cannot be negative".into()),
        _ => Err(help),
    }
}

fn split_number(text: &str) -> Option<(f64, &str)> {
    let end = text
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || (i == 0 && c == '-')))
        .map_or(text.len(), |(i, _)| i);
    let (num, unit) = text.split_at(end);
    num.parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .map(|n| (n, unit))
}

fn cpu(text: &str) -> Result<f64, String> {
    let help = "a Cpu is millicores (`500m`) or a number of cores (`2`, `0.5`)".to_string();
    let (n, unit) = split_number(text).ok_or_else(|| help.clone())?;
    if n < 0.0 {
        return Err("a Cpu quantity cannot be negative".into());
    }
    match unit {
        "" => Ok(n * 1000.0),
        "m" => Ok(n),
        _ => Err(help),
    }
}

const BINARY: &[(&str, f64)] = &[
    ("Ki", 1024.0),
    ("Mi", 1_048_576.0),
    ("Gi", 1_073_741_824.0),
    ("Ti", 1_099_511_627_776.0),
    ("Pi", 1_125_899_906_842_624.0),
    ("Ei", 1_152_921_504_606_846_976.0),
];
const DECIMAL: &[(&str, f64)] = &[
    ("k", 1e3),
    ("M", 1e6),
    ("G", 1e9),
    ("T", 1e12),
    ("P", 1e15),
    ("E", 1e18),
];

fn bytes(text: &str, kind: QuantityKind) -> Result<f64, String> {
    let what = if kind == QuantityKind::Memory {
        "Memory"
    } else {
        "Storage"
    };
    let generic = format!("{what} takes `Ki Mi Gi Ti` or `k M G T`, e.g. `512Mi`");
    let (n, unit) = split_number(text).ok_or_else(|| generic.clone())?;
    if n < 0.0 {
        return Err(format!("a {what} quantity cannot be negative"));
    }
    if unit.is_empty() {
        return Ok(n);
    }
    if let Some((_, f)) = BINARY.iter().chain(DECIMAL).find(|(u, _)| *u == unit) {
        return Ok(n * f);
    }
    // Common mistakes: `64MB`, `1gb`, `512mi`, `10K`.
    let num = text.get(..text.len() - unit.len()).unwrap_or("");
    let stem = unit
        .trim_end_matches(['B', 'b'])
        .trim_end_matches(['i', 'I']);
    let upper = stem.to_uppercase();
    let dec = match upper.as_str() {
        "K" => Some("k"),
        "M" => Some("M"),
        "G" => Some("G"),
        "T" => Some("T"),
        "P" => Some("P"),
        "E" => Some("E"),
        _ => None,
    };
    if let Some(d) = dec {
        let bin = format!("{}i", upper);
        return Err(format!("did you mean `{num}{bin}` or `{num}{d}`?"));
    }
    Err(generic)
}

fn duration(text: &str) -> Result<f64, String> {
    let help =
        "a Duration is written with `ms`, `s`, `m` or `h`, e.g. `30s` or `1h30m`".to_string();
    let mut rest = text;
    let mut total = 0.0;
    if rest.is_empty() {
        return Err(help);
    }
    while !rest.is_empty() {
        let (n, after) = split_number(rest).ok_or_else(|| help.clone())?;
        if n < 0.0 {
            return Err("a Duration cannot be negative".into());
        }
        let unit_len = after
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let factor = match unit {
            "ms" => 1.0,
            "s" => 1000.0,
            "m" => 60_000.0,
            "h" => 3_600_000.0,
            "" => return Err(format!("a Duration needs a unit: did you mean `{text}s`?")),
            "d" => return Err(format!("Go durations have no days: write `{}h`", n * 24.0)),
            _ => return Err(help),
        };
        total += n * factor;
        rest = next;
    }
    Ok(total)
}

/// A Go duration string for milliseconds (`10m`, `1h30m`, `1.5s`), as
/// Flux and Helmfile expect.
pub fn go_duration(ms: f64) -> String {
    let ms = ms.max(0.0).round() as u64;
    if ms == 0 {
        return "0s".into();
    }
    let (h, rem) = (ms / 3_600_000, ms % 3_600_000);
    let (m, rem) = (rem / 60_000, rem % 60_000);
    let (s, milli) = (rem / 1000, rem % 1000);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if milli > 0 {
        if s > 0 || !out.is_empty() {
            let frac = format!("{milli:03}");
            out.push_str(&format!("{s}.{}s", frac.trim_end_matches('0')));
        } else {
            out.push_str(&format!("{milli}ms"));
        }
    } else if s > 0 {
        out.push_str(&format!("{s}s"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_follow_the_expected_type() {
        assert_eq!(parse("10m", QuantityKind::Cpu), Ok(10.0));
        assert_eq!(parse("10m", QuantityKind::Duration), Ok(600_000.0));
        assert_eq!(parse("1h30m", QuantityKind::Duration), Ok(5_400_000.0));
        assert_eq!(parse("1.5Gi", QuantityKind::Memory), Ok(1_610_612_736.0));
        assert_eq!(parse("0.5", QuantityKind::Cpu), Ok(500.0));
        assert!(parse("64MB", QuantityKind::Memory)
            .unwrap_err()
            .contains("`64Mi` or `64M`"));
        assert!(parse("30s", QuantityKind::Cpu).is_err());
        assert_eq!(go_duration(5_400_000.0), "1h30m");
        assert_eq!(go_duration(600_000.0), "10m");
        assert_eq!(go_duration(1500.0), "1.5s");
    }
}
