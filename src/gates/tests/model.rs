//! What a test report says, reduced to what the gate needs and bounded whatever the
//! report's size: every test is counted, but only failures and flaky tests (up to
//! [`MAX_KEPT`] each, their text cut to [`MAX_TEXT`]) and the [`SLOWEST`] slowest tests
//! are kept. Parsers hand each test to [`Tally::add`] as they read it. Pure.

use std::collections::HashSet;

/// Failures (and flaky tests) kept with their text; past this they are only counted.
pub const MAX_KEPT: usize = 1000;
/// Bytes of a failure's message, trace or captured output kept.
pub const MAX_TEXT: usize = 16 * 1024;
/// How many of the slowest tests are listed.
pub const SLOWEST: usize = 10;
/// Failed tests remembered to recognise a later pass of the same test (a rerun) as flaky.
const MAX_FAILED_KEYS: usize = 100_000;

/// How one test ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// Passed on its only run.
    Passed,
    /// Failed an assertion (JUnit `<failure>`, go `fail`).
    Failed,
    /// Errored outside its assertions (JUnit `<error>`).
    Errored,
    /// Not run.
    Skipped,
    /// Failed, then passed when run again.
    Flaky,
}

impl Status {
    /// A word for people.
    pub fn word(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Errored => "error",
            Status::Skipped => "skipped",
            Status::Flaky => "flaky",
        }
    }
}

/// Text kept up to [`MAX_TEXT`] bytes (cut at a character boundary); `cut` says more
/// was there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bounded {
    /// The first bytes.
    pub text: String,
    /// Text was dropped.
    pub cut: bool,
}

impl Bounded {
    /// Append, keeping at most [`MAX_TEXT`] bytes.
    pub fn push(&mut self, s: &str) {
        let room = MAX_TEXT.saturating_sub(self.text.len());
        if s.len() <= room {
            self.text.push_str(s);
            return;
        }
        let mut n = room;
        while n > 0 && !s.is_char_boundary(n) {
            n -= 1;
        }
        self.text.push_str(&s[..n]);
        self.cut = true;
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.text.trim().is_empty()
    }
}

/// One test as a parser read it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Case {
    /// The suite (JUnit `testsuite` name, go package).
    pub suite: String,
    /// JUnit `classname` (may be empty).
    pub class: String,
    /// The test's name.
    pub name: String,
    /// `file` attribute, as written by the tool.
    pub file: Option<String>,
    /// `line` attribute.
    pub line: Option<u32>,
    /// Duration in milliseconds.
    pub millis: u64,
    /// How it ended.
    pub status: Option<Status>,
    /// The failure's (or skip's) message attribute.
    pub message: Bounded,
    /// The failure element's text: usually the stack trace.
    pub details: Bounded,
    /// Captured stdout and stderr.
    pub output: Bounded,
    /// Failed runs before the final one (retries).
    pub retries: u32,
}

impl Case {
    /// `class.name` or `name`: how the test is shown and matched across reruns.
    pub fn full_name(&self) -> String {
        if self.class.is_empty() || self.name.starts_with(&self.class) {
            self.name.clone()
        } else {
            format!("{}.{}", self.class, self.name)
        }
    }

    fn key(&self) -> String {
        format!("{}\u{0}{}\u{0}{}", self.suite, self.class, self.name)
    }
}

/// A test's name and time, for the slowest list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timed {
    /// Milliseconds.
    pub millis: u64,
    /// [`Case::full_name`].
    pub name: String,
}

/// Counts and the kept tests of one or more reports.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// Passed on the only run.
    pub passed: u64,
    /// Failed.
    pub failed: u64,
    /// Errored.
    pub errored: u64,
    /// Skipped.
    pub skipped: u64,
    /// Passed after failing.
    pub flaky: u64,
    /// Sum of the tests' durations.
    pub millis: u64,
    /// Failed and errored tests, in report order, up to [`MAX_KEPT`].
    pub failures: Vec<Case>,
    /// Flaky tests, up to [`MAX_KEPT`].
    pub flakies: Vec<Case>,
    /// Slowest first, up to [`SLOWEST`].
    pub slowest: Vec<Timed>,
    failed_keys: HashSet<String>,
    /// The previous test's key and how it was counted.
    last: Option<(String, Status)>,
}

