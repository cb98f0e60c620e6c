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
#[error("cannot read {name}")]
pub struct ReadError {
    name: String,
    #[source]
    source: std::io::Error,
}

impl ReadError {
    pub fn new(name: String, source: std::io::Error) -> Self {
        Self { name, source }
    }
}

pub fn read_input(path: &Path) -> Result<Input, ReadError> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|source| ReadError {
                name: "<stdin>".into(),
                source,
            })?;
        return Ok(Input {
            name: "<stdin>".into(),
            text,
        });
    }
    let name = path.display().to_string();
    std::fs::read_to_string(path)
        .map(|text| Input {
            name: name.clone(),
            text,
        })
        .map_err(|source| ReadError { name, source })
}
