//! Workflow commands (`::error`, `::warning`, `::notice`, `::group::`, `::add-mask::`),
//! escaped exactly as `@actions/core` escapes them, and their readable local form.
//!
//! This is one of the two places allowed to write to stdout (the other is `main`).
//! Escaping follows `escapeData`/`escapeProperty` in
//! <https://github.com/actions/toolkit/blob/main/packages/core/src/command.ts>: the message
//! escapes `%`, `\r`, `\n`; property values additionally `:` and `,`.

use std::io::Write;
use std::sync::{Arc, Mutex, RwLock};

use crate::outcome::{Annotation, Level};
use crate::untrusted;

/// Escape a command message the way `@actions/core` does.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a command property value the way `@actions/core` does.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Format one workflow command line (without the trailing newline).
pub fn format_command(command: &str, properties: &[(&str, String)], message: &str) -> String {
    let mut line = format!("::{command}");
    if !properties.is_empty() {
        line.push(' ');
        let props: Vec<String> = properties
            .iter()
            .map(|(k, v)| format!("{k}={}", escape_property(v)))
            .collect();
        line.push_str(&props.join(","));
    }
    line.push_str("::");
    line.push_str(&escape_data(message));
    line
}

/// Format an annotation as an `::error`/`::warning`/`::notice` command, with the property
/// order `@actions/core` uses (`title`, `file`, `line`, `endLine`).
pub fn format_annotation(a: &Annotation) -> String {
    let mut props: Vec<(&str, String)> = Vec::new();
    if let Some(title) = &a.title {
        props.push(("title", title.clone()));
    }
    if let Some(path) = &a.path {
        props.push(("file", path.clone()));
        if let Some(line) = a.start_line {
            props.push(("line", line.to_string()));
            if let Some(end) = a.end_line.filter(|e| *e != line) {
                props.push(("endLine", end.to_string()));
            }
        }
    }
    format_command(level_command(a.level), &props, &a.message)
}

fn level_command(level: Level) -> &'static str {
    match level {
        Level::Notice => "notice",
        Level::Warning => "warning",
        Level::Failure => "error",
    }
}

/// Values registered with `::add-mask::`, also scrubbed by us from everything we write
/// (commands and logs), so a secret is hidden even off a runner or in an error message
/// that echoes it.
#[derive(Debug, Clone, Default)]
pub struct Masks(Arc<RwLock<Vec<String>>>);

impl Masks {
    /// Register a value, in every form it can take in what we write (see [`mask_forms`]).
    pub fn add(&self, value: &str) {
        if value.is_empty() {
            return;
        }
        let mut v = match self.0.write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        for form in mask_forms(value) {
            if !v.contains(&form) {
                v.push(form);
            }
        }
        // Longest first, so a value containing another is replaced whole.
        v.sort_by_key(|m| std::cmp::Reverse(m.len()));
    }

    /// `a` with masked values scrubbed from its title, file and message.
    pub fn annotation(&self, a: &Annotation) -> Annotation {
        Annotation {
            title: a.title.as_deref().map(|t| self.redact(t)),
            path: a.path.as_deref().map(|p| self.redact(p)),
            message: self.redact(&a.message),
            ..a.clone()
        }
    }

    /// Replace every registered value with `***`.
    pub fn redact(&self, text: &str) -> String {
        let v = match self.0.read() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let mut out = text.to_owned();
        for m in v.iter() {
            if out.contains(m.as_str()) {
                out = out.replace(m.as_str(), "***");
            }
        }
        out
    }
}

/// Lines of a multi-line secret shorter than this are not masked on their own: a `{` or
/// `}` line of a JSON secret carries nothing secret and would blank structure everywhere.
const MIN_LINE_MASK: usize = 6;

