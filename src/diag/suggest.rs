//! "Did you mean" suggestions: a case-insensitive exact match first, then the
//! closest candidate by Damerau-Levenshtein distance normalised by length.

/// The candidate closest to `name`, if any is close enough.
pub fn closest<'a, I, S>(name: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str> + 'a,
{
    let lower = name.to_lowercase();
    let mut best: Option<(f64, String)> = None;
    for c in candidates {
        let c = c.as_ref();
        if c == name {
            continue;
        }
        if c.to_lowercase() == lower {
            return Some(c.to_string());
        }
        let d = distance(&lower, &c.to_lowercase()) as f64;
        let len = name.chars().count().max(c.chars().count()).max(1) as f64;
        let score = d / len;
        if score <= 0.4
            && d <= 4.0
            && best
                .as_ref()
                .is_none_or(|(s, b)| score < *s || (score == *s && c < b.as_str()))
        {
            best = Some((score, c.to_string()));
        }
    }
    best.map(|(_, c)| c)
}

/// "did you mean `x`?" for [`closest`].
pub fn did_you_mean<'a, I, S>(name: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str> + 'a,
{
    closest(name, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// Optimal-string-alignment Damerau-Levenshtein distance.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (n, m) = (a.len(), b.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        if let Some(x) = row.first_mut() {
            *x = i;
        }
    }
    if let Some(row) = d.first_mut() {
        for (j, x) in row.iter_mut().enumerate() {
            *x = j;
        }
    }
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(a.get(i - 1) != b.get(j - 1));
            let get = |d: &Vec<Vec<usize>>, x: usize, y: usize| {
                d.get(x)
                    .and_then(|r| r.get(y))
                    .copied()
                    .unwrap_or(usize::MAX / 2)
            };
            let mut v = (get(&d, i - 1, j) + 1)
                .min(get(&d, i, j - 1) + 1)
                .min(get(&d, i - 1, j - 1) + cost);
            if i > 1 && j > 1 && a.get(i - 1) == b.get(j - 2) && a.get(i - 2) == b.get(j - 1) {
                v = v.min(get(&d, i - 2, j - 2) + 1);
            }
            if let Some(cell) = d.get_mut(i).and_then(|r| r.get_mut(j)) {
                *cell = v;
            }
        }
    }
    d.get(n).and_then(|r| r.get(m)).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_close_names() {
        assert_eq!(
            closest("replica", ["replicas", "ports"]),
            Some("replicas".into())
        );
        assert_eq!(closest("Replicas", ["replicas"]), Some("replicas".into()));
        assert_eq!(closest("xyz", ["replicas"]), None);
        assert_eq!(distance("ab", "ba"), 1);
    }
}
