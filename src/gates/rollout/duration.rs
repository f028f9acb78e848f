//! The wait timeout: Go-style durations (`5m`, `90s`, `1h30m`) in, and the same style
//! out for every duration people read. Pure.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct WaitTimeout(Duration);

impl WaitTimeout {
    /// The duration.
    pub(super) fn get(self) -> Duration {
        self.0
    }
}

impl From<Duration> for WaitTimeout {
    fn from(d: Duration) -> Self {
        Self(d)
    }
}

/// The longest wait accepted: a job cannot run longer than six hours anyway.
const MAX_TIMEOUT: Duration = Duration::from_secs(6 * 3600);

impl FromStr for WaitTimeout {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        const EXPECTED: &str = "a duration such as `5m`, `90s` or `1h30m`";
        let mut rest = s.trim();
        if rest.is_empty() {
            return Err(EXPECTED.into());
        }
        let mut total = Duration::ZERO;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(EXPECTED.into());
            }
            let number: u64 = rest[..digits].parse().map_err(|_| EXPECTED.to_owned())?;
            rest = &rest[digits..];
            let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
            let unit = &rest[..unit_len];
            rest = &rest[unit_len..];
            let part = match unit {
                "h" => number.checked_mul(3600).map(Duration::from_secs),
                "m" => number.checked_mul(60).map(Duration::from_secs),
                "s" => Some(Duration::from_secs(number)),
                "ms" => Some(Duration::from_millis(number)),
                _ => return Err(EXPECTED.into()),
            };
            total = part
                .and_then(|p| total.checked_add(p))
                .ok_or_else(|| EXPECTED.to_owned())?;
        }
        if total.is_zero() {
            return Err("a positive duration such as `5m`".into());
        }
        if total > MAX_TIMEOUT {
            return Err("a duration of at most 6h".into());
        }
        Ok(Self(total))
    }
}

impl fmt::Display for WaitTimeout {
    /// The shortest Go-style form: `5m`, `1h30m`, `90s` shows as `1m30s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", format_duration(self.0))
    }
}

/// A duration in the Go style, coarse units first: `1h30m`, `2m5s`, `1.25s`, `350ms`.
pub(super) fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let secs = d.as_secs();
    if secs < 60 {
        let hundredths = (ms % 1000) / 10;
        let text = format!("{secs}.{hundredths:02}");
        return format!("{}s", text.trim_end_matches('0').trim_end_matches('.'));
    }
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    let mut out = String::new();
    for (n, unit) in [(h, "h"), (m, "m"), (s, "s")] {
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_follow_go_syntax() {
        for (s, secs) in [
            ("5m", 300),
            ("90s", 90),
            ("1h30m", 5400),
            ("1m30s", 90),
            ("2h", 7200),
            (" 45s ", 45),
        ] {
            assert_eq!(
                s.parse::<WaitTimeout>().unwrap().get(),
                Duration::from_secs(secs),
                "{s}"
            );
        }
        assert_eq!(
            "1500ms".parse::<WaitTimeout>().unwrap().get(),
            Duration::from_millis(1500)
        );
        for bad in [
            "",
            "5",
            "m",
            "5x",
            "0s",
            "-5m",
            "1.5m",
            "7h",
            "5m ago",
            "99999999999999999999h",
        ] {
            assert!(bad.parse::<WaitTimeout>().is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_print_in_go_style() {
        let cases = [
            (Duration::from_secs(300), "5m"),
            (Duration::from_secs(5400), "1h30m"),
            (Duration::from_secs(90), "1m30s"),
            (Duration::from_millis(350), "350ms"),
            (Duration::from_millis(1250), "1.25s"),
            (Duration::from_millis(12_040), "12.04s"),
            (Duration::from_millis(3005), "3s"),
            (Duration::from_secs(3601), "1h1s"),
        ];
        for (d, want) in cases {
            assert_eq!(format_duration(d), want, "{d:?}");
        }
    }
}