/// The forms of a secret that can appear in text we write, scrubbed from logs, outputs,
/// summaries and check runs alike. As actions/runner masks (`AddMaskCommandExtension`
/// and its value encoders): the value itself; each of its lines, trimmed (the runner masks
/// them one by one, since child processes print line by line); its JSON-string escape
/// (an error body or a JSON log quoting it); its percent-encoding (`Uri.EscapeDataString`:
/// a URL or a form body carrying it); and its workflow-command escape (`%25`, `%0D`, `%0A`).
pub fn mask_forms(value: &str) -> Vec<String> {
    let mut forms = vec![value.to_owned()];
    if value.contains(['\r', '\n']) {
        forms.extend(
            value
                .split(['\r', '\n'])
                .map(str::trim)
                .filter(|l| l.len() >= MIN_LINE_MASK)
                .map(str::to_owned),
        );
    }
    if let Ok(json) = serde_json::to_string(value) {
        forms.push(json[1..json.len() - 1].to_owned());
    }
    let mut pct = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            pct.push(char::from(b));
        } else {
            pct.push_str(&format!("%{b:02X}"));
        }
    }
    forms.push(pct);
    forms.push(escape_data(value));
    forms.sort();
    forms.dedup();
    forms
}

/// A log writer that scrubs masked values (for `tracing_subscriber`'s `with_writer`).
#[derive(Debug, Clone)]
pub struct MaskingWriter {
    masks: Masks,
    stdout: bool,
}

impl MaskingWriter {
    /// Logs to stdout (on a runner) or stderr (locally), scrubbed.
    pub fn new(masks: Masks, stdout: bool) -> Self {
        Self { masks, stdout }
    }
}

/// One formatted log event as the line we print: masked values scrubbed, then made one
/// line the runner cannot read as a command.
pub fn log_event(masks: &Masks, buf: &[u8]) -> String {
    let text = masks.redact(&String::from_utf8_lossy(buf));
    let body = text.strip_suffix('\n').unwrap_or(&text);
    format!("{}\n", untrusted::log_line(body))
}

