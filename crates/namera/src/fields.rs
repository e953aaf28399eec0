//! Field names in JSON input: an unknown one is refused, never ignored (a typo such as
//! `valid_until` for `validUntil` would otherwise widen what a key may do), and the
//! refusal suggests the name that was probably meant.
//!
//! ```
//! use namera::fields::closest;
//! assert_eq!(closest("valid_until", &["validAfter", "validUntil"]), Some("validUntil"));
//! assert_eq!(closest("intervall", &["interval", "count", "startAt"]), Some("interval"));
//! assert_eq!(closest("colour", &["interval", "count"]), None);
//! ```

/// The name in `known` that `given` most likely meant: the same letters ignoring case,
/// `_` and `-`, or within a small edit distance. `None` when nothing is close.
pub fn closest<'a>(given: &str, known: &[&'a str]) -> Option<&'a str> {
    let norm = |s: &str| -> Vec<char> {
        s.chars().filter(|c| *c != '_' && *c != '-').flat_map(char::to_lowercase).collect()
    };
    let g = norm(given);
    let limit = (g.len() / 3).clamp(1, 3);
    known
        .iter()
        .map(|k| (distance(&g, &norm(k)), *k))
        .filter(|(d, _)| *d <= limit && *d < g.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// The message for an unknown field `field`, written at `path` (the field's full path,
/// e.g. `permissions[0].tragte`), with a suggestion when a known name is close.
pub fn unknown_field_message(path: &str, field: &str, known: &[&str]) -> String {
    match closest(field, known) {
        Some(k) => format!("unknown field `{path}`; did you mean `{k}`?"),
        None => format!("unknown field `{path}`; expected one of {}", known.join(", ")),
    }
}

/// Levenshtein distance over characters.
fn distance(a: &[char], b: &[char]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(
            closest("enforcePaymastr", &["allowed", "enforcePaymaster", "allowedPaymaster"]),
            Some("enforcePaymaster")
        );
        assert_eq!(closest("smartAccountAlias", &["smart_account", "alias"]), None);
        assert_eq!(closest("smart-account", &["smart_account", "alias"]), Some("smart_account"));
        assert_eq!(
            unknown_field_message("args[0].x", "x", &["a", "b"]),
            "unknown field `args[0].x`; expected one of a, b"
        );
    }
}
