//! The crate's one JSON string writer, for the hand-written NDJSON of the hot paths (consume's
//! output lines, the method's results). Plain strings, the common case, are copied as they are;
//! anything that needs escaping goes through serde_json, whose escapes are exactly
//! `JSON.stringify`'s for valid UTF-8 (`\n`, `\"`, `\\`, `\b`, `\f`, `\r`, `\t`, other control
//! characters as lower-case `\u00XX`, nothing else escaped).

/// Appends `s` as a JSON string.
pub fn push_str(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // Writing to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_json_stringify_does() {
        let cases = [
            ("plain", r#""plain""#),
            ("q\"b\\s/", r#""q\"b\\s/""#),
            ("\n\r\t\u{8}\u{c}", r#""\n\r\t\b\f""#),
            (
                "\u{1}\u{1f}\u{7f} é 😀 \u{2028}",
                "\"\\u0001\\u001f\u{7f} é 😀 \u{2028}\"",
            ),
        ];
        for (input, expected) in cases {
            let mut out = Vec::new();
            push_str(&mut out, input);
            assert_eq!(String::from_utf8(out).as_deref(), Ok(expected), "{input:?}");
        }
    }
}