impl Tally {
    /// Every test counted.
    pub fn total(&self) -> u64 {
        self.passed + self.failed + self.errored + self.skipped + self.flaky
    }

    /// Count one test (and keep it if it failed or was flaky). A pass of a test that
    /// failed earlier in the same reports (a rerun written as a second test case, as
    /// pytest-rerunfailures and `gotestsum --rerun-fails` do) makes it flaky instead.
    ///
    /// The same test twice in a row is one test run again: pytest-rerunfailures writes
    /// each failed attempt as a test case of its own (without a `<failure>`), then the
    /// final run. The earlier attempt is uncounted and the final run carries the retry:
    /// flaky when it passed.
    pub fn add(&mut self, mut case: Case) {
        let key = case.key();
        if let Some((last_key, counted)) = self.last.take()
            && last_key == key
        {
            self.uncount(&key, counted);
            case.retries = case.retries.saturating_add(1);
            if matches!(case.status, None | Some(Status::Passed)) {
                case.status = Some(Status::Flaky);
            }
        }
        let counted = self.count(case);
        self.last = Some((key, counted));
    }

    /// Take back a test counted as `counted` (its kept record too).
    fn uncount(&mut self, key: &str, counted: Status) {
        match counted {
            Status::Passed => self.passed = self.passed.saturating_sub(1),
            Status::Skipped => self.skipped = self.skipped.saturating_sub(1),
            Status::Failed | Status::Errored => {
                if counted == Status::Failed {
                    self.failed = self.failed.saturating_sub(1);
                } else {
                    self.errored = self.errored.saturating_sub(1);
                }
                if self.failures.last().is_some_and(|f| f.key() == key) {
                    self.failures.pop();
                }
                self.failed_keys.remove(key);
            }
            Status::Flaky => {
                self.flaky = self.flaky.saturating_sub(1);
                if self.flakies.last().is_some_and(|f| f.key() == key) {
                    self.flakies.pop();
                }
            }
        }
    }

    /// Count one test; returns how it was counted.
    fn count(&mut self, case: Case) -> Status {
        let status = case.status.unwrap_or(Status::Passed);
        self.millis = self.millis.saturating_add(case.millis);
        self.note_time(&case);
        match status {
            Status::Passed => {
                if !self.failed_keys.is_empty() && self.failed_keys.remove(&case.key()) {
                    self.rerun_passed(case);
                    return Status::Flaky;
                }
                self.passed += 1;
            }
            Status::Skipped => self.skipped += 1,
            Status::Flaky => {
                self.flaky += 1;
                if self.flakies.len() < MAX_KEPT {
                    self.flakies.push(case);
                }
            }
            Status::Failed | Status::Errored => {
                if status == Status::Failed {
                    self.failed += 1;
                } else {
                    self.errored += 1;
                }
                if self.failed_keys.len() < MAX_FAILED_KEYS {
                    self.failed_keys.insert(case.key());
                }
                if self.failures.len() < MAX_KEPT {
                    self.failures.push(case);
                }
            }
        }
        status
    }

    /// A passing rerun of a failed test: the earlier failure becomes one flaky test.
    fn rerun_passed(&mut self, case: Case) {
        let earlier = self
            .failures
            .iter()
            .position(|f| f.name == case.name && f.class == case.class && f.suite == case.suite);
        let mut flaky = match earlier {
            Some(i) => self.failures.remove(i),
            None => case,
        };
        match flaky.status {
            Some(Status::Errored) => self.errored = self.errored.saturating_sub(1),
            _ => self.failed = self.failed.saturating_sub(1),
        }
        flaky.status = Some(Status::Flaky);
        flaky.retries = flaky.retries.saturating_add(1);
        self.flaky += 1;
        if self.flakies.len() < MAX_KEPT {
            self.flakies.push(flaky);
        }
    }

