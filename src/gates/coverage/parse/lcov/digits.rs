//! Reading the numbers of LCOV's `DA` and `BRDA` lines: a word at a time where the run of
//! digits ends inside 8 bytes (nearly every line number and hit count), byte by byte
//! otherwise. Pure.

/// The run of ASCII digits at the start of `b` as a saturating number, and its
/// length; `None` when there is none.
pub(super) fn digits(b: &[u8]) -> Option<(u64, usize)> {
    // A run of up to seven digits (nearly every line number and hit count) is read
    // from one 8-byte word; a longer run, or fewer than 8 bytes left, byte by byte.
    if let Some(word) = b.first_chunk::<8>()
        && let Some(found) = digits_in_word(u64::from_le_bytes(*word))
    {
        return (found.1 > 0).then_some(found);
    }
    digits_bytewise(b)
}

/// The leading digits of the 8 bytes in `word` (first byte lowest), when a byte that
/// is not a digit ends them inside the word: their value and count. `None` when all
/// eight are digits (the run may go on).
fn digits_in_word(word: u64) -> Option<(u64, usize)> {
    const LOW: u64 = 0x0f0f_0f0f_0f0f_0f0f;
    // Each byte XOR '0': a digit becomes 0..=9 and nothing else does.
    let t = word ^ 0x3030_3030_3030_3030;
    // A byte over 9 has a high-nibble bit, or a low nibble that carries past 15 with 6
    // added (no carry leaves a byte: 15 + 6 < 256).
    let over = (t & !LOW) | (((t & LOW) + 0x0606_0606_0606_0606) & 0x1010_1010_1010_1010);
    if over == 0 {
        return None;
    }
    let n = over.trailing_zeros() as usize / 8;
    if n == 0 {
        return Some((0, 0));
    }
    // The digits to the top bytes, zeros below: the same number, left-padded to eight.
    let d = t << (8 * (8 - n));
    // Pairs, then fours, then the eight (the first byte is the most significant digit).
    let d = ((d & 0x000f_000f_000f_000f) * 10) + ((d & 0x0f00_0f00_0f00_0f00) >> 8);
    let d = ((d & 0x0000_00ff_0000_00ff) * 100) + ((d & 0x00ff_0000_00ff_0000) >> 16);
    let d = ((d & 0x0000_0000_0000_ffff) * 10_000) + ((d & 0x0000_ffff_0000_0000) >> 32);
    Some((d, n))
}

/// [`digits`] one byte at a time.
fn digits_bytewise(b: &[u8]) -> Option<(u64, usize)> {
    let n = b
        .iter()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(b.len());
    if n == 0 {
        return None;
    }
    let v = if n <= 19 {
        // Nineteen digits cannot overflow: no checks on the common path.
        b[..n]
            .iter()
            .fold(0u64, |acc, &c| acc * 10 + u64::from(c - b'0'))
    } else {
        b[..n].iter().fold(0u64, |acc, &c| {
            acc.saturating_mul(10).saturating_add(u64::from(c - b'0'))
        })
    };
    Some((v, n))
}

#[cfg(test)]
mod tests {
    /// The word-at-a-time read agrees with the bytewise one on every run length, next to
    /// every byte value (the neighbours of '0' and '9' included), at every offset.
    #[test]
    fn digits_word_and_bytewise_agree() {
        let runs = [
            "",
            "0",
            "7",
            "09",
            "123",
            "4096",
            "65535",
            "999999",
            "1234567",
            "12345678",
            "123456789",
            "99999999999999999999999",
        ];
        for run in runs {
            for next in 0..=255u8 {
                for pad in 0..3 {
                    let mut b = run.as_bytes().to_vec();
                    b.push(next);
                    b.extend(std::iter::repeat_n(b'x', pad));
                    for cut in 0..=b.len() {
                        let b = &b[..cut];
                        assert_eq!(super::digits(b), super::digits_bytewise(b), "{b:?}");
                    }
                }
            }
        }
    }
}
