//! The produce loop against a fake Kinesis, on tokio's paused clock.
#![allow(clippy::unwrap_used, reason = "tests")]
