//! Names, hashes and ids the way Kubernetes controllers make them, deterministically.
//!
//! `pod-template-hash` and ControllerRevision names use FNV-32a and client-go's
//! `rand.SafeEncodeString` alphabet, so they look like real ones (`api-7d5b9c4f8`). The hash input
//! is the canonical JSON of the template rather than Go's `spew` dump, so the values differ from a
//! real cluster's for the same template; only their shape and stability matter to clients.
//! Random-looking suffixes and uids come from a seeded generator so runs are reproducible.

use serde_json::Value;

/// client-go `rand.SafeEncodeString` alphabet: no vowels, no confusable digits.
const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// FNV-1a, 32 bit, as `hash/fnv.New32a`.
pub fn fnv32a(data: &[u8]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for b in data {
        hash ^= u32::from(*b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// `rand.SafeEncodeString`: maps every byte into the safe alphabet.
pub fn safe_encode(s: &str) -> String {
    s.bytes()
        .map(|b| char::from(ALPHANUMS[usize::from(b) % ALPHANUMS.len()]))
        .collect()
}

/// The hash used for `pod-template-hash` and revision names.
pub fn hash_value(value: &Value, collision_count: Option<i64>) -> String {
    let mut bytes = go_json(value).into_bytes();
    if let Some(c) = collision_count {
        bytes.extend_from_slice(&c.to_le_bytes());
    }
    safe_encode(&fnv32a(&bytes).to_string())
}

/// Hash of raw bytes (ControllerRevision data).
pub fn hash_bytes(bytes: &[u8]) -> String {
    safe_encode(&fnv32a(bytes).to_string())
}

/// JSON exactly as Go's `encoding/json` writes a `map[string]interface{}`: keys sorted, `<`, `>`
/// and `&` escaped as `\u003c`... kubectl compares ControllerRevision data with its own
/// re-encoding byte for byte to decide whether a rollback would be a no-op.
pub fn go_json(value: &Value) -> String {
    let mut out = String::new();
    write_go_json(value, &mut out);
    out
}

fn write_go_json(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_go_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_string(key, out);
                out.push(':');
                write_go_json(&map[key], out);
            }
            out.push('}');
        }
    }
}

fn write_go_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A small deterministic generator (SplitMix64) for suffixes and uids.
#[derive(Debug, Clone)]
pub struct IdGen {
    state: u64,
}

impl IdGen {
    /// A generator with a fixed seed.
    pub fn new(seed: u64) -> Self {
        IdGen { state: seed }
    }

    /// Next 64 random-looking bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A 5-character suffix as `generateName` and ReplicaSet pods use.
    pub fn suffix(&mut self) -> String {
        let mut n = self.next_u64();
        let mut s = String::with_capacity(5);
        for _ in 0..5 {
            let idx = usize::try_from(n % ALPHANUMS.len() as u64).unwrap_or(0);
            s.push(char::from(ALPHANUMS[idx]));
            n /= ALPHANUMS.len() as u64;
        }
        s
    }

    /// A version-4-shaped UUID.
    pub fn uid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:x}{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0x0fff,
            8 + (b >> 62),
            (b >> 48) & 0x0fff,
            b & 0xffff_ffff_ffff
        )
    }

    /// 16 hex digits, the suffix of event names.
    pub fn hex16(&mut self) -> String {
        format!("{:016x}", self.next_u64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fnv_matches_reference_vectors() {
        assert_eq!(fnv32a(b""), 0x811c_9dc5);
        assert_eq!(fnv32a(b"a"), 0xe40c_292c);
        assert_eq!(fnv32a(b"foobar"), 0xbf9c_f968);
    }

    #[test]
    fn go_json_sorts_and_escapes() {
        let v = json!({"b": 1, "a": "<x&y>", "$patch": "replace"});
        assert_eq!(
            go_json(&v),
            r#"{"$patch":"replace","a":"\u003cx\u0026y\u003e","b":1}"#
        );
    }

    #[test]
    fn ids_are_deterministic_and_shaped() {
        let mut a = IdGen::new(7);
        let mut b = IdGen::new(7);
        assert_eq!(a.uid(), b.uid());
        let uid = a.uid();
        assert_eq!(uid.len(), 36);
        assert_eq!(&uid[14..15], "4");
        let s = a.suffix();
        assert_eq!(s.len(), 5);
        assert!(s.bytes().all(|c| ALPHANUMS.contains(&c)));
        let h = hash_value(&json!({"x": 1}), None);
        assert!(h.bytes().all(|c| ALPHANUMS.contains(&c)));
    }
}
