//! Times and validity for `list_permissions`. The policies themselves are worded by the
//! SDK's [`Policy::describe`], the same words the CLI shows.

use namera::policy::{Policy, PolicyKind};

/// When the key's timestamp policies end (0: never). Every policy must pass, so the
/// earliest end binds.
pub fn valid_until(policies: &[Policy]) -> u64 {
    policies
        .iter()
        .filter_map(|p| match p.kind {
            PolicyKind::Timestamp { valid_until, .. } if valid_until != 0 => Some(valid_until),
            _ => None,
        })
        .min()
        .unwrap_or(0)
}

pub use namera::policy::utc;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(utc(951_782_400), "2000-02-29T00:00:00Z");
    }
}
