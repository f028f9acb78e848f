//! The job summary, appended to `GITHUB_STEP_SUMMARY`, never more than 1 MiB per step.
//!
//! The runner refuses a step summary over 1 MiB and shows an error instead of it
//! (<https://docs.github.com/en/actions/using-workflows/workflow-commands-for-github-actions#step-isolation-and-limits>),
//! so we cut the markdown at a line boundary and say so in the last line.

use std::io::{self, Write};

/// The runner's limit for one step's summary, in bytes.
pub const STEP_SUMMARY_LIMIT: usize = 1024 * 1024;

/// Cut `text` so that it fits in `limit` bytes (UTF-8), at a line boundary, ending with a
/// line that says how much was left out. `what` names the limit in that line.
pub fn fit(text: &str, limit: usize, what: &str) -> String {
    if text.len() <= limit {
        return text.to_owned();
    }
    // Reserve room for the note; it names the omitted byte count, at most 20 digits.
    let note_for =
        |omitted: usize| format!("\n\n_… cut here: {omitted} more bytes did not fit {what}._\n");
    let reserve = note_for(usize::MAX).len();
    let budget = limit.saturating_sub(reserve);
    let mut cut = budget.min(text.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    // Prefer ending at a line boundary, but do not throw away more than half the budget.
    if let Some(nl) = text[..cut].rfind('\n')
        && nl >= cut / 2
    {
        cut = nl;
    }
    let mut out = text[..cut].trim_end().to_owned();
    out.push_str(&note_for(text.len() - cut));
    out
}

/// Fit a summary under the 1 MiB step limit, minus what the step already wrote.
pub fn fit_step_summary(text: &str, already_written: usize) -> String {
    fit(
        text,
        STEP_SUMMARY_LIMIT.saturating_sub(already_written),
        "in GitHub's 1 MiB step summary",
    )
}

/// Append a summary to `w`.
pub fn append<W: Write>(mut w: W, text: &str) -> io::Result<()> {
    w.write_all(text.as_bytes())?;
    if !text.ends_with('\n') {
        w.write_all(b"\n")?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_text_is_untouched() {
        assert_eq!(fit_step_summary("# ok\n", 0), "# ok\n");
    }

    #[test]
    fn big_text_is_cut_at_a_line_and_says_so() {
        let line = "| src/some/file.rs | 81.00% | ✅ |\n";
        let text = line.repeat(60_000);
        assert!(text.len() > STEP_SUMMARY_LIMIT);
        let out = fit_step_summary(&text, 0);
        assert!(out.len() <= STEP_SUMMARY_LIMIT, "{}", out.len());
        let last = out.trim_end().lines().last().unwrap();
        assert!(last.contains("more bytes did not fit"), "{last}");
        let body = out.split("\n\n_… cut here").next().unwrap();
        assert!(
            body.ends_with("✅ |"),
            "cut mid-line: {:?}",
            &body[body.len() - 40..]
        );
    }

    #[test]
    fn cut_respects_what_was_already_written_and_char_boundaries() {
        let text = "é".repeat(600_000);
        let out = fit_step_summary(&text, 200_000);
        assert!(out.len() <= STEP_SUMMARY_LIMIT - 200_000);
        assert!(out.starts_with('é'));
    }
}
