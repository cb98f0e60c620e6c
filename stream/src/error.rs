//! What a command comes to: an `Outcome` when it ran to its end, an `Error` when it could not;
//! both know their exit code, so `main` only maps.

use crate::commands::report::ReadError;
use crate::consume::ConsumeError;
use crate::kinesis::StreamError;
use crate::method::MethodError;
use crate::produce::ProduceError;

pub const EXIT_OK: u8 = 0;
/// Invalid input or config; also dead letters, and a failed local write.
pub const EXIT_INVALID: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
/// The stream could not be reached, does not exist, or refused the credentials.
pub const EXIT_STREAM: u8 = 3;

/// How a command that ran to its end came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// The input was invalid (its issues were reported), or records were dead-lettered.
    Invalid,
    /// A check against the stream failed (`test`), or the stream failed part way (`produce`
    /// reports what it did first).
    StreamFailed,
}

impl Outcome {
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Ok => EXIT_OK,
            Outcome::Invalid => EXIT_INVALID,
            Outcome::StreamFailed => EXIT_STREAM,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Method(#[from] MethodError),
    #[error(transparent)]
    Stream(#[from] StreamError),
    #[error(transparent)]
    Consume(#[from] ConsumeError),
    #[error(transparent)]
    Produce(#[from] ProduceError),
    #[error("cannot write the output")]
    Output(#[source] std::io::Error),
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => EXIT_USAGE,
            Error::Method(e) => method_exit_code(e),
            Error::Stream(_) => EXIT_STREAM,
            Error::Consume(
                ConsumeError::Stream(_)
                | ConsumeError::Lease(_)
                | ConsumeError::Checkpoint(crate::checkpoint::CheckpointError::Lease { .. }),
            ) => EXIT_STREAM,
            Error::Consume(ConsumeError::MetricsAddr { .. }) => EXIT_USAGE,
            Error::Consume(ConsumeError::Method(e)) | Error::Produce(ProduceError::Method(e)) => {
                method_exit_code(e)
            }
            Error::Read(_)
            | Error::Output(_)
            | Error::Consume(ConsumeError::Checkpoint(_) | ConsumeError::Write(_))
            | Error::Produce(
                ProduceError::Input(_) | ProduceError::DeadLetter(_) | ProduceError::Progress(_),
            ) => EXIT_INVALID,
        }
    }
}

fn method_exit_code(error: &MethodError) -> u8 {
    match error {
        MethodError::NoMethodsDir(_) => EXIT_USAGE,
        _ => EXIT_INVALID,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinesis::ApiError;

    #[test]
    fn errors_map_to_their_exit_codes() {
        let unreachable = StreamError::Unreachable {
            stream: "s".into(),
            region: "us-east-1".into(),
            seconds: 3.0,
            last: ApiError::Transient("connection refused".into()),
        };
        assert_eq!(Error::Stream(unreachable.clone()).exit_code(), 3);
        assert_eq!(
            Error::Consume(ConsumeError::Stream(unreachable)).exit_code(),
            3
        );
        assert_eq!(
            Error::Method(MethodError::NoMethodsDir("m".into())).exit_code(),
            2
        );
        assert_eq!(
            Error::Method(MethodError::NoPreprocessor { id: "m".into() }).exit_code(),
            1
        );
        assert_eq!(Error::Usage("x".into()).exit_code(), 2);
        assert_eq!(Outcome::StreamFailed.exit_code(), 3);
        assert_eq!(Outcome::Invalid.exit_code(), 1);
    }
}
