//! Cross-report merging: every parsed report's files under their repository paths, one
//! entry per path, in time linear in the records (many report paths can map to one
//! repository file: `./a.py`, `x/../a.py`, or any path whose suffix names it). Pure: no
//! I/O, no path mapping (the gate maps, then adds here), no policy.

use std::collections::{BTreeMap, BTreeSet};

use crate::FastMap as HashMap;

use super::extras::FileExtras;
use super::model::{FileReport, LinesByFile};

/// Coverage of every file, keyed by repository path (or normalised report path when it
/// could not be mapped).
#[derive(Debug, Default, Clone)]
pub(crate) struct Merged {
    /// Files.
    pub files: BTreeMap<String, FileReport>,
    /// Paths that did not map to a tracked file.
    pub unmapped: BTreeSet<String>,
    /// Any report carried branch data.
    pub has_branch_data: bool,
    /// Reports read, with their formats, for the summary.
    pub reports: Vec<(String, String)>,
    /// Data beyond the line records, by repository path (see [`super::extras`]).
    pub extras: BTreeMap<String, FileExtras>,
}

/// Builds a [`Merged`]: same (file, line) from several records is one line, covered if
/// any record hits it ([`LinesByFile`] batches the merges).
#[derive(Debug, Default)]
pub(crate) struct Merger {
    /// Index of each path in `lines`.
    index: HashMap<String, usize>,
    lines: LinesByFile,
    /// Extras by index; normalized once, in [`Merger::finish`].
    extras: HashMap<usize, FileExtras>,
    unmapped: BTreeSet<String>,
    has_branch_data: bool,
    reports: Vec<(String, String)>,
}

impl Merger {
    /// Record a report read (its path as shown and its format's name).
    pub(crate) fn report(&mut self, shown: String, format: String, has_branch_data: bool) {
        self.has_branch_data |= has_branch_data;
        self.reports.push((shown, format));
    }

    #[cfg(test)]
    /// Add one file's records under `path`.
    pub(crate) fn add(&mut self, path: String, file: FileReport, mapped: bool) {
        self.add_with(path, file, FileExtras::default(), mapped);
    }

    /// [`Merger::add`] with the file's extras from its report.
    pub(crate) fn add_with(
        &mut self,
        path: String,
        file: FileReport,
        extras: FileExtras,
        mapped: bool,
    ) {
        if !mapped {
            self.unmapped.insert(path.clone());
        }
        match self.index.get(&path) {
            Some(&i) => {
                // A second section: stated totals of the first no longer hold alone.
                self.extras.entry(i).or_default().absorb(extras);
                self.lines.add_lines(i, &file.lines);
            }
            None => {
                let i = self.lines.push_file_with(file.lines);
                if !extras.is_empty() {
                    self.extras.insert(i, extras);
                }
                self.index.insert(path, i);
            }
        }
    }

    /// The merged coverage.
    pub(crate) fn finish(self) -> Merged {
        let mut by_index: Vec<Option<String>> = vec![None; self.index.len()];
        for (path, i) in self.index {
            if let Some(slot) = by_index.get_mut(i) {
                *slot = Some(path);
            }
        }
        let mut extras_by_index = self.extras;
        let mut files = BTreeMap::new();
        let mut extras = BTreeMap::new();
        for (i, (path, lines)) in by_index.into_iter().zip(self.lines.finish()).enumerate() {
            let Some(path) = path else { continue };
            if let Some(mut x) = extras_by_index.remove(&i) {
                x.normalize();
                if !x.is_empty() {
                    extras.insert(path.clone(), x);
                }
            }
            files.insert(
                path.clone(),
                FileReport {
                    path: path.clone(),
                    lines,
                },
            );
        }
        Merged {
            files,
            unmapped: self.unmapped,
            has_branch_data: self.has_branch_data,
            reports: self.reports,
            extras,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gates::coverage::extras::StatedLines;
    use crate::gates::coverage::model::{LineRecord, Lines};

    fn file(recs: &[(u32, u32)]) -> FileReport {
        FileReport {
            path: "as in the report".into(),
            lines: recs
                .iter()
                .map(|&(l, h)| LineRecord::new(l, h))
                .collect::<Lines>(),
        }
    }

    fn stated(covered: u64, total: u64) -> FileExtras {
        FileExtras {
            stated: Some(StatedLines {
                covered,
                total,
                per_line_hits: true,
            }),
            ..FileExtras::default()
        }
    }

    #[test]
    fn one_entry_per_path_covered_if_any_record_hits() {
        let mut m = Merger::default();
        m.report("a.xml".into(), "cobertura".into(), false);
        m.add("b.py".into(), file(&[(1, 1), (2, 1)]), true);
        m.add_with("a.py".into(), file(&[(3, 0)]), stated(0, 1), false);
        m.add("b.py".into(), file(&[(2, 0), (3, 0)]), true);
        let m = m.finish();
        assert_eq!(m.files.keys().collect::<Vec<_>>(), ["a.py", "b.py"]);
        assert_eq!(
            m.files["b.py"].path, "b.py",
            "keyed and named by the mapped path"
        );
        let t = m.files["b.py"].totals();
        assert_eq!((t.lines_covered, t.lines_total), (2, 3));
        assert_eq!(m.unmapped, BTreeSet::from(["a.py".to_owned()]));
        assert_eq!(
            m.extras.keys().collect::<Vec<_>>(),
            ["a.py"],
            "a lone section keeps its stated totals"
        );
        assert_eq!(m.reports, [("a.xml".to_owned(), "cobertura".to_owned())]);
    }

    #[test]
    fn a_second_section_drops_stated_totals() {
        let mut m = Merger::default();
        m.add_with("a.py".into(), file(&[(1, 1)]), stated(1, 1), true);
        m.add("a.py".into(), file(&[(2, 0)]), true);
        assert!(m.finish().extras.is_empty());
    }

    /// Thousands of report paths mapped onto one repository file, each adding a line
    /// before the last (merged in batches, see `LinesByFile`).
    #[test]
    fn thousands_of_report_paths_onto_one_file() {
        let mut m = Merger::default();
        for l in (1..=20_000u32).rev() {
            m.add("a.py".into(), file(&[(l, l % 2)]), true);
        }
        let m = m.finish();
        let t = m.files["a.py"].totals();
        assert_eq!((t.lines_covered, t.lines_total), (10_000, 20_000));
    }
}
