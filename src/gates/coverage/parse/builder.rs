//! [`Builder`]: file sections collected into a [`Report`]'s unique files, in order of
//! first appearance, and the builders of consecutive chunks merged into one. Pure.

use std::collections::BTreeMap;

use crate::FastMap as HashMap;

use super::{Location, ParseError, ParseErrorKind, SameLine, fold_lines};
use crate::gates::coverage::extras::FileExtras;
use crate::gates::coverage::model::{FileReport, Format, LineRecord, LinesByFile, Report};

/// Collects file sections into unique [`FileReport`]s in order of first appearance.
/// Sections of one file may come in any order: [`LinesByFile`] merges them in linear
/// time.
#[derive(Debug, Default)]
pub(crate) struct Builder {
    /// Paths in order of first appearance; the index of each in `lines`.
    paths: Vec<String>,
    lines: LinesByFile,
    index: HashMap<String, usize>,
    has_branch_data: bool,
    /// Extras by index into `paths`.
    extras: HashMap<usize, FileExtras>,
    /// Block count of each file's extras after its last normalization: folding again
    /// once it doubles keeps duplicate blocks (`-coverpkg`) from piling up, in
    /// amortised linear time however the sections are ordered.
    blocks_folded: HashMap<usize, usize>,
}

impl Builder {
    /// Add one section of `path` (one `<class>`, one `SF` record, ...). `lines` is
    /// folded per `rule`, merged into the file and left empty for reuse.
    pub(crate) fn add(&mut self, path: &str, lines: &mut Vec<LineRecord>, rule: SameLine) {
        self.add_with(path, lines, rule, FileExtras::default());
    }

    /// [`Builder::add`] with the section's data beyond its lines.
    pub(crate) fn add_with(
        &mut self,
        path: &str,
        lines: &mut Vec<LineRecord>,
        rule: SameLine,
        extras: FileExtras,
    ) {
        fold_lines(lines, rule);
        if !self.has_branch_data {
            self.has_branch_data = lines.iter().any(|r| r.branches_total > 0)
                || extras.stray_branches.iter().any(|b| b.total > 0);
        }
        // `d1/../a.py` and `a.py` are one file: keyed by the normal form, a report naming
        // one file through thousands of aliases holds one file, not thousands.
        let path = crate::paths::normalized(path);
        let i = match self.index.get(path.as_ref()) {
            Some(&i) => {
                self.lines.add_records(i, lines);
                // A second section: stated totals of the first no longer hold alone.
                let x = self.extras.entry(i).or_default();
                x.absorb(extras);
                let folded = self.blocks_folded.entry(i).or_default();
                if x.blocks.len() > (*folded).max(1 << 12) * 2 {
                    x.normalize();
                    *folded = x.blocks.len();
                }
                lines.clear();
                return;
            }
            None => {
                let i = self.lines.push_file();
                self.lines.add_records(i, lines);
                self.index.insert(path.to_string(), i);
                self.paths.push(path.into_owned());
                i
            }
        };
        if !extras.is_empty() {
            self.extras.insert(i, extras);
        }
        lines.clear();
    }

    /// Take in the sections a builder of the following part of the report collected,
    /// with the result of having added them here one by one: files keep their order of
    /// first appearance, lines merge by the model's commutative and associative rule,
    /// extras by [`FileExtras::absorb`] (whose stated totals survive only when every
    /// section states them, whichever way the sections are grouped).
    pub(crate) fn absorb(&mut self, later: Builder) {
        self.has_branch_data |= later.has_branch_data;
        let Builder {
            paths,
            lines,
            mut extras,
            ..
        } = later;
        for (j, (path, file_lines)) in paths.into_iter().zip(lines.finish()).enumerate() {
            let x = extras.remove(&j).unwrap_or_default();
            match self.index.get(&path) {
                Some(&i) => {
                    self.lines.add_lines(i, &file_lines);
                    self.extras.entry(i).or_default().absorb(x);
                }
                None => {
                    let i = self.lines.push_file_with(file_lines);
                    self.index.insert(path.clone(), i);
                    self.paths.push(path);
                    if !x.is_empty() {
                        self.extras.insert(i, x);
                    }
                }
            }
        }
    }

    /// The finished report, or [`ParseErrorKind::NoFiles`].
    pub(crate) fn finish(
        self,
        format: Format,
        origin: &str,
        sources: Vec<String>,
    ) -> Result<Report, ParseError> {
        if self.paths.is_empty() {
            return Err(ParseError::new(
                origin,
                Location::Whole,
                ParseErrorKind::NoFiles,
            ));
        }
        let files: Vec<FileReport> = self
            .paths
            .into_iter()
            .zip(self.lines.finish())
            .map(|(path, mut lines)| {
                lines.shrink_to_fit();
                FileReport { path, lines }
            })
            .collect();
        let mut extras = BTreeMap::new();
        for (i, mut x) in self.extras {
            x.normalize();
            if let Some(f) = files.get(i)
                && !x.is_empty()
            {
                extras.insert(f.path.clone(), x);
            }
        }
        Ok(Report {
            format,
            origin: origin.to_owned(),
            sources,
            files,
            has_branch_data: self.has_branch_data,
            extras,
        })
    }
}
