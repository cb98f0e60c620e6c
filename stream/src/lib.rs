//! The native streaming side of kinesis-connector.
pub mod backoff;
pub mod checkpoint;
pub mod kpl;
pub mod method;
pub mod ratelimit;
