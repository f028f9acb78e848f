//! A value that must never be printed: `Debug` and `Display` show `***`.

use std::fmt;

/// A secret value (token, password, kubeconfig). Read it with [`Secret::expose`] only
/// where it is handed to the one place that needs it.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wrap a value.
    pub fn new(value: T) -> Self {
        Self(value)
    }
    /// The value itself.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The strings a runner should mask for a secret value: the whole value and, for a
/// multi-line value, each line long enough to be worth masking (the runner matches masks
/// within single log lines).
pub fn mask_values(value: &str) -> Vec<String> {
    let mut out = vec![value.to_owned()];
    if value.contains('\n') {
        out.extend(
            value
                .lines()
                .map(str::trim)
                .filter(|l| l.len() >= 8)
                .map(str::to_owned),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints() {
        let s = Secret::new("ghs_abc".to_owned());
        assert_eq!(format!("{s} {s:?} {:?}", Some(&s)), "*** *** Some(***)");
        assert_eq!(s.expose(), "ghs_abc");
    }

    #[test]
    fn multi_line_secrets_mask_each_line() {
        assert_eq!(mask_values("abc"), ["abc"]);
        let m = mask_values("apiVersion: v1\n  token: abcdefghijkl\nx: y");
        assert!(m.contains(&"token: abcdefghijkl".to_owned()), "{m:?}");
        assert!(!m.contains(&"x: y".to_owned()));
    }
}
