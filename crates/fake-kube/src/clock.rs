//! The simulated clock the test controls, and Kubernetes' time formats.
//!
//! Simulated time starts at the wall-clock second the server started and moves only when a test
//! ticks it (or the auto-tick task does), so "600 seconds without progress" costs no real time.
//! Pure: no reads of the system clock here; the caller passes the start instant.

use k8s_openapi::jiff::Timestamp;

/// Simulated time, in milliseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    now_ms: i64,
}

impl Clock {
    /// A clock reading `start_ms`.
    pub fn new(start_ms: i64) -> Self {
        Clock { now_ms: start_ms }
    }

    /// Current simulated time in milliseconds.
    pub fn now_ms(&self) -> i64 {
        self.now_ms
    }

    /// Moves the clock forward.
    pub fn advance_ms(&mut self, ms: i64) {
        self.now_ms = self.now_ms.saturating_add(ms.max(0));
    }

    /// `metav1.Time` of now: RFC 3339, whole seconds, `Z`.
    pub fn timestamp(&self) -> String {
        format_time(self.now_ms)
    }

    /// `metav1.MicroTime` of now: RFC 3339 with six fractional digits.
    pub fn micro_timestamp(&self) -> String {
        let micros = self.now_ms.rem_euclid(1000) * 1000;
        let base = format_time(self.now_ms);
        format!("{}.{micros:06}Z", base.trim_end_matches('Z'))
    }
}

/// Formats epoch milliseconds as `metav1.Time` (seconds precision).
pub fn format_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    Timestamp::from_second(secs)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_string())
}

/// Parses an RFC 3339 timestamp to epoch milliseconds.
pub fn parse_time(s: &str) -> Option<i64> {
    s.parse::<Timestamp>().ok().map(|t| t.as_millisecond())
}

/// `duration.HumanDuration` from apimachinery, as the AGE and LAST SEEN columns print it.
pub fn human_duration(ms: i64) -> String {
    let secs = ms / 1000;
    if secs < -1 {
        return "<invalid>".into();
    }
    if secs < 0 {
        return "0s".into();
    }
    let minutes = secs / 60;
    let hours = secs / 3600;
    if secs < 120 {
        format!("{secs}s")
    } else if minutes < 10 {
        let s = secs % 60;
        if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        }
    } else if minutes < 180 {
        format!("{minutes}m")
    } else if hours < 8 {
        let m = minutes % 60;
        if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        }
    } else if hours < 48 {
        format!("{hours}h")
    } else if hours < 24 * 8 {
        let h = hours % 24;
        if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        }
    } else if hours < 24 * 365 * 2 {
        format!("{}d", hours / 24)
    } else if hours < 24 * 365 * 8 {
        let d = (hours / 24) % 365;
        if d == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{d}d", hours / 24 / 365)
        }
    } else {
        format!("{}y", hours / 24 / 365)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let mut c = Clock::new(1_700_000_000_000);
        assert_eq!(c.timestamp(), "2023-11-14T22:13:20Z");
        c.advance_ms(1_500);
        assert_eq!(c.timestamp(), "2023-11-14T22:13:21Z");
        assert_eq!(c.micro_timestamp(), "2023-11-14T22:13:21.500000Z");
        assert_eq!(parse_time("2023-11-14T22:13:20Z"), Some(1_700_000_000_000));
    }

    #[test]
    fn human_durations() {
        for (secs, want) in [
            (5, "5s"),
            (119, "119s"),
            (150, "2m30s"),
            (600, "10m"),
            (3 * 3600 + 60, "3h1m"),
            (10 * 3600, "10h"),
            (3 * 86400, "3d"),
        ] {
            assert_eq!(human_duration(secs * 1000), want);
        }
    }
}
