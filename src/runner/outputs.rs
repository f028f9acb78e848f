//! Step outputs written to `GITHUB_OUTPUT` as heredocs with a random delimiter, the way
//! `@actions/core`'s `prepareKeyValueMessage` does: `name<<ghadelimiter_<uuid>`, value,
//! delimiter. A value (or name) containing the delimiter could end the heredoc early and
//! inject another output; `@actions/core` throws in that case, we draw a fresh delimiter
//! until none of the text contains it.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::Path;

use rand::Rng;

/// Format one output as a heredoc block, drawing delimiters from `delimiter`.
pub fn format_output(name: &str, value: &str, mut delimiter: impl FnMut() -> String) -> String {
    loop {
        let d = delimiter();
        if !value.contains(&d) && !name.contains(&d) {
            return format!("{name}<<{d}\n{value}\n{d}\n");
        }
    }
}

/// A fresh `ghadelimiter_<random>` delimiter (122 random bits, like a v4 UUID).
pub fn random_delimiter() -> String {
    let n: u128 = rand::rng().random();
    format!("ghadelimiter_{:032x}", n >> 6)
}

/// Append every output to `w`.
pub fn write_outputs<W: Write>(mut w: W, outputs: &[(String, String)]) -> io::Result<()> {
    for (name, value) in outputs {
        w.write_all(format_output(name, value, random_delimiter).as_bytes())?;
    }
    w.flush()
}

/// Append every output to the `GITHUB_OUTPUT` file at `path` (created when missing). The
/// one place that writes that file: the normal end of a run and the panic hook both come
/// here.
pub fn append(path: &Path, outputs: &[(String, String)]) -> io::Result<()> {
    let file = OpenOptions::new().create(true).append(true).open(path)?;
    write_outputs(file, outputs)
}

/// Parse a `GITHUB_OUTPUT` file back into pairs, as the runner does (tests and tooling).
pub fn parse_output_file(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delim)) = line.split_once("<<") {
            let mut value = Vec::new();
            for l in lines.by_ref() {
                if l == delim {
                    break;
                }
                value.push(l);
            }
            out.push((name.to_owned(), value.join("\n")));
        } else if let Some((name, value)) = line.split_once('=') {
            out.push((name.to_owned(), value.to_owned()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heredoc_round_trips() {
        let outputs = vec![
            ("result".to_owned(), "pass".to_owned()),
            ("tags".to_owned(), "a:1\nb:2".to_owned()),
            ("empty".to_owned(), String::new()),
        ];
        let mut buf = Vec::new();
        write_outputs(&mut buf, &outputs).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(text.starts_with("result<<ghadelimiter_"), "{text}");
        assert_eq!(parse_output_file(&text), outputs);
    }

    #[test]
    fn a_value_holding_the_delimiter_cannot_inject_an_output() {
        let mut draws = vec!["ghadelimiter_b".to_owned(), "ghadelimiter_a".to_owned()];
        let evil = "x\nghadelimiter_a\nresult<<ghadelimiter_a\npass";
        let block = format_output("msg", evil, || draws.pop().unwrap());
        assert_eq!(
            block,
            format!("msg<<ghadelimiter_b\n{evil}\nghadelimiter_b\n")
        );
        assert_eq!(
            parse_output_file(&block),
            vec![("msg".to_owned(), evil.to_owned())]
        );
    }

    #[test]
    fn append_adds_to_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("github_output");
        let one = [("result".to_owned(), "error".to_owned())];
        let two = [("digest".to_owned(), "sha256:ab".to_owned())];
        append(&path, &one).unwrap();
        append(&path, &two).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(parse_output_file(&text), [one, two].concat());
    }

    #[test]
    fn delimiters_are_random() {
        assert_ne!(random_delimiter(), random_delimiter());
        assert_eq!(random_delimiter().len(), "ghadelimiter_".len() + 32);
    }
}
