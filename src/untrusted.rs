//! Untrusted text into each sink: the one place that escapes what the pull request
//! controls (report contents, file names, diffs, commit messages, docker build output, pod
//! logs, events) before it reaches a runner log line, a streamed log block or markdown.
//!
//! Every gate and every reporter goes through these functions; nothing else escapes.
//! Pure: strings in, strings out (the stop-commands block that writes lines lives in
//! `runner::commands`, which asks this module for the token and the line form).
//!
//! Why each rule exists:
//! - The runner reads stdout line by line, splitting on `\r\n`, `\r` and `\n`; a line whose
//!   trimmed text starts with `::` is a workflow command, and the legacy `##[command]` form
//!   is recognised anywhere in a line (actions/runner `ActionCommand.TryParseV2`/`TryParse`).
//!   So a single log line must carry no line break of any kind and no `##[`.
//! - Output we stream (docker, pod logs, a smoke command) goes between
//!   `::stop-commands::<token>` and `::<token>::`, GitHub's documented way to print text
//!   that must not be interpreted
//!   (<https://docs.github.com/actions/reference/workflow-commands-for-github-actions#stopping-and-starting-workflow-commands>).
//! - Markdown (job summary, check run, PR comment): GitHub renders CommonMark + GFM with
//!   HTML allowed, autolinks `@user` (a notification) and `#123`. Untrusted names go in code
//!   spans whose fence is longer than any backtick run inside; prose is backslash-escaped;
//!   `|` is escaped in table cells (also inside code spans, as GFM requires); line breaks
//!   and other control characters become visible escapes.
//!
//! Every function here is linear in its input.

use std::fmt::Write as _;

/// Characters that end or alter a line on some sink: C0 controls (tab aside), DEL, C1
/// controls, and Unicode's line and paragraph separators.
fn is_breaking(c: char) -> bool {
    (c.is_control() && c != '\t') || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Push the visible escape of a control character (`\n`, `\r`, `\u{1b}`).
fn push_escape(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        c => {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
    }
}

/// Untrusted text made safe for one runner log line: line breaks and other control
/// characters shown as escapes (`\n`, `\r`, `\u{1b}`), the legacy `##[` command marker
/// broken (`#\#[`), and a leading `::` (after whitespace) prefixed with a space-free marker
/// so the runner cannot read the line as a command.
pub fn log_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut hashes = 0usize;
    for c in text.chars() {
        if is_breaking(c) {
            push_escape(&mut out, c);
            hashes = 0;
            continue;
        }
        if c == '[' && hashes >= 2 {
            // `##[` becomes `#\#[`: still readable, never a legacy command.
            out.pop();
            out.push_str("\\#");
        }
        hashes = if c == '#' { hashes + 1 } else { 0 };
        out.push(c);
    }
    // .NET's `Trim()` removes Unicode white space before the runner looks for `::`.
    if out.trim_start().starts_with("::") {
        out.insert(0, '\\');
    }
    out
}

/// Split streamed output into lines exactly where the runner would (`\r\n`, `\r`, `\n`).
/// An empty trailing piece after a final break is dropped.
pub fn runner_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                lines.push(&text[start..i]);
                start = i + 1;
            }
            b'\r' => {
                lines.push(&text[start..i]);
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < text.len() {
        lines.push(&text[start..]);
    }
    lines
}

/// The workflow commands a runner would act on in `stdout`, read as actions/runner reads
/// it: lines split on `\r\n`, `\r` and `\n`; a trimmed line starting with `::` is a command
/// (its name returned) unless a `::stop-commands::<token>` block is open; the legacy `##[`
/// form counts anywhere in a line (returned as `legacy`). The judge of every test that
/// prints untrusted text.
pub fn commands_the_runner_sees(stdout: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut stopped: Option<String> = None;
    for line in runner_lines(stdout) {
        let t = line.trim();
        if let Some(token) = &stopped {
            if t.strip_prefix("::").and_then(|r| r.strip_suffix("::")) == Some(token.as_str()) {
                stopped = None;
            }
            continue;
        }
        if let Some(rest) = t.strip_prefix("::") {
            let name = rest.split([' ', ':']).next().unwrap_or_default().to_owned();
            if name == "stop-commands" {
                stopped = Some(rest.trim_start_matches("stop-commands::").to_owned());
            }
            found.push(name);
        } else if line.contains("##[") {
            found.push("legacy".into());
        }
    }
    found
}

