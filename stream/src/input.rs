//! A named input read whole: a file, or standard input for `-` (configs, payloads).

use std::io::Read;
use std::path::Path;

/// A named input: a file, or standard input for `-`.
pub struct Input {
    pub name: String,
    pub text: String,
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The text of a config holds the secret key.
        f.debug_struct("Input")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {name}")]
    Io {
        name: String,
        #[source]
        source: std::io::Error,
    },
    /// The bytes are not UTF-8 (JSON text must be): where the first bad byte is.
    #[error("cannot read {name}: {fault}")]
    Utf8 { name: String, fault: Utf8Fault },
}

impl ReadError {
    pub fn new(name: String, source: std::io::Error) -> Self {
        ReadError::Io { name, source }
    }
}

/// The first byte that is not part of a UTF-8 sequence, as a byte offset and as the line and
/// column (in characters) where a reader would see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utf8Fault {
    pub offset: usize,
    pub byte: u8,
    pub line: usize,
    pub column: usize,
}

impl std::fmt::Display for Utf8Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "not valid UTF-8: byte 0x{:02X} at byte offset {} (line {}, column {})",
            self.byte, self.offset, self.line, self.column
        )
    }
}

pub fn read_input(path: &Path) -> Result<Input, ReadError> {
    let (name, bytes) = if path.as_os_str() == "-" {
        let name = "<stdin>".to_owned();
        let mut bytes = Vec::new();
        match std::io::stdin().read_to_end(&mut bytes) {
            Ok(_) => (name, bytes),
            Err(source) => return Err(ReadError::Io { name, source }),
        }
    } else {
        let name = path.display().to_string();
        match std::fs::read(path) {
            Ok(bytes) => (name, bytes),
            Err(source) => return Err(ReadError::Io { name, source }),
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Input { name, text }),
        Err(e) => {
            let bytes = e.as_bytes();
            let offset = e.utf8_error().valid_up_to();
            let fault = utf8_fault(bytes, offset);
            Err(ReadError::Utf8 { name, fault })
        }
    }
}

fn utf8_fault(bytes: &[u8], offset: usize) -> Utf8Fault {
    // The prefix up to `offset` is valid UTF-8 by definition of `valid_up_to`.
    let prefix = std::str::from_utf8(&bytes[..offset]).unwrap_or_default();
    let line_start = prefix.rfind('\n').map_or(0, |i| i + 1);
    Utf8Fault {
        offset,
        byte: bytes[offset],
        line: prefix.matches('\n').count() + 1,
        column: prefix[line_start..].chars().count() + 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_byte_is_placed() {
        let fault = utf8_fault(b"{\n  \"a\": \"\xC3\xA9\xFF\"}", 12);
        assert_eq!(
            fault,
            Utf8Fault {
                offset: 12,
                byte: 0xFF,
                line: 2,
                column: 10
            }
        );
    }
}
