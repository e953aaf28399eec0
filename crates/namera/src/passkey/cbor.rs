//! The little CBOR that WebAuthn registration needs: an `attestationObject` map and the
//! COSE public key inside its authenticatorData.
//!
//! Definite lengths only (WebAuthn's CTAP2 canonical CBOR uses nothing else); floats and
//! tags are refused. Every length is checked against the input, so hostile input can only
//! produce an error.

/// A decoded CBOR item.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cbor {
    /// Major type 0.
    Uint(u64),
    /// Major type 1: the value is `-1 - n`.
    Neg(u64),
    Bytes(Vec<u8>),
    Text(String),
    Array(Vec<Cbor>),
    Map(Vec<(Cbor, Cbor)>),
    /// false, true, null, undefined.
    Simple(u8),
}

impl Cbor {
    /// The integer value of a major type 0 or 1 item.
    pub(crate) fn as_int(&self) -> Option<i128> {
        match self {
            Self::Uint(n) => Some(i128::from(*n)),
            Self::Neg(n) => Some(-1 - i128::from(*n)),
            _ => None,
        }
    }

    /// The value under `key` in a map.
    pub(crate) fn get(&self, key: &Cbor) -> Option<&Cbor> {
        match self {
            Self::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value under an integer key (COSE labels).
    pub(crate) fn get_int(&self, key: i128) -> Option<&Cbor> {
        match self {
            Self::Map(entries) => {
                entries.iter().find(|(k, _)| k.as_int() == Some(key)).map(|(_, v)| v)
            }
            _ => None,
        }
    }
}

const MAX_DEPTH: usize = 16;

/// Decode one item at the start of `data`; returns it and how many bytes it took.
pub(crate) fn decode(data: &[u8]) -> Result<(Cbor, usize), String> {
    let mut pos = 0;
    let item = item(data, &mut pos, 0)?;
    Ok((item, pos))
}

fn take<'a>(data: &'a [u8], pos: &mut usize, n: usize) -> Result<&'a [u8], String> {
    let end = pos.checked_add(n).filter(|&e| e <= data.len()).ok_or("CBOR truncated")?;
    let out = &data[*pos..end];
    *pos = end;
    Ok(out)
}

fn argument(data: &[u8], pos: &mut usize, info: u8) -> Result<u64, String> {
    let width = match info {
        0..=23 => return Ok(u64::from(info)),
        24 => 1,
        25 => 2,
        26 => 4,
        27 => 8,
        _ => return Err(format!("CBOR indefinite or reserved length ({info}) not supported")),
    };
    Ok(take(data, pos, width)?.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

fn item(data: &[u8], pos: &mut usize, depth: usize) -> Result<Cbor, String> {
    if depth > MAX_DEPTH {
        return Err("CBOR nested too deeply".into());
    }
    let head = take(data, pos, 1)?[0];
    let (major, info) = (head >> 5, head & 0x1f);
    if major == 7 {
        return match info {
            20..=23 => Ok(Cbor::Simple(info)),
            _ => Err(format!("CBOR simple/float value {info} not supported")),
        };
    }
    let arg = argument(data, pos, info)?;
    // A length can never exceed what is left; this also bounds the allocations below.
    let len = || usize::try_from(arg).ok().filter(|&n| n <= data.len()).ok_or("CBOR truncated");
    Ok(match major {
        0 => Cbor::Uint(arg),
        1 => Cbor::Neg(arg),
        2 => Cbor::Bytes(take(data, pos, len()?)?.to_vec()),
        3 => Cbor::Text(
            String::from_utf8(take(data, pos, len()?)?.to_vec())
                .map_err(|_| "CBOR text is not UTF-8")?,
        ),
        4 => {
            Cbor::Array((0..len()?).map(|_| item(data, pos, depth + 1)).collect::<Result<_, _>>()?)
        }
        5 => Cbor::Map(
            (0..len()?)
                .map(|_| Ok((item(data, pos, depth + 1)?, item(data, pos, depth + 1)?)))
                .collect::<Result<_, String>>()?,
        ),
        _ => return Err(format!("CBOR major type {major} (tag) not supported")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_maps_ints_and_strings() {
        // {1: 2, 3: -7, "a": h'0102', "b": [true, null]}
        let data =
            [0xa4, 0x01, 0x02, 0x03, 0x26, 0x61, b'a', 0x42, 1, 2, 0x61, b'b', 0x82, 0xf5, 0xf6];
        let (item, used) = decode(&data).unwrap();
        assert_eq!(used, data.len());
        assert_eq!(item.get_int(1), Some(&Cbor::Uint(2)));
        assert_eq!(item.get_int(3).and_then(Cbor::as_int), Some(-7));
        assert_eq!(item.get(&Cbor::Text("a".into())), Some(&Cbor::Bytes(vec![1, 2])));
        assert_eq!(
            item.get(&Cbor::Text("b".into())),
            Some(&Cbor::Array(vec![Cbor::Simple(21), Cbor::Simple(22)]))
        );
    }

    #[test]
    fn refuses_truncated_huge_and_deep_input() {
        assert_eq!(decode(&[0x42, 1]).unwrap_err(), "CBOR truncated");
        // A byte string claiming 2^64-1 bytes.
        assert_eq!(
            decode(&[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).unwrap_err(),
            "CBOR truncated"
        );
        assert!(decode(&[0x81; 40]).unwrap_err().contains("deeply"));
        assert!(decode(&[0x5f]).unwrap_err().contains("indefinite"));
        assert!(decode(&[0xc0, 0x00]).unwrap_err().contains("tag"));
    }
}
