//! Where a connector's local state lives: the one place that names the default paths.
//!
//! ```text
//! STATE_DIR/                         $XDG_STATE_HOME/kinesis-connector, else ~/.local/state/…
//!   <connector id>/
//!     checkpoints-<region>-<stream>.json   consume's checkpoints (and its .lock)
//!     dead-letter.ndjson                   consume's dead letters
//!     produce-dead-letter.ndjson           produce's dead letters
//!     produce-progress-<region>-<stream>-<hash of the input path>.json
//!                                          how far `produce --input FILE` got
//! ```

use kinesis_connector::Connector;
use std::path::{Path, PathBuf};

/// Which command a dead-letter file belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Consume,
    Produce,
}

/// The default state directory: `$XDG_STATE_HOME/kinesis-connector`, else
/// `~/.local/state/kinesis-connector`, else `./.kinesis-connector`.
pub fn default_state_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
        return Path::new(&dir).join("kinesis-connector");
    }
    if let Some(home) = std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        return Path::new(&home).join(".local/state/kinesis-connector");
    }
    PathBuf::from(".kinesis-connector")
}

/// `STATE_DIR/<connector id>`. Connector ids are letters, digits, '.', '-', '_' (validated), so
/// they make safe names.
pub fn connector_dir(state_dir: &Path, connector: &Connector) -> PathBuf {
    state_dir.join(&connector.id)
}

/// `STATE_DIR/<id>/checkpoints-<region>-<stream>.json`.
pub fn checkpoint_file(state_dir: &Path, connector: &Connector) -> PathBuf {
    connector_dir(state_dir, connector).join(format!(
        "checkpoints-{}-{}.json",
        connector.region.code(),
        connector.stream
    ))
}

/// `STATE_DIR/<id>/dead-letter.ndjson` (consume) or `…/produce-dead-letter.ndjson` (produce).
pub fn dead_letter_file(state_dir: &Path, connector: &Connector, side: Side) -> PathBuf {
    let name = match side {
        Side::Consume => "dead-letter.ndjson",
        Side::Produce => "produce-dead-letter.ndjson",
    };
    connector_dir(state_dir, connector).join(name)
}

/// `STATE_DIR/<id>/produce-progress-<region>-<stream>-<16 hex of MD5(input path)>.json`: one
/// record per input file (its canonical path) and stream.
pub fn progress_file(state_dir: &Path, connector: &Connector, input: &Path) -> PathBuf {
    use md5::{Digest, Md5};
    let digest = Md5::digest(input.as_os_str().as_encoded_bytes());
    let hash: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    connector_dir(state_dir, connector).join(format!(
        "produce-progress-{}-{}-{hash}.json",
        connector.region.code(),
        connector.stream
    ))
}
