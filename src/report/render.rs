//! Markdown for people: the job summary, the check-run output, the terminal.
//! Pure functions: outcome in, text out.

use crate::error::Described;
use crate::outcome::{Outcome, Verdict};
use crate::runner::summary::fit;

/// GitHub's limit for a check run's `output.summary` and `output.text`, in characters.
pub const CHECK_TEXT_LIMIT: usize = 65_535;

/// Cut to the check-run limit (counting bytes, which is never fewer than characters).
pub fn fit_check_text(text: &str) -> String {
    fit(
        text,
        CHECK_TEXT_LIMIT,
        "in the check run's 65,535-character limit",
    )
}

/// How the run ended, for headings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Gate verdict.
    Verdict(Verdict),
    /// The tool could not do its job.
    Error,
}

impl Status {
    /// The `result` output value.
    pub fn result(self) -> &'static str {
        match self {
            Status::Verdict(v) => v.as_str(),
            Status::Error => "error",
        }
    }
    fn icon(self) -> &'static str {
        match self {
            Status::Verdict(Verdict::Pass) => "✅",
            Status::Verdict(Verdict::Fail) => "❌",
            Status::Error => "⚠️",
        }
    }
}

/// The job summary for an outcome (or an error message), plus reporting notes.
pub fn job_summary(
    check_name: &str,
    status: Status,
    outcome: Option<&Outcome>,
    error: Option<&Described>,
    notes: &[String],
) -> String {
    let mut md = format!("## {} {check_name}: {}\n\n", status.icon(), status.result());
    if let Some(o) = outcome {
        md.push_str(&format!("**{}**\n\n", o.title));
        push_block(&mut md, &o.summary);
        push_block(&mut md, o.long_text.as_deref().unwrap_or(&o.text));
    }
    if let Some(e) = error {
        md.push_str(&format!("**{}**\n\n", e.title));
        push_block(&mut md, &error_text(e));
    }
    for n in notes {
        md.push_str(&format!("> {n}\n\n"));
    }
    md
}

/// The body people read for an error: the message (untrusted text: it may quote a report)
/// escaped, then the help, which is ours.
pub fn error_text(e: &Described) -> String {
    let mut text = format!(
        "The gate could not run: {}",
        crate::untrusted::md_text(&e.message)
    );
    if let Some(h) = &e.help {
        text.push_str("\n\n");
        text.push_str(h);
    }
    text
}

fn push_block(md: &mut String, block: &str) {
    let b = block.trim();
    if !b.is_empty() {
        md.push_str(b);
        md.push_str("\n\n");
    }
}

/// Markdown made readable on a terminal: HTML tags dropped, table rules simplified.
pub fn terminal(markdown: &str) -> String {
    let mut out = String::new();
    for raw in markdown.lines() {
        let mut line = raw.to_owned();
        for tag in ["<details>", "</details>", "<summary>", "</summary>", "**"] {
            line = line.replace(tag, "");
        }
        if line.trim().is_empty() && !raw.trim().is_empty() {
            continue;
        }
        if line.trim_start().starts_with("|") && line.contains("---") {
            continue;
        }
        let line = line
            .strip_prefix("## ")
            .or_else(|| line.strip_prefix("### "))
            .map_or(line.clone(), str::to_owned);
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_drops_markup() {
        let md = "## Coverage\n\n| file | % |\n|---|---|\n| a | 1 |\n<details><summary>More</summary>\n\n**x**\n</details>\n";
        assert_eq!(
            terminal(md),
            "Coverage\n\n| file | % |\n| a | 1 |\nMore\n\nx\n"
        );
    }

    #[test]
    fn check_text_is_cut_under_the_limit() {
        let long = "x\n".repeat(40_000);
        let cut = fit_check_text(&long);
        assert!(cut.chars().count() <= CHECK_TEXT_LIMIT);
        assert!(cut.trim_end().ends_with("character limit._"));
    }
}
