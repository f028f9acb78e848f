//! Attributes of a start tag as borrowed slices (the hot path of every XML reader), the
//! tag-size check, and unescaping of a value. Pure.

use std::ops::Range;

use quick_xml::events::BytesStart;

use super::{Ctx, MAX_VALUE, XmlError, XmlErrorKind, check_len, excerpt};

/// Byte ranges of one attribute's name and value in raw attribute text.
type AttrSpan = (Range<usize>, Range<usize>);

/// The next `name="value"` of raw attribute text `s` from byte `*i`, or `None` at the
/// end; `Err` says what is malformed.
fn next_attr(s: &[u8], i: &mut usize) -> Result<Option<AttrSpan>, &'static str> {
    let len = s.len();
    while *i < len && s[*i].is_ascii_whitespace() {
        *i += 1;
    }
    // `<a/>` arrives without the slash, but be lenient about a stray one.
    if *i >= len || (s[*i] == b'/' && *i + 1 == len) {
        return Ok(None);
    }
    let key_start = *i;
    while *i < len && s[*i] != b'=' && !s[*i].is_ascii_whitespace() {
        *i += 1;
    }
    let key = key_start..*i;
    while *i < len && s[*i].is_ascii_whitespace() {
        *i += 1;
    }
    if key.is_empty() || *i >= len || s[*i] != b'=' {
        return Err("expected name=\"value\"");
    }
    *i += 1;
    while *i < len && s[*i].is_ascii_whitespace() {
        *i += 1;
    }
    let Some(&quote) = s.get(*i).filter(|&&q| q == b'"' || q == b'\'') else {
        return Err("attribute value without quotes");
    };
    let value_start = *i + 1;
    let Some(n) = memchr::memchr(quote, &s[value_start..]) else {
        return Err("unterminated attribute value");
    };
    *i = value_start + n + 1;
    Ok(Some((key, value_start..value_start + n)))
}

/// Values of the named attributes of `e`, raw (still escaped), in the order of `keys`.
/// Malformed attribute syntax is [`XmlErrorKind::Xml`] at the element's line.
///
/// A hand-rolled scan instead of quick-xml's `attributes()`: this runs for each of
/// millions of `<line>` elements, borrows every value and allocates nothing. quick-xml
/// has already checked that the tag is closed and its quotes balanced.
pub(crate) fn attrs<'a, const N: usize>(
    x: &Ctx<'_>,
    e: &'a BytesStart<'_>,
    keys: [&str; N],
) -> Result<[Option<&'a str>; N], XmlError> {
    let mut out: [Option<&'a str>; N] = [None; N];
    let raw: &'a str = e.attributes_raw();
    let s = raw.as_bytes();
    let mut i = 0;
    loop {
        let (key, value) = match next_attr(s, &mut i) {
            Ok(Some(kv)) => kv,
            Ok(None) => break,
            Err(what) => {
                return Err(x.xml_error_at(
                    e,
                    XmlErrorKind::Xml(format!("malformed attributes in <{}>: {what}", e.name().0)),
                ));
            }
        };
        let key = &s[key];
        // Delimiters are ASCII, so these are char boundaries.
        let value = raw.get(value).unwrap_or("");
        for (slot, k) in out.iter_mut().zip(keys) {
            let k = k.as_bytes();
            if key.len() == k.len() && key.first() == k.first() && key == k {
                if slot.is_none() {
                    *slot = Some(value);
                }
                break;
            }
        }
    }
    Ok(out)
}

/// A tag's name or attribute value over [`MAX_VALUE`], as [`XmlErrorKind::TooLong`].
/// Only a tag longer than the cap can hold one, so most tags cost one comparison.
pub(super) fn check_tag(e: &BytesStart<'_>) -> Result<(), XmlErrorKind> {
    if e.len() <= MAX_VALUE {
        return Ok(());
    }
    let name = e.name();
    let name = name.as_ref();
    check_len(name.as_bytes(), || "element name".to_owned())?;
    let s = e.attributes_raw().as_bytes();
    let mut i = 0;
    // Malformed attributes are left to `attrs`, which reports them where they matter.
    while let Ok(Some((key, value))) = next_attr(s, &mut i) {
        check_len(&s[value], || {
            format!(
                "attribute {} of <{}>",
                excerpt(&s[key]),
                excerpt(name.as_bytes())
            )
        })?;
    }
    Ok(())
}

/// An attribute value as text with references resolved.
pub(crate) fn unescape(x: &Ctx<'_>, e: &BytesStart<'_>, raw: &str) -> Result<String, XmlError> {
    if !raw.contains('&') {
        return Ok(raw.to_owned());
    }
    quick_xml::escape::unescape(raw)
        .map(|s| s.into_owned())
        .map_err(|err| x.xml_error_at(e, XmlErrorKind::Xml(err.to_string())))
}
