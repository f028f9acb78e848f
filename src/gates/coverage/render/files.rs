//! The one budgeted renderer of per-file tables, for the three places people read them:
//! the job summary (1 MiB), the check run's text (65,535 characters) and the pull-request
//! comment (65,536). Failing and changed files first, then the lowest coverage; names in
//! natural order (`m2` before `m10`); past [`ROLLUP_AT`] files, a table per directory in
//! `<details>`; every table capped, with a count of what was left out. Nothing is dropped
//! silently: what does not fit is counted in the closing note. Pure.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use super::super::config::{show_delta, show_percent};
use super::super::delta::{Deltas, FileDelta};
use super::super::evaluate::{Evaluation, FileRow};
use crate::untrusted::{Md, html_text, md_code};

/// More files than this are rolled up by directory.
pub(crate) const ROLLUP_AT: usize = 100;
/// Most rows of the "failing and changed" and "changed" tables.
const FIRST_CAP: usize = 200;
/// Most rows of the indirect-changes table.
const INDIRECT_CAP: usize = 100;
/// Room kept for the closing note.
const NOTE_ROOM: usize = 400;

/// Compare names as people do: digit runs by value (`m2` < `m10`), the rest bytewise.
pub(crate) fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    // Equal bytes compare equal either way, so the walk starts where the two differ, or
    // at the start of the digit run that position is in (paths in a sort share long
    // prefixes: this is most of the work saved).
    let mut same = common_prefix(a, b);
    while same > 0 && a[same - 1].is_ascii_digit() {
        same -= 1;
    }
    walk(a, b, same)
}

/// The natural comparison walked from byte `from` of both (the bytes before it are
/// equal, and `from` does not fall inside a digit run).
fn walk(a: &[u8], b: &[u8], from: usize) -> Ordering {
    let (mut i, mut j) = (from, from);
    while i < a.len() && j < b.len() {
        if a[i].is_ascii_digit() && b[j].is_ascii_digit() {
            let (si, sj) = (i, j);
            while i < a.len() && a[i].is_ascii_digit() {
                i += 1;
            }
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            let (x, y) = (trim_zeros(&a[si..i]), trim_zeros(&b[sj..j]));
            let ord = x.len().cmp(&y.len()).then_with(|| x.cmp(y));
            if ord != Ordering::Equal {
                return ord;
            }
        } else {
            if a[i] != b[j] {
                return a[i].cmp(&b[j]);
            }
            i += 1;
            j += 1;
        }
    }
    (a.len() - i).cmp(&(b.len() - j)).then_with(|| a.cmp(b))
}

/// How many bytes `a` and `b` share at the start, eight at a time.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + 8 <= n {
        let x = u64::from_ne_bytes(a[i..i + 8].try_into().unwrap_or_default());
        let y = u64::from_ne_bytes(b[i..i + 8].try_into().unwrap_or_default());
        if x != y {
            break;
        }
        i += 8;
    }
    while i < n && a[i] == b[i] {
        i += 1;
    }
    i
}

fn trim_zeros(d: &[u8]) -> &[u8] {
    let n = d.iter().take_while(|&&c| c == b'0').count();
    &d[n.min(d.len().saturating_sub(1))..]
}

/// `a/b < c/d` in exact arithmetic; nothing measured sorts last.
fn by_ratio(a: (u64, u64), b: (u64, u64)) -> Ordering {
    match (a.1, b.1) {
        (0, 0) => Ordering::Equal,
        (0, _) => Ordering::Greater,
        (_, 0) => Ordering::Less,
        _ => (u128::from(a.0) * u128::from(b.1)).cmp(&(u128::from(b.0) * u128::from(a.1))),
    }
}

/// Failing or changed first, then the lowest coverage, then the name.
pub(crate) fn order(rows: &mut [&FileRow], changed: &BTreeSet<String>) {
    // Whether a row comes first, asked once per row, not twice per comparison (a
    // lookup in `changed` is a dozen path comparisons).
    let mut keyed: Vec<(bool, &FileRow)> = rows
        .iter()
        .map(|r| (r.below || r.diff.is_some() || changed.contains(&r.path), *r))
        .collect();
    keyed.sort_by(|(first_a, a), (first_b, b)| {
        first_b
            .cmp(first_a)
            .then_with(|| by_ratio((a.covered, a.total), (b.covered, b.total)))
            .then_with(|| natural_cmp(&a.path, &b.path))
    });
    for (slot, (_, r)) in rows.iter_mut().zip(keyed) {
        *slot = r;
    }
}

