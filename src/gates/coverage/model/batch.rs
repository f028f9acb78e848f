//! [`LinesByFile`]: the lines of many files gathered from sections in any order, merged
//! in batches so the cost stays linear. Part of the model: data and merge rules, no I/O.

use super::{Line, LineRecord, Lines};

/// Pending lines below which [`LinesByFile`] does not merge early (768 KiB).
const PENDING_MIN: usize = 1 << 16;

/// The lines of many files, each gathered from sections that arrive in any order (one
/// per `<class>`, `SF` record, run of Go blocks, or report), in time linear in the
/// records added (plus sorting) and memory bounded by the model's own size.
///
/// A section that starts after its file's last line is appended to the file's stream.
/// Any other waits, and waiting lines are sorted and merged into their streams in one
/// pass per file when, over all files, they outnumber a quarter of the stream bytes (at
/// least [`PENDING_MIN`]), and at [`LinesByFile::finish`]. Such a merge costs at most
/// five times the waiting lines it consumes, where merging each section as it came
/// rebuilt the file's stream every time (50,000 out-of-order sections of one file took
/// 10 s), and waiting lines never take more than about three times the streams' bytes.
/// The rules are those of [`Line::absorb`], commutative and associative on capped
/// lines, so when the merge happens does not change the result.
#[derive(Debug, Clone)]
pub struct LinesByFile {
    files: Vec<FileLines>,
    /// Files with waiting lines.
    dirty: Vec<usize>,
    /// Waiting lines, over all files.
    pending: usize,
    /// Stream bytes, over all files.
    stream: usize,
    /// Waiting lines that never trigger an early merge ([`PENDING_MIN`]; tests lower it).
    pending_min: usize,
}

/// One file of [`LinesByFile`].
#[derive(Debug, Clone, Default)]
struct FileLines {
    lines: Lines,
    pending: Vec<Line>,
}

impl FileLines {
    /// Sort the waiting lines, fold duplicates, merge them into the stream.
    fn flush(&mut self) {
        let mut pending = std::mem::take(&mut self.pending);
        pending.sort_unstable_by_key(|l| l.line);
        pending.dedup_by(|later, kept| {
            if later.line != kept.line {
                return false;
            }
            kept.absorb(later);
            true
        });
        self.lines
            .merge_iter(pending.iter().copied(), pending.first().map(|l| l.line));
    }
}

impl Default for LinesByFile {
    fn default() -> Self {
        LinesByFile {
            files: Vec::new(),
            dirty: Vec::new(),
            pending: 0,
            stream: 0,
            pending_min: PENDING_MIN,
        }
    }
}

impl LinesByFile {
    /// Merge early once more than `pending_min` lines wait (tests).
    #[cfg(test)]
    pub(crate) fn with_pending_min(pending_min: usize) -> Self {
        LinesByFile {
            pending_min,
            ..LinesByFile::default()
        }
    }

    /// A new file without lines; its index.
    pub fn push_file(&mut self) -> usize {
        self.files.push(FileLines::default());
        self.files.len() - 1
    }

    /// A new file holding `lines` (moved, not re-encoded); its index.
    pub fn push_file_with(&mut self, lines: Lines) -> usize {
        self.stream += lines.stream.len();
        self.files.push(FileLines {
            lines,
            pending: Vec::new(),
        });
        self.files.len() - 1
    }

    /// Add records sorted by line and unique (a folded section) to file `i`.
    pub fn add_records(&mut self, i: usize, records: &[LineRecord]) {
        self.add_iter(
            i,
            records.iter().map(Line::from),
            records.first().map(|r| r.line),
        );
    }

    /// Add lines to file `i`.
    pub fn add_lines(&mut self, i: usize, other: &Lines) {
        self.add_iter(i, other.iter(), other.iter().next().map(|l| l.line));
    }

    fn add_iter(&mut self, i: usize, other: impl Iterator<Item = Line>, first: Option<u32>) {
        let (Some(first), Some(f)) = (first, self.files.get_mut(i)) else {
            return;
        };
        if f.lines.is_empty() || first > f.lines.last {
            // In order (a file split over consecutive classes): append.
            let before = f.lines.stream.len();
            // About a byte a line.
            f.lines.stream.reserve(other.size_hint().0);
            for l in other {
                f.lines.push(l);
            }
            self.stream += f.lines.stream.len() - before;
            return;
        }
        if f.pending.is_empty() {
            self.dirty.push(i);
        }
        let before = f.pending.len();
        f.pending.extend(other);
        self.pending += f.pending.len() - before;
        if self.pending > self.pending_min.max(self.stream / 4) {
            self.flush();
        }
    }

    /// Merge every file's waiting lines.
    fn flush(&mut self) {
        for i in std::mem::take(&mut self.dirty) {
            if let Some(f) = self.files.get_mut(i) {
                let before = f.lines.stream.len();
                f.flush();
                self.stream = self.stream - before + f.lines.stream.len();
            }
        }
        self.pending = 0;
    }

    /// Every file's merged lines, in index order.
    pub fn finish(mut self) -> Vec<Lines> {
        self.flush();
        self.files.into_iter().map(|f| f.lines).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Many one-line sections in descending order: one sort at the end, where merging each
    /// as it came rebuilt the stream every time. Counted in stream rebuilds, not seconds.
    #[test]
    fn out_of_order_sections_merge_once() {
        let mut b = LinesByFile::default();
        let i = b.push_file();
        for line in (1..=50_000u32).rev() {
            b.add_records(i, &[LineRecord::new(line, line % 2)]);
        }
        assert_eq!(b.pending, 49_999, "everything but the first waits");
        assert_eq!(
            b.files[i].lines.stream.len(),
            3,
            "the stream was never rebuilt"
        );
        let lines = b.finish();
        let t = lines[0].totals();
        assert_eq!((t.lines_total, t.lines_covered), (50_000, 25_000));
    }
}