    fn note_time(&mut self, case: &Case) {
        if case.millis == 0
            || (self.slowest.len() == SLOWEST
                && self.slowest.last().is_some_and(|t| t.millis >= case.millis))
        {
            return;
        }
        let at = self.slowest.partition_point(|t| t.millis >= case.millis);
        self.slowest.insert(
            at,
            Timed {
                millis: case.millis,
                name: case.full_name(),
            },
        );
        self.slowest.truncate(SLOWEST);
    }

    /// Fold another report's tally into this one.
    pub fn merge(&mut self, other: Tally) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.errored += other.errored;
        self.skipped += other.skipped;
        self.flaky += other.flaky;
        self.millis = self.millis.saturating_add(other.millis);
        for f in other.failures {
            if self.failures.len() < MAX_KEPT {
                self.failures.push(f);
            }
        }
        for f in other.flakies {
            if self.flakies.len() < MAX_KEPT {
                self.flakies.push(f);
            }
        }
        for t in other.slowest {
            let at = self.slowest.partition_point(|s| s.millis >= t.millis);
            self.slowest.insert(at, t);
        }
        self.slowest.truncate(SLOWEST);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(name: &str, status: Status, millis: u64) -> Case {
        Case {
            suite: "s".into(),
            name: name.into(),
            status: Some(status),
            millis,
            ..Case::default()
        }
    }

    #[test]
    fn counts_keeps_failures_and_the_slowest() {
        let mut t = Tally::default();
        for i in 0..30 {
            t.add(case(&format!("t{i}"), Status::Passed, i));
        }
        t.add(case("bad", Status::Failed, 5));
        t.add(case("err", Status::Errored, 0));
        t.add(case("skip", Status::Skipped, 0));
        assert_eq!(
            (t.passed, t.failed, t.errored, t.skipped, t.total()),
            (30, 1, 1, 1, 33)
        );
        assert_eq!(t.failures.len(), 2);
        assert_eq!(t.slowest.len(), SLOWEST);
        assert_eq!(t.slowest[0].millis, 29);
        assert!(t.slowest.windows(2).all(|w| w[0].millis >= w[1].millis));
    }

    #[test]
    fn a_passing_rerun_makes_the_failure_flaky() {
        let mut t = Tally::default();
        t.add(case("a", Status::Failed, 1));
        t.add(case("b", Status::Failed, 1));
        t.add(case("a", Status::Passed, 1));
        assert_eq!((t.failed, t.flaky, t.passed), (1, 1, 0));
        assert_eq!(t.flakies[0].name, "a");
        assert_eq!(t.failures[0].name, "b");
    }

    #[test]
    fn the_same_test_twice_in_a_row_is_a_rerun() {
        let mut t = Tally::default();
        t.add(case("a", Status::Passed, 1));
        t.add(case("a", Status::Passed, 1));
        t.add(case("b", Status::Failed, 1));
        t.add(case("b", Status::Failed, 1));
        t.add(case("c", Status::Passed, 1));
        assert_eq!((t.passed, t.flaky, t.failed, t.total()), (1, 1, 1, 3));
        assert_eq!(t.failures.len(), 1);
        assert_eq!(t.failures[0].retries, 1);
        assert_eq!(t.flakies[0].retries, 1);
    }

    #[test]
    fn bounded_text_cuts_at_a_character_boundary() {
        let mut b = Bounded::default();
        b.push(&"é".repeat(MAX_TEXT));
        assert!(b.cut && b.text.len() <= MAX_TEXT && b.text.len() >= MAX_TEXT - 1);
    }
}