fn pct_or_dash(v: (u64, u64)) -> String {
    if v.1 == 0 {
        "—".into()
    } else {
        format!("{}%", show_percent(v.0, v.1))
    }
}

/// Which columns the file tables have.
#[derive(Debug, Clone, Copy)]
struct Columns {
    statements: bool,
    branches: bool,
    diff: bool,
    delta: bool,
}

impl Columns {
    fn header(self) -> String {
        let col = |on: bool, head: &'static str| if on { head } else { "" };
        let n = 3 + [self.statements, self.branches, self.diff, self.delta]
            .iter()
            .filter(|b| **b)
            .count();
        format!(
            "| File | Lines | Line % |{}{}{}{}\n|{}\n",
            col(self.delta, " Δ vs base |"),
            col(self.statements, " Statement % |"),
            col(self.branches, " Branch % |"),
            col(self.diff, " Changed lines covered |"),
            "---|".repeat(n),
        )
    }

    fn row(self, r: &FileRow, base: Option<&(u64, u64)>) -> String {
        let mut row = format!(
            "| {}{} | {}/{} | {} |",
            md_code(&r.path, Md::Cell),
            if r.below { " ⚠️" } else { "" },
            r.covered,
            r.total,
            pct_or_dash((r.covered, r.total)),
        );
        if self.delta {
            let now = (r.covered, r.total);
            let d = match base {
                None => "new".into(),
                Some(b) if *b == now => "=".into(),
                Some(b) => show_delta(*b, now),
            };
            let _ = write!(row, " {} |", if d.is_empty() { "—" } else { &d });
        }
        if self.statements {
            let _ = write!(row, " {} |", pct_or_dash(r.statements));
        }
        if self.branches {
            let _ = write!(row, " {} |", pct_or_dash(r.branches));
        }
        if self.diff {
            let d = r.diff.map_or_else(
                || "—".into(),
                |d| format!("{}/{} ({}%)", d.0, d.1, show_percent(d.0, d.1)),
            );
            let _ = write!(row, " {d} |");
        }
        row.push('\n');
        row
    }
}

/// Text with a hard budget: a piece is added whole or not at all.
struct Budgeted {
    out: String,
    budget: usize,
    /// A piece was left out for the budget.
    refused: bool,
}

impl Budgeted {
    fn fits(&mut self, extra: usize) -> bool {
        let fits = self.out.len() + extra + NOTE_ROOM <= self.budget;
        self.refused |= !fits;
        fits
    }
    fn push(&mut self, piece: &str) -> bool {
        let ok = self.fits(piece.len());
        if ok {
            self.out.push_str(piece);
        }
        ok
    }
    /// A table: the header and as many rows as fit (at most `cap`); returns rows shown.
    fn table(&mut self, header: &str, rows: impl Iterator<Item = String>, cap: usize) -> usize {
        let mut shown = 0;
        for row in rows.take(cap) {
            if shown == 0 && !self.fits(header.len() + row.len()) {
                break;
            }
            if shown == 0 {
                self.out.push_str(header);
            }
            if !self.push(&row) {
                break;
            }
            shown += 1;
        }
        shown
    }
}

/// What the per-file tables are made of.
pub(crate) struct Input<'a> {
    /// The evaluation.
    pub ev: &'a Evaluation,
    /// The comparison with the base.
    pub deltas: Option<&'a Deltas>,
    /// Paths the change touched.
    pub changed: &'a BTreeSet<String>,
}

/// Changed files against the base: one table, capped.
fn changed_section(b: &mut Budgeted, d: &Deltas, rows: &HashMap<&str, &FileRow>) -> usize {
    let mut list: Vec<&FileDelta> = d.changed.iter().collect();
    list.sort_by(|x, y| natural_cmp(&x.path, &y.path));
    let header = "| File | Base | Now | Δ | Changed lines covered |\n|---|---|---|---|---|\n";
    let line = |f: &FileDelta| {
        let diff = rows.get(f.path.as_str()).and_then(|r| r.diff);
        format!(
            "| {} | {} |\n",
            delta_cells(f),
            diff.map_or_else(|| "—".into(), |d| format!("{}/{}", d.0, d.1)),
        )
    };
    let _ = b.push(&format!("\n#### Changed files ({})\n\n", list.len()));
    b.table(header, list.iter().map(|f| line(f)), FIRST_CAP)
}

