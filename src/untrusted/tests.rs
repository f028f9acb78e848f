//! Tests for the untrusted-text rules: logs read the way the runner reads them, markdown
//! rendered by a CommonMark + GFM parser and judged by its structure.

use super::*;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// Hostile strings every sink must survive.
const HOSTILE: &[&str] = &[
    "x\n::add-mask::coverage\n::stop-commands::tok\n",
    "x\r::error::forged",
    "x\r\n::warning::forged",
    "  ::notice::leading spaces",
    "\u{2028}::error::line separator",
    "a ##[set-output name=result;]pass",
    "a #[##[group]b",
    "`code` <img src=x onerror=alert(1)> @octocat #123",
    "```` fence ```` ` |a|b| \\| \\\\| c",
    "a&#10;# heading&#13;| forged | row |",
    "[link](https://evil.example) ![img](https://evil.example/x.png)",
    "<details><summary>x</summary>",
    "**bold** _em_ ~~strike~~ $math$ <!-- c -->",
    "\u{1b}[31mred\u{7}\u{0}nul\u{85}nel",
    "trailing backslash \\",
    "",
    " ",
    "`",
];

#[test]
fn log_lines_never_carry_a_command() {
    for h in HOSTILE {
        let line = format!("{}\n", log_line(h));
        assert_eq!(
            commands_the_runner_sees(&line),
            Vec::<String>::new(),
            "{h:?} -> {line:?}"
        );
        assert_eq!(runner_lines(&line).len(), 1, "{h:?} -> {line:?}");
        // The same text after a prefix of ours.
        let line = format!("found report {}\n", log_line(h));
        assert_eq!(
            commands_the_runner_sees(&line),
            Vec::<String>::new(),
            "{h:?}"
        );
    }
    assert_eq!(log_line("a\nb\rc\u{1b}"), "a\\nb\\rc\\u{1b}");
    assert_eq!(log_line("x ##[cmd]"), "x #\\#[cmd]");
    assert_eq!(log_line("###[x"), "##\\#[x");
    assert_eq!(log_line(" ::x::y"), "\\ ::x::y");
    assert_eq!(log_line("tab\tkept"), "tab\tkept");
}

#[test]
fn the_reader_sees_what_the_runner_sees() {
    // The test's reader must itself be able to fail.
    assert_eq!(commands_the_runner_sees("a\r::error::x\n"), ["error"]);
    assert_eq!(commands_the_runner_sees("a ##[group]x\n"), ["legacy"]);
    assert_eq!(runner_lines("a\r\nb\rc\nd"), ["a", "b", "c", "d"]);
    assert_eq!(runner_lines("a\n\n"), ["a", ""]);
}

#[test]
fn streamed_blocks_stop_commands() {
    for h in HOSTILE {
        let token = stop_token();
        let mut out = format!("::stop-commands::{token}\n");
        for l in runner_lines(h) {
            out.push_str(&stream_line(l));
            out.push('\n');
        }
        out.push_str(&format!("::{token}::\n"));
        assert_eq!(commands_the_runner_sees(&out), ["stop-commands"], "{h:?}");
    }
    let a = stop_token();
    assert_eq!(a.len(), 32);
    assert_ne!(a, stop_token());
}

/// Structure of rendered markdown: (tag name, count) of every block or inline element.
fn structure(md: &str) -> Vec<String> {
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    opts.insert(Options::ENABLE_MATH);
    let mut out = Vec::new();
    for ev in Parser::new_ext(md, opts) {
        match ev {
            Event::Start(tag) => out.push(match tag {
                Tag::Paragraph => "p".to_owned(),
                Tag::Heading { .. } => "h".to_owned(),
                Tag::Table(_) => "table".into(),
                Tag::TableHead => "thead".into(),
                Tag::TableRow => "tr".into(),
                Tag::TableCell => "td".into(),
                Tag::Emphasis => "em".into(),
                Tag::Strong => "strong".into(),
                Tag::Strikethrough => "del".into(),
                Tag::Link { .. } => "a".into(),
                Tag::Image { .. } => "img".into(),
                Tag::HtmlBlock => "html".into(),
                Tag::List(_) => "list".into(),
                Tag::Item => "li".into(),
                Tag::BlockQuote(_) => "quote".into(),
                Tag::CodeBlock(_) => "pre".into(),
                other => format!("{other:?}"),
            }),
            Event::Code(_) => out.push("code".into()),
            Event::Html(_) | Event::InlineHtml(_) => out.push("raw-html".into()),
            Event::InlineMath(_) | Event::DisplayMath(_) => out.push("math".into()),
            Event::SoftBreak | Event::HardBreak => out.push("br".into()),
            Event::End(TagEnd::Paragraph) | Event::End(_) | Event::Text(_) => {}
            _ => {}
        }
    }
    out
}

/// The plain text the reader sees, code spans included.
fn visible(md: &str) -> String {
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    let mut s = String::new();
    for ev in Parser::new_ext(md, opts) {
        match ev {
            Event::Text(t) | Event::Code(t) => s.push_str(&t),
            Event::End(TagEnd::TableCell) => s.push('|'),
            _ => {}
        }
    }
    s
}

