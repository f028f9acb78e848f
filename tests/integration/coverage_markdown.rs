//! The job summary of a report whose file names are hostile, rendered by a CommonMark +
//! GFM-tables parser (pulldown-cmark) and judged by its structure: the headings we
//! write and no others, one table row per file, no HTML, no links or images, and every
//! name shown whole as text.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use rust_ci_action::paths::normalize;

use crate::common::Harness;

/// File names as the pull request writes them into the Cobertura report (XML-escaped
/// there): each tries to leave its code span or its table cell.
const HOSTILE: &[&str] = &[
    "src/`tick`.py",
    "src/``double`` `.py",
    "src/<img src=x onerror=alert(1)>.py",
    "src/@octocat.py",
    "src/#1.py",
    "src/[x](https://e.example).py",
    "src/a|b|c.py",
    "src/x\n## heading\n| a | b |.py",
    "src/y\r| forged | row |\r.py",
    "src/<details><summary>open</summary>.py",
];

fn xml_attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\n', "&#10;")
        .replace('\r', "&#13;")
}

fn report() -> String {
    let mut x = String::from(
        "<?xml version=\"1.0\" ?>\n<coverage version=\"7.6\" line-rate=\"0.5\">\n<sources><source>.</source></sources>\n<packages><package name=\"src\"><classes>\n",
    );
    for (i, name) in HOSTILE.iter().enumerate() {
        x.push_str(&format!(
            "<class name=\"c{i}\" filename=\"{}\"><lines><line number=\"1\" hits=\"1\"/><line number=\"2\" hits=\"{}\"/></lines></class>\n",
            xml_attr(name),
            i % 2
        ));
    }
    x.push_str("</classes></package></packages></coverage>\n");
    x
}

/// What a reader sees of rendered markdown.
#[derive(Debug, Default)]
struct Shape {
    /// (level, text) of every heading.
    headings: Vec<(HeadingLevel, String)>,
    /// Rows (the header row included) of each table.
    tables: Vec<usize>,
    /// Raw HTML, block or inline.
    html: Vec<String>,
    /// Links and images.
    links: Vec<String>,
    /// Code spans inside table cells (with the table's index), and outside.
    cell_code: Vec<(usize, String)>,
    prose_code: Vec<String>,
}

fn shape(md: &str) -> Shape {
    let mut s = Shape::default();
    let mut heading: Option<(HeadingLevel, String)> = None;
    let mut in_cell = false;
    for ev in Parser::new_ext(md, Options::ENABLE_TABLES) {
        match ev {
            Event::Start(Tag::Heading { level, .. }) => heading = Some((level, String::new())),
            Event::End(TagEnd::Heading(_)) => s.headings.extend(heading.take()),
            Event::Start(Tag::Table(_)) => s.tables.push(0),
            Event::End(TagEnd::TableHead | TagEnd::TableRow) => {
                if let Some(rows) = s.tables.last_mut() {
                    *rows += 1;
                }
            }
            Event::Start(Tag::TableCell) => in_cell = true,
            Event::End(TagEnd::TableCell) => in_cell = false,
            Event::Html(h) | Event::InlineHtml(h) => s.html.push(h.to_string()),
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                s.links.push(dest_url.to_string());
            }
            Event::Code(c) if in_cell => s.cell_code.push((s.tables.len() - 1, c.to_string())),
            Event::Code(c) => s.prose_code.push(c.to_string()),
            Event::Text(t) => {
                if let Some((_, h)) = &mut heading {
                    h.push_str(&t);
                }
            }
            _ => {}
        }
    }
    s
}

#[test]
fn hostile_file_names_change_nothing_but_their_own_cells() {
    let h = Harness::new()
        .input("gate", "coverage")
        .input("files", "coverage.xml");
    std::fs::write(h.path("coverage.xml"), report()).unwrap();
    let run = h.run();
    run.assert_code(0);
    let s = shape(&run.summary);

    assert_eq!(
        s.headings,
        [(
            HeadingLevel::H2,
            "✅ rust-ci-action / coverage: pass".to_owned()
        )],
        "only the heading the gate writes\n{}",
        run.summary
    );
    assert_eq!(
        s.tables,
        [1 + 3, 1 + HOSTILE.len()],
        "the checks table, then one row per file\n{}",
        run.summary
    );
    assert_eq!(s.html, Vec::<String>::new(), "{}", run.summary);
    assert_eq!(s.links, Vec::<String>::new(), "{}", run.summary);

    // What a reader sees of each name: the path as mapping normalised it, line breaks
    // shown as escapes; whole, once per table row and once in the unmapped list.
    let mut want: Vec<String> = HOSTILE
        .iter()
        .map(|n| normalize(n).replace('\n', "\\n").replace('\r', "\\r"))
        .collect();
    want.sort();
    let mut cells: Vec<String> = s
        .cell_code
        .iter()
        .filter(|(table, _)| *table == 1)
        .map(|(_, c)| c.clone())
        .collect();
    cells.sort();
    assert_eq!(cells, want, "{}", run.summary);
    let mut prose = s.prose_code.clone();
    prose.retain(|c| !["coverage.xml", "path-prefix", "source-root"].contains(&c.as_str()));
    prose.sort();
    assert_eq!(prose, want, "{}", run.summary);
}