/// A file's name, base, now and delta cells (`new` and `gone` for a file on one side only).
fn delta_cells(f: &FileDelta) -> String {
    format!(
        "{} | {} | {} | {}",
        md_code(&f.path, Md::Cell),
        f.base.map_or_else(|| "new".into(), pct_or_dash),
        f.now.map_or_else(|| "gone".into(), pct_or_dash),
        match (f.base, f.now) {
            (Some(b), Some(n)) if b.1 > 0 && n.1 > 0 => show_delta(b, n),
            _ => "—".into(),
        },
    )
}

fn indirect_section(b: &mut Budgeted, d: &Deltas) -> usize {
    let header = "| File | Base | Now | Δ |\n|---|---|---|---|\n";
    let _ = b.push(&format!(
        "\n#### Indirect changes ({}): files outside the diff whose coverage moved\n\n",
        d.indirect.len()
    ));
    if d.indirect.is_empty() {
        let _ = b.push("None.\n");
        return 0;
    }
    b.table(
        header,
        d.indirect
            .iter()
            .map(|f| format!("| {} |\n", delta_cells(f))),
        INDIRECT_CAP,
    )
}

/// A directory's files, lines covered and lines.
type Dir<'a> = (Vec<&'a FileRow>, u64, u64);

/// The directory of a path (`.` for the root).
fn dir_of(path: &str) -> &str {
    path.rsplit_once('/').map_or(".", |(d, _)| d)
}

/// Render the tables within `budget` bytes. `collapse_all` puts the full table in one
/// `<details>` (the comment, where changed files lead).
pub(crate) fn render(input: &Input<'_>, budget: usize, collapse_all: bool) -> String {
    render_whole(input, budget, collapse_all).0
}

/// [`render`], and whether nothing was left out for the budget: then any larger budget
/// renders the same text (the budget is only ever asked whether a piece fits after the
/// text so far; where the smaller one said yes each time, a larger one says yes to the
/// same questions, in the same order).
pub(crate) fn render_whole(input: &Input<'_>, budget: usize, collapse_all: bool) -> (String, bool) {
    let ev = input.ev;
    let cols = Columns {
        statements: ev.statements.is_some(),
        branches: ev.branches.is_some(),
        diff: ev.rows.iter().any(|r| r.diff.is_some()),
        delta: input.deltas.is_some(),
    };
    let base: HashMap<&str, (u64, u64)> = input
        .deltas
        .map(|d| {
            d.changed
                .iter()
                .chain(&d.indirect)
                .filter_map(|f| Some((f.path.as_str(), f.base?)))
                .collect()
        })
        .unwrap_or_default();
    // Files outside both lists did not move: their base is their current count.
    let base_of = |r: &FileRow| match input.deltas {
        Some(d)
            if d.changed
                .iter()
                .chain(&d.indirect)
                .all(|f| f.path != r.path) =>
        {
            Some((r.covered, r.total))
        }
        _ => base.get(r.path.as_str()).copied(),
    };
    let by_path: HashMap<&str, &FileRow> = ev.rows.iter().map(|r| (r.path.as_str(), r)).collect();
    let mut rows: Vec<&FileRow> = ev.rows.iter().collect();
    order(&mut rows, input.changed);
    let mut b = Budgeted {
        out: String::new(),
        budget,
        refused: false,
    };
    let mut left: Vec<String> = Vec::new();
    if let Some(d) = input.deltas {
        let shown = changed_section(&mut b, d, &by_path);
        if shown < d.changed.len() {
            left.push(format!("{} changed files", d.changed.len() - shown));
        }
        let shown = indirect_section(&mut b, d);
        if shown < d.indirect.len() {
            left.push(format!("{} indirect changes", d.indirect.len() - shown));
        }
        let _ = b.push("\n");
    }
    if collapse_all {
        let _ = b.push(&format!(
            "<details><summary>All {} files</summary>\n\n",
            rows.len()
        ));
    }
    let mut files_left = 0usize;
    if rows.len() <= ROLLUP_AT {
        let shown = b.table(
            &cols.header(),
            rows.iter().map(|r| cols.row(r, base_of(r).as_ref())),
            usize::MAX,
        );
        files_left += rows.len() - shown;
    } else {
        files_left += rolled_up(&mut b, &rows, cols, &base_of, input.changed);
    }
    if files_left > 0 {
        left.push(format!("{files_left} files"));
    }
    if collapse_all {
        b.out.push_str("\n</details>\n");
    }
    if !left.is_empty() {
        let _ = write!(
            b.out,
            "\n_Not listed, to stay within this page's limit: {} (failing, changed and lowest-covered files come first)._\n",
            left.join(", ")
        );
    }
    (b.out, !b.refused)
}