#[test]
fn code_spans_hold_anything_as_one_span() {
    for h in HOSTILE {
        let md = format!("Report {} found.", md_code(h, Md::Prose));
        assert_eq!(structure(&md), ["p", "code"], "{h:?} -> {md}");
    }
    // Round trip: what the reader sees is the name, with controls shown as escapes.
    for name in [
        "src/a b.rs",
        "a`b``c",
        "`lead",
        "trail`",
        " both ",
        "<img src=x>",
    ] {
        assert_eq!(visible(&md_code(name, Md::Prose)), name, "{name:?}");
    }
    assert_eq!(visible(&md_code("a\nb", Md::Prose)), "a\\nb");
}

#[test]
fn table_cells_keep_the_table_shape() {
    for h in HOSTILE {
        let md = format!(
            "| File | Lines |\n|---|---|\n| {} | {} |\n| ok | 1 |\n",
            md_code(h, Md::Cell),
            md_text(h)
        );
        assert_eq!(
            structure(&md),
            [
                "table", "thead", "td", "td", "tr", "td", "code", "td", "tr", "td", "td"
            ],
            "{h:?} -> {md}"
        );
    }
    let cell = |name: &str| visible(&format!("| h |\n|---|\n| {} |\n", md_code(name, Md::Cell)));
    assert_eq!(cell("a|b"), "h|a|b|");
    assert_eq!(
        cell("a\\|b"),
        "h|a\\\\|b|",
        "odd backslash run: one more shown, shape kept"
    );
}

#[test]
fn prose_is_literal_and_inert() {
    for h in HOSTILE {
        let md = format!("The gate could not run: {}\n", md_text(h));
        let s = structure(&md);
        assert!(s.iter().all(|t| t == "p"), "{h:?} -> {md} -> {s:?}");
    }
    let md = md_text("@octocat fixed #123 & more");
    assert!(!md.contains("@octocat") && !md.contains("#123"), "{md}");
    assert_eq!(
        visible(&md).replace('\u{2060}', ""),
        "@octocat fixed #123 & more"
    );
    assert_eq!(
        visible(&md_text("a&#10;b")).replace('\u{2060}', ""),
        "a&#10;b"
    );
    assert_eq!(visible(&md_text("1. item")), "1. item");
    // Alone on a line, a list marker must not start a list; a number that only looks like
    // one (`85.50%`, `1.x`) is left as it is.
    for t in [
        "1. item",
        "2) item",
        "3.",
        "12.\titem",
        "85.50% (171/200 lines)",
        "1.x",
        "- item",
        "-",
        "---",
        "- - -",
        "+ item",
        "===",
        "-7.28 points",
        "+1.50 points",
    ] {
        let md = format!("{}\n", md_text(t));
        assert_eq!(structure(&md), ["p"], "{t:?} -> {md}");
        assert_eq!(visible(&md), t, "{t:?} -> {md}");
    }
    assert_eq!(md_text("85.50% (171/200 lines)"), "85.50% (171/200 lines)");
    assert_eq!(md_text("-7.28 points"), "-7.28 points");
}

#[test]
fn list_items_stay_one_line_each() {
    assert_eq!(list_item("src/a b.rs"), "src/a b.rs");
    assert_eq!(list_item("x\n::add-mask::y"), "\"x\\n::add-mask::y\"");
    assert_eq!(list_item("a\rb\u{2028}"), "\"a\\rb\\u{2028}\"");
    assert_eq!(list_item("\"q\\"), "\"\\\"q\\\\\"");
    for h in HOSTILE {
        let item = list_item(h);
        assert!(runner_lines(&item).len() <= 1, "{h:?} -> {item:?}");
    }
}

#[test]
fn linear_in_the_input() {
    // A million backticks or pipes is handled in one pass (no quadratic rescans).
    let big = "`|\\".repeat(300_000);
    assert!(md_code(&big, Md::Cell).len() > big.len());
    assert!(md_text(&big).len() > big.len());
    assert!(log_line(&"##[".repeat(300_000)).len() > 900_000);
}

#[test]
fn code_blocks_hold_any_text_as_one_block() {
    for h in HOSTILE.iter().copied().chain([
        "```\n# heading\n```",
        "~~~~\n<img src=x>\n~~~~",
        "a\r```\rb",
        "    ````` five",
    ]) {
        let md = format!("Log:\n\n{}After.\n", md_block(h));
        assert_eq!(structure(&md), ["p", "pre", "p"], "{h:?} -> {md}");
    }
    assert_eq!(md_block("ok"), "```text\nok\n```\n\n");
}

#[test]
fn html_text_leaves_no_tag_entity_mention_or_line_break() {
    assert_eq!(
        html_text("a/<img src=x>@me #1 &amp;\n`b`.rs"),
        "a/&#60;img src&#61;x&#62;&#64;me &#35;1 &#38;amp&#59;\\n&#96;b&#96;.rs"
    );
    assert_eq!(html_text("pkg-1/mod_2.py"), "pkg-1/mod_2.py");
}