/// A fresh random token for a `::stop-commands::` block (32 hex characters; the streamed
/// text cannot know it, so it cannot end the block early).
pub fn stop_token() -> String {
    let mut s = String::with_capacity(32);
    for b in rand::random::<[u8; 16]>() {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// A line of streamed output for the inside of a stop-commands block: commands are off
/// there, so only characters that would still break the log (other controls than the
/// ANSI escape, which the runner renders as colour) are escaped.
pub fn stream_line(line: &str) -> String {
    if !line.chars().any(|c| is_breaking(c) && c != '\u{1b}') {
        return line.to_owned();
    }
    let mut out = String::with_capacity(line.len() + 8);
    for c in line.chars() {
        if is_breaking(c) && c != '\u{1b}' {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    out
}

/// Where a piece of markdown goes: table cells also need `|` escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Md {
    /// A paragraph, list item or heading.
    Prose,
    /// A GFM table cell.
    Cell,
}

/// The longest run of backticks seen so far: a fence one longer can never be closed by
/// the text inside.
#[derive(Default)]
struct Backticks {
    run: usize,
    longest: usize,
}

impl Backticks {
    fn see(&mut self, c: char) {
        if c == '`' {
            self.run += 1;
            self.longest = self.longest.max(self.run);
        } else {
            self.run = 0;
        }
    }

    /// The fence for a code span.
    fn fence(&self) -> String {
        "`".repeat(self.longest + 1)
    }
}

/// Untrusted text as a markdown code span: nothing inside is markup, HTML, a mention or a
/// link. The fence is one backtick longer than the longest run inside; a space pads a
/// span that starts or ends with a backtick or a space (CommonMark strips one each side).
pub fn md_code(text: &str, place: Md) -> String {
    let mut body = String::with_capacity(text.len() + 4);
    let mut ticks = Backticks::default();
    for c in text.chars() {
        ticks.see(c);
        if is_breaking(c) {
            push_escape(&mut body, c);
        } else if c == '|' && place == Md::Cell {
            // GFM splits cells before inline parsing, pairing backslashes left to right: the
            // pipe is escaped only when an odd run of backslashes precedes it.
            let trailing = body.len() - body.trim_end_matches('\\').len();
            body.push_str(if trailing % 2 == 1 { "\\\\|" } else { "\\|" });
        } else {
            body.push(c);
        }
    }
    if body.is_empty() {
        body.push(' ');
    }
    let fence = ticks.fence();
    let pad = body.starts_with('`')
        || body.ends_with('`')
        || (body.starts_with(' ') && body.ends_with(' ') && !body.trim().is_empty());
    let pad = if pad { " " } else { "" };
    format!("{fence}{pad}{body}{pad}{fence}")
}

/// Untrusted multi-line text (a log tail, command output) as a fenced code block: the
/// backtick fence is longer than any backtick run inside, so no line can close it (and a
/// `~~~` line is content); control characters other than line breaks and tabs become
/// visible escapes. Ends with a blank line.
pub fn md_block(text: &str) -> String {
    let mut body = String::with_capacity(text.len() + 16);
    let mut ticks = Backticks::default();
    for line in runner_lines(text) {
        for c in line.chars() {
            ticks.see(c);
            if is_breaking(c) {
                push_escape(&mut body, c);
            } else {
                body.push(c);
            }
        }
        ticks.see('\n');
        body.push('\n');
    }
    let fence = "`".repeat((ticks.longest + 1).max(3));
    format!("{fence}text\n{body}{fence}\n\n")
}

/// Untrusted text as markdown prose or a table cell: every character that can open markup
/// anywhere in a line is backslash-escaped (`` ` `` `*` `_` `[` `]` `<` `>` `|` `~` `$`
/// `\\`), so `<img>`, links, emphasis, math and table pipes stay literal; `&` is written
/// `&amp;` (no entity such as `&#10;` can decode); line breaks and controls become
/// visible escapes, so the text is one line, and what only matters at a line's start (`-`,
/// `+`, `=`, `#`, `1.`) is escaped there; `@name` and `#123` get a word joiner after the
/// sign so GitHub neither notifies nor links.
pub fn md_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut at_start = true;
    let mut iter = text.chars().peekable();
    while let Some(c) = iter.next() {
        let start = std::mem::replace(&mut at_start, false);
        if is_breaking(c) {
            push_escape(&mut out, c);
        } else if c == '&' {
            out.push_str("&amp;");
        } else if c == '@' || c == '#' {
            if start {
                out.push('\\');
            }
            out.push(c);
            // `@name` notifies, `#123` links: a word joiner after the sign stops both.
            let next = iter.peek();
            if (c == '@' && next.is_some_and(|n| n.is_alphanumeric() || *n == '_'))
                || (c == '#' && next.is_some_and(char::is_ascii_digit))
            {
                out.push('\u{2060}');
            }
        } else if matches!(
            c,
            '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '$' | '\\'
        ) || (start
            && matches!(c, '-' | '+' | '=')
            // A list item, thematic break or heading underline needs a space or another
            // sign next; `-7.28` is none of them and stays as it is.
            && !iter.peek().is_some_and(|n| n.is_alphanumeric()))
        {
            out.push('\\');
            out.push(c);
        } else if start && c.is_ascii_digit() {
            // `1.` or `1)` at a line's start, then a space or the end, is a list item
            // (`85.50%` is not, and stays as it is).
            out.push(c);
            while let Some(d) = iter.next_if(char::is_ascii_digit) {
                out.push(d);
            }
            let mut ahead = iter.clone();
            if matches!(ahead.next(), Some('.' | ')'))
                && ahead.next().is_none_or(|n| n == ' ' || n == '\t')
                && let Some(p) = iter.next()
            {
                out.push('\\');
                out.push(p);
            }
        } else if c == ' ' && start {
            // Leading spaces (four make a code block) are kept as one visible space.
            out.push_str("&#32;");
        } else {
            out.push(c);
        }
    }
    out
}

/// Untrusted text as one item of a line-per-item list (an output such as
/// `files-below-threshold`): unchanged when it has no line break or other control
/// character and does not start with `"`; otherwise quoted as git quotes paths
/// (`"a\nb"`, with `"` and `\\` escaped), so one item is always one line.
pub fn list_item(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.starts_with('"') && !text.chars().any(is_breaking) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if is_breaking(c) => push_escape(&mut out, c),
            c => out.push(c),
        }
    }
    out.push('"');
    std::borrow::Cow::Owned(out)
}

/// Untrusted text inside our own HTML (a `<summary>` line, where markdown is not parsed):
/// every ASCII punctuation character becomes a numeric character reference, so no tag,
/// entity, mention (`@`), issue link (`#`), markdown or table syntax can form; line breaks
/// and other controls become visible escapes, so the text stays on one line.
pub fn html_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_breaking(c) {
            push_escape(&mut out, c);
        } else if c.is_ascii_punctuation() && !matches!(c, '.' | '/' | '-' | '_') {
            let _ = write!(out, "&#{};", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests;