/// The failing-and-changed table, then a table of directories, then each directory's
/// files in `<details>`, lowest coverage first; returns how many files were left out.
fn rolled_up(
    b: &mut Budgeted,
    rows: &[&FileRow],
    cols: Columns,
    base_of: &dyn Fn(&FileRow) -> Option<(u64, u64)>,
    changed: &BTreeSet<String>,
) -> usize {
    let first: Vec<&&FileRow> = rows
        .iter()
        .filter(|r| r.below || r.diff.is_some() || changed.contains(&r.path))
        .collect();
    let mut listed: BTreeSet<&str> = BTreeSet::new();
    if !first.is_empty() {
        let _ = b.push(&format!(
            "**Failing and changed files ({})**\n\n",
            first.len()
        ));
        let shown = b.table(
            &cols.header(),
            first.iter().map(|r| cols.row(r, base_of(r).as_ref())),
            FIRST_CAP,
        );
        listed.extend(first[..shown].iter().map(|r| r.path.as_str()));
        let _ = b.push("\n");
    }
    let mut dirs: BTreeMap<&str, Dir<'_>> = BTreeMap::new();
    for r in rows {
        let e = dirs.entry(dir_of(&r.path)).or_default();
        e.0.push(r);
        e.1 += r.covered;
        e.2 += r.total;
    }
    let mut order: Vec<(&str, Dir<'_>)> = dirs.into_iter().collect();
    order.sort_by(|x, y| {
        by_ratio((x.1.1, x.1.2), (y.1.1, y.1.2)).then_with(|| natural_cmp(x.0, y.0))
    });
    let _ = b.push(&format!(
        "**{} files in {} directories**\n\n",
        rows.len(),
        order.len()
    ));
    b.table(
        "| Directory | Files | Lines | Line % |\n|---|---|---|---|\n",
        order.iter().map(|(d, (fs, c, t))| {
            format!(
                "| {} | {} | {c}/{t} | {} |\n",
                md_code(d, Md::Cell),
                fs.len(),
                pct_or_dash((*c, *t))
            )
        }),
        usize::MAX,
    );
    let mut left = 0;
    for (d, (fs, c, t)) in &order {
        let open = format!(
            "\n<details><summary><code>{}</code> ({} files, {})</summary>\n\n",
            html_text(d),
            fs.len(),
            pct_or_dash((*c, *t))
        );
        let before = b.out.len();
        if !b.push(&open) {
            left += fs
                .iter()
                .filter(|r| !listed.contains(r.path.as_str()))
                .count();
            continue;
        }
        let shown = b.table(
            &cols.header(),
            fs.iter().map(|r| cols.row(r, base_of(r).as_ref())),
            usize::MAX,
        );
        if shown == 0 {
            b.out.truncate(before);
            left += fs
                .iter()
                .filter(|r| !listed.contains(r.path.as_str()))
                .count();
            continue;
        }
        left += fs[shown..]
            .iter()
            .filter(|r| !listed.contains(r.path.as_str()))
            .count();
        if shown < fs.len() {
            let _ = write!(
                b.out,
                "\n_… and {} more in this directory._\n",
                fs.len() - shown
            );
        }
        b.out.push_str("\n</details>\n");
    }
    left
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The walk from the first byte: what [`natural_cmp`] must equal.
    fn walk_from_start(a: &str, b: &str) -> Ordering {
        walk(a.as_bytes(), b.as_bytes(), 0)
    }

    #[test]
    fn starting_at_the_first_difference_changes_no_order() {
        // Every string of up to 4 of these characters, against every other; and long
        // shared prefixes (the eight-byte steps) before each pair.
        let alphabet = ['a', '0', '1', '9', '/'];
        let mut all = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..4 {
            last = last
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            all.extend(last.iter().cloned());
        }
        for prefix in ["", "src/pkg12/mod", "src/pkg12/mod_0000000000000000"] {
            for a in &all {
                for b in &all {
                    let (a, b) = (format!("{prefix}{a}"), format!("{prefix}{b}"));
                    assert_eq!(
                        natural_cmp(&a, &b),
                        walk_from_start(&a, &b),
                        "{a:?} vs {b:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn natural_order() {
        let mut v = vec![
            "m10", "m2", "m1", "a", "m02x", "m2a", "b10c2", "b10c10", "b9",
        ];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            v,
            [
                "a", "b9", "b10c2", "b10c10", "m1", "m2", "m2a", "m02x", "m10"
            ]
        );
    }
}