impl Write for MaskingWriter {
    /// One call is one formatted event (tracing-subscriber formats into a buffer and writes
    /// it whole). Masked values are scrubbed first, then the event becomes exactly one log
    /// line the runner cannot read as a command, whatever text it carries.
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = log_event(&self.masks, buf);
        if self.stdout {
            std::io::stdout().lock().write_all(text.as_bytes())?;
        } else {
            std::io::stderr().lock().write_all(text.as_bytes())?;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for MaskingWriter {
    type Writer = MaskingWriter;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// How commands are rendered: as workflow commands on a runner, readably elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `GITHUB_ACTIONS=true`: workflow commands the runner interprets.
    Actions,
    /// A terminal: plain lines, no masks, no group markers.
    Human,
}

/// The command writer's state: where lines go, and the open stop-commands block.
struct Out {
    w: Box<dyn Write + Send>,
    /// Streams open now ([`Commands::stream`]).
    streams: usize,
    /// The token of the `::stop-commands::` block in effect, if any.
    stopped: Option<String>,
}

impl Out {
    fn put(&mut self, line: &str) {
        let _ = writeln!(self.w, "{line}");
    }
}

/// A shared, cloneable writer of workflow commands.
#[derive(Clone)]
pub struct Commands {
    out: Arc<Mutex<Out>>,
    style: Style,
    masks: Masks,
}

/// An open block of streamed untrusted output (docker build, pod logs, a smoke command):
/// on a runner its lines sit between `::stop-commands::<token>` and `::<token>::`, so
/// nothing in them is a command. Closes when dropped.
pub struct Stream {
    commands: Commands,
}

impl Stream {
    /// Write untrusted text: split where the runner splits lines, masked values scrubbed,
    /// line-breaking characters shown as escapes.
    pub fn write(&self, text: &str) {
        let text = self.commands.masks.redact(text);
        let mut out = self.commands.lock();
        for line in untrusted::runner_lines(&text) {
            out.put(&untrusted::stream_line(line));
        }
        let _ = out.w.flush();
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        let mut out = self.commands.lock();
        out.streams = out.streams.saturating_sub(1);
        if out.streams == 0
            && let Some(token) = out.stopped.take()
        {
            out.put(&format!("::{token}::"));
            let _ = out.w.flush();
        }
    }
}

impl std::fmt::Debug for Commands {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Commands")
            .field("style", &self.style)
            .finish()
    }
}

impl Commands {
    /// Commands written to `out` in the given style.
    pub fn new(out: Box<dyn Write + Send>, style: Style) -> Self {
        Self {
            out: Arc::new(Mutex::new(Out {
                w: out,
                streams: 0,
                stopped: None,
            })),
            style,
            masks: Masks::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Out> {
        // A poisoned lock or a closed stdout must not take the gate down with it.
        match self.out.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Open a block for streamed untrusted output (see [`Stream`]). Our own commands
    /// written while it is open still work: the block is paused around each of them.
    pub fn stream(&self) -> Stream {
        let mut out = self.lock();
        out.streams += 1;
        if self.style == Style::Actions && out.stopped.is_none() {
            let token = untrusted::stop_token();
            out.put(&format_command("stop-commands", &[], &token));
            out.stopped = Some(token);
        }
        Stream {
            commands: self.clone(),
        }
    }

    /// The masks shared with the log writer.
    pub fn masks(&self) -> Masks {
        self.masks.clone()
    }

    /// Commands to this process's stdout on a runner; locally to stderr, so stdout
    /// carries only the summary (or `--output json`).
    pub fn stdout(style: Style) -> Self {
        match style {
            Style::Actions => Self::new(Box::new(std::io::stdout()), style),
            Style::Human => Self::new(Box::new(std::io::stderr()), style),
        }
    }

    /// The rendering style.
    pub fn style(&self) -> Style {
        self.style
    }

    fn line(&self, line: &str) {
        let line = self.masks.redact(line);
        self.raw_line(&line);
    }

    /// Write one line of ours; an open stop-commands block is paused around it so the
    /// runner acts on it.
    fn raw_line(&self, line: &str) {
        let mut out = self.lock();
        let paused = out.stopped.take();
        if let Some(token) = &paused {
            out.put(&format!("::{token}::"));
        }
        out.put(line);
        if paused.is_some() {
            let token = untrusted::stop_token();
            out.put(&format_command("stop-commands", &[], &token));
            out.stopped = Some(token);
        }
        let _ = out.w.flush();
    }

    /// `::add-mask::value`: the runner replaces the value with `***` in every later log line.
    pub fn add_mask(&self, value: &str) {
        if value.is_empty() {
            return;
        }
        if self.style == Style::Actions {
            self.raw_line(&format_command("add-mask", &[], value));
        }
        self.masks.add(value);
    }

    /// Start a collapsible log group.
    pub fn group(&self, title: &str) {
        let title = &self.masks.redact(title);
        match self.style {
            Style::Actions => self.line(&format_command("group", &[], title)),
            Style::Human => self.line(&format!("── {title}")),
        }
    }

    /// End the current log group.
    pub fn endgroup(&self) {
        if self.style == Style::Actions {
            self.line("::endgroup::");
        }
    }

    /// Emit an annotation. Masked values are scrubbed from the title, file and message
    /// before they are escaped (an escaped secret would no longer match its mask).
    pub fn annotation(&self, a: &Annotation) {
        let a = &self.masks.annotation(a);
        match self.style {
            Style::Actions => self.line(&format_annotation(a)),
            Style::Human => {
                let level = match a.level {
                    Level::Notice => "notice",
                    Level::Warning => "warning",
                    Level::Failure => "error",
                };
                let place = match (&a.path, a.start_line, a.end_line) {
                    (Some(p), Some(l), Some(e)) if e != l => format!("{p}:{l}-{e}: "),
                    (Some(p), Some(l), _) => format!("{p}:{l}: "),
                    (Some(p), None, _) => format!("{p}: "),
                    _ => String::new(),
                };
                let title = a
                    .title
                    .as_deref()
                    .map(|t| format!("{t}: "))
                    .unwrap_or_default();
                self.line(&format!("{level}: {place}{title}{}", a.message));
            }
        }
    }

    /// An `::error` without a location.
    pub fn error(&self, title: &str, message: &str) {
        self.annotation(&Annotation::general(Level::Failure, title, message));
    }

    /// A `::warning` without a location.
    pub fn warning(&self, title: &str, message: &str) {
        self.annotation(&Annotation::general(Level::Warning, title, message));
    }

    /// A `::notice` without a location.
    pub fn notice(&self, title: &str, message: &str) {
        self.annotation(&Annotation::general(Level::Notice, title, message));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_actions_core() {
        assert_eq!(escape_data("100% done\r\nnext"), "100%25 done%0D%0Anext");
        assert_eq!(escape_data("a:b,c"), "a:b,c", "messages keep : and ,");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
    }

    #[test]
    fn annotation_line_matches_actions_core_order() {
        let a = Annotation {
            path: Some("src/a,b.rs".into()),
            start_line: Some(3),
            end_line: Some(5),
            level: Level::Warning,
            title: Some("Uncovered: lines".into()),
            message: "lines 3-5 are not covered\nby tests".into(),
            priority: 0,
        };
        assert_eq!(
            format_annotation(&a),
            "::warning title=Uncovered%3A lines,file=src/a%2Cb.rs,line=3,endLine=5::lines 3-5 are not covered%0Aby tests"
        );
        let single = Annotation {
            end_line: Some(3),
            level: Level::Failure,
            title: None,
            ..a
        };
        assert_eq!(
            format_annotation(&single),
            "::error file=src/a%2Cb.rs,line=3::lines 3-5 are not covered%0Aby tests"
        );
        assert_eq!(
            format_command("add-mask", &[], "s%cr\net"),
            "::add-mask::s%25cr%0Aet"
        );
    }

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn human_style_has_no_workflow_syntax() {
        let buf = Buf::default();
        let c = Commands::new(Box::new(buf.clone()), Style::Human);
        c.add_mask("secret");
        c.group("coverage");
        c.annotation(&Annotation {
            path: Some("a.rs".into()),
            start_line: Some(1),
            end_line: Some(2),
            level: Level::Warning,
            title: None,
            message: "m".into(),
            priority: 0,
        });
        c.endgroup();
        let out = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert_eq!(out, "── coverage\nwarning: a.rs:1-2: m\n");
    }

    #[test]
    fn streams_stop_commands_and_pause_for_ours() {
        let buf = Buf::default();
        let c = Commands::new(Box::new(buf.clone()), Style::Actions);
        {
            let s = c.stream();
            s.write("step 1\r::add-mask::x\n##[group]y");
            c.add_mask("s3cret");
            s.write("echo s3cret\n::error::z\n");
        }
        c.group("after");
        let out = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        let token = |l: &str| l.strip_prefix("::stop-commands::").unwrap().to_owned();
        let (t1, t2) = (token(lines[0]), token(lines[6]));
        assert_ne!(t1, t2, "a fresh token after each pause");
        assert_eq!(
            lines,
            [
                format!("::stop-commands::{t1}").as_str(),
                "step 1",
                "::add-mask::x",
                "##[group]y",
                &format!("::{t1}::"),
                "::add-mask::s3cret",
                &format!("::stop-commands::{t2}"),
                "echo ***",
                "::error::z",
                &format!("::{t2}::"),
                "::group::after",
            ]
        );
    }

    #[test]
    fn log_events_are_one_inert_line_with_masks_applied() {
        let masks = Masks::default();
        masks.add("tok");
        let out = log_event(&masks, b"INFO found x\n::add-mask::tok\r##[set-output]y\n");
        assert_eq!(out, "INFO found x\\n::add-mask::***\\r#\\#[set-output]y\n");
    }

    #[test]
    fn masks_cover_the_forms_a_secret_takes() {
        let m = Masks::default();
        m.add("p@ss\"word/1%");
        m.add("line-one-secret\n{\n  second-line-secret\n}");
        let text = concat!(
            "raw p@ss\"word/1% json p@ss\\\"word/1% pct p%40ss%22word%2F1%25 ",
            "cmd p@ss\"word/1%25 lines line-one-secret / second-line-secret { }"
        );
        assert_eq!(
            m.redact(text),
            "raw *** json *** pct *** cmd *** lines *** / *** { }"
        );
    }

    #[test]
    fn annotation_titles_and_groups_are_scrubbed_before_escaping() {
        let buf = Buf::default();
        let c = Commands::new(Box::new(buf.clone()), Style::Actions);
        c.add_mask("a,b:c");
        c.group("deploying a,b:c");
        c.annotation(&Annotation::general(
            Level::Failure,
            "title a,b:c",
            "msg a,b:c",
        ));
        let out = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let out = out.split_once('\n').unwrap().1;
        assert!(!out.contains("a%2Cb") && !out.contains("a,b:c"), "{out}");
        assert!(out.contains("::error title=title ***::msg ***"), "{out}");
    }
}
