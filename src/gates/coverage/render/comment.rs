//! The pull-request comment's body: the hidden marker, a headline (total, delta, diff
//! coverage, verdict), the failing checks, changed files with deltas, indirect changes,
//! every file collapsed, and links to the check runs; within GitHub's 65,536-character
//! comment limit. Pure. Every name from a report goes through [`crate::untrusted`].

use std::fmt::Write as _;

use super::super::config::{show_delta, show_percent};
use super::super::delta::Deltas;
use super::super::evaluate::Evaluation;
use super::files::{self, Input};
use crate::outcome::Verdict;
use crate::untrusted::{Md, md_code, md_text};

/// GitHub's limit for an issue comment's body, in characters.
pub(crate) const COMMENT_LIMIT: usize = 65_536;

/// What the comment says beyond the evaluation.
pub(crate) struct Context<'a> {
    /// The hidden first line.
    pub marker: &'a str,
    /// The check name (the workflow's, still rendered as text).
    pub check_name: &'a str,
    /// The verdict.
    pub verdict: Verdict,
    /// Why there is no comparison, when there is none.
    pub no_base: Option<&'a str>,
    /// This run's check run.
    pub check_run_url: Option<&'a str>,
    /// The components table (empty without components).
    pub components: &'a str,
}

fn with_delta(now: (u64, u64), base: Option<(u64, u64)>) -> String {
    let mut s = format!("{}%", show_percent(now.0, now.1));
    if let Some(b) = base {
        let d = show_delta(b, now);
        if !d.is_empty() {
            let _ = write!(s, " ({d})");
        }
    }
    s
}

/// The comment's body, at most [`COMMENT_LIMIT`] bytes.
pub(crate) fn body(
    ev: &Evaluation,
    deltas: Option<&Deltas>,
    input: &Input<'_>,
    cx: &Context<'_>,
) -> String {
    let mut md = format!("{}\n", cx.marker);
    let icon = match cx.verdict {
        Verdict::Pass => "✅",
        Verdict::Fail => "❌",
    };
    let _ = writeln!(md, "### {icon} {}\n", md_text(cx.check_name));
    let mut parts = vec![format!(
        "**Line coverage {}**",
        with_delta(ev.lines, deltas.map(|d| d.lines))
    )];
    if let Some(b) = ev.branches.filter(|b| b.1 > 0) {
        parts.push(format!(
            "branches {}",
            with_delta(b, deltas.and_then(|d| d.branches))
        ));
    }
    if let Some(d) = ev.diff.filter(|d| d.1 > 0) {
        parts.push(format!(
            "diff coverage {}% ({}/{} changed lines)",
            show_percent(d.0, d.1),
            d.0,
            d.1
        ));
    }
    parts.push(format!(
        "**{}**",
        match cx.verdict {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
        }
    ));
    let _ = writeln!(md, "{}\n", parts.join(" · "));
    let mut failed = false;
    for c in ev.checks.iter().filter(|c| c.pass == Some(false)) {
        let th = c
            .threshold
            .map(|t| format!(" ({})", super::threshold_text(c.name, t)))
            .unwrap_or_default();
        let _ = writeln!(md, "- ❌ {}: {}{th}", c.name, md_text(&c.measured));
        failed = true;
    }
    if failed {
        md.push('\n');
    }
    if !cx.components.is_empty() {
        md.push_str(cx.components);
        md.push('\n');
    }
    let mut foot = String::from("\n");
    match (deltas, cx.no_base) {
        (Some(d), _) => {
            let _ = write!(
                foot,
                "Compared with {} ({}){}.",
                md_code(d.sha.get(..12).unwrap_or(&d.sha), Md::Prose),
                md_text(&d.why),
                if d.url.is_empty() {
                    String::new()
                } else {
                    format!(", [its check run]({})", d.url)
                }
            );
            if d.partial {
                foot.push_str(
                    " The base record held only some files: per-file deltas are partial.",
                );
            }
        }
        (None, Some(why)) => {
            let _ = write!(foot, "No comparison with the base: {}.", md_text(why));
        }
        (None, None) => {}
    }
    if let Some(url) = cx.check_run_url {
        let _ = write!(foot, " [Check run]({url}).");
    }
    foot.push('\n');
    let room = COMMENT_LIMIT.saturating_sub(md.len() + foot.len() + 16);
    md.push_str(&files::render(input, room, true));
    md.push_str(&foot);
    md
}
