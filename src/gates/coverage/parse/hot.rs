//! The hot element: the one element that is 99 % of every XML report (`<line .../>`),
//! read straight from its bytes in one pass by the fast tokenizer ([`super::fast`]),
//! instead of the general route (tag end, name, [`BytesStart`](quick_xml::events::BytesStart),
//! context, attribute scan: four passes and a dispatch per line).
//!
//! [`HotTag::attrs`] accepts only the plain shape every writer uses (`name="value"` pairs
//! after whitespace, ending in `/>`) and answers `None` on anything else; the handler
//! then declines and the element takes the general route, which is always correct. So
//! what this file accepts must mean exactly what [`crate::xml::attrs`] makes of it: the
//! first of repeated attributes wins, values are raw (still escaped), and the tag ends
//! at the first `>` outside quotes. The differential test and the fuzz targets check
//! it against the full reader. Also [`Fault`]: why a line's values are not a record,
//! shared by both routes so the two cannot disagree on a value. Pure.

use super::{ErrorAt, ParseError, ParseErrorKind};
use crate::xml::Ctx;

/// XML whitespace, as quick-xml defines it.
pub(crate) fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\r' | b'\n' | b'\t')
}

/// The bytes an attribute name may have on the hot route (others take the general
/// one), as a table: one load per byte.
const KEY: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b':' | b'.');
        i += 1;
    }
    t
};

/// `a == b` for short names, without a call to `memcmp` (which dominated).
#[inline(always)]
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// A hot element: `<` + its name seen at `from - name length - 1`, attributes from `from`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HotTag<'t> {
    pub(crate) text: &'t str,
    /// Just after the element's name (at the whitespace before its first attribute).
    pub(crate) from: usize,
    /// The tag's `>` must come before this (the tokenizer's cap on one tag).
    pub(crate) limit: usize,
}

impl<'t> HotTag<'t> {
    /// The raw values of `keys` (first occurrence of each) and the index of the tag's
    /// closing `>`, when the tag is plain `key="value"` pairs ending in `/>`; `None`
    /// for anything else.
    #[inline(always)]
    pub(crate) fn attrs<const N: usize>(
        &self,
        keys: [&[u8]; N],
    ) -> Option<([Option<&'t str>; N], usize)> {
        let b = self.text.as_bytes();
        let b = &b[..self.limit.min(b.len())];
        let mut out: [Option<&'t str>; N] = [None; N];
        let mut i = self.from;
        // Writers keep one attribute order: the key after the last one found is tried
        // first, as a whole.
        let mut expect = 0;
        loop {
            // Whitespace first: after the name, and between attributes.
            let ws = i;
            while i < b.len() && is_ws(b[i]) {
                i += 1;
            }
            match b.get(i)? {
                b'/' => return (b.get(i + 1) == Some(&b'>')).then_some((out, i + 1)),
                _ if i == ws => return None,
                _ => {}
            }
            let key_start = i;
            let slot;
            if let Some(k) = keys.get(expect)
                && b.get(i..i + k.len()).is_some_and(|key| same(key, k))
                && b.get(i + k.len()) == Some(&b'=')
            {
                // Its bytes are name bytes and it ends at the `=`: the scan below would
                // have found the same.
                slot = Some(expect);
                i += k.len();
            } else {
                while i < b.len() && KEY[usize::from(b[i])] {
                    i += 1;
                }
                if i == key_start || b.get(i) != Some(&b'=') {
                    return None;
                }
                let key = &b[key_start..i];
                slot = keys.iter().position(|k| same(key, k));
            }
            let quote = *b.get(i + 1)?;
            if quote != b'"' && quote != b'\'' {
                return None;
            }
            let start = i + 2;
            i = start;
            while i < b.len() && b[i] != quote {
                i += 1;
            }
            if i >= b.len() {
                return None;
            }
            if let Some(k) = slot {
                expect = k + 1;
                if out[k].is_none() {
                    // Delimiters are ASCII: these are char boundaries.
                    out[k] = Some(self.text.get(start..i)?);
                }
            }
            i += 1;
        }
    }
}

/// Why an element's attribute values are not a record; both routes share the check
/// and the general one turns it into the error.
#[derive(Debug)]
pub(crate) enum Fault<'v> {
    /// A required attribute is missing.
    Missing(&'static str),
    /// An attribute's value is not what the format allows: (attribute, value, expected).
    Invalid(&'static str, &'v str, &'static str),
}

impl Fault<'_> {
    /// The error for `element` at the markup `raw` of the current event.
    pub(crate) fn error(self, element: &'static str, ctx: &Ctx<'_>, raw: &str) -> ParseError {
        let kind = match self {
            Fault::Missing(attribute) => ParseErrorKind::MissingAttribute { element, attribute },
            Fault::Invalid(attribute, value, expected) => ParseErrorKind::InvalidAttribute {
                element,
                attribute,
                value: super::excerpt(value.as_bytes()),
                expected,
            },
        };
        ctx.error_at(raw, kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run<'t, const N: usize>(
        tag: &'t str,
        keys: [&[u8]; N],
    ) -> Option<([Option<&'t str>; N], usize)> {
        HotTag {
            text: tag,
            from: 5,
            limit: tag.len(),
        }
        .attrs(keys)
    }

    #[test]
    fn plain_tags_are_read_and_anything_else_declined() {
        let keys: [&[u8]; 3] = [b"number", b"hits", b"x"];
        let t = r#"<line number="7" hits='0' branch="a>b" number="9"/>"#;
        assert_eq!(
            run(t, keys),
            Some(([Some("7"), Some("0"), None], t.len() - 1))
        );
        let t = "<line\tnumber=\"1\"\n />";
        assert_eq!(run(t, keys), Some(([Some("1"), None, None], t.len() - 1)));
        for declined in [
            r#"<line number="1">"#,
            r#"<line number="1"hits="2"/>"#,
            r#"<line number = "1"/>"#,
            r#"<line number=1/>"#,
            r#"<line number="1"/ >"#,
            r#"<line n%="1"/>"#,
            r#"<line number="1"#,
            r#"<line number="1" /"#,
        ] {
            assert_eq!(run(declined, keys), None, "{declined}");
        }
    }
}
