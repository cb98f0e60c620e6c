//! The lease table's rows and operations, as KCL's `DynamoDBLeaseSerializer` and
//! `DynamoDBLeaseRefresher` define them, behind a trait so the protocol can be unit tested on a
//! fake. Every write that changes who may read a shard is conditional on `leaseCounter` (and,
//! for the holder's own writes, on `leaseOwner`) and moves the counter on by one.

use std::future::Future;

/// KCL's checkpoint column: a sequence number or one of its sentinels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    TrimHorizon,
    Latest,
    AtTimestamp,
    ShardEnd,
    Sequence(String),
}

impl Position {
    pub fn parse(text: &str) -> Self {
        match text {
            "TRIM_HORIZON" => Position::TrimHorizon,
            "LATEST" => Position::Latest,
            "AT_TIMESTAMP" => Position::AtTimestamp,
            "SHARD_END" => Position::ShardEnd,
            sequence => Position::Sequence(sequence.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Position::TrimHorizon => "TRIM_HORIZON",
            Position::Latest => "LATEST",
            Position::AtTimestamp => "AT_TIMESTAMP",
            Position::ShardEnd => "SHARD_END",
            Position::Sequence(sequence) => sequence,
        }
    }

    /// Reading has begun past the shard's start (a child that "has started", in KCL's terms).
    pub fn started(&self) -> bool {
        matches!(self, Position::Sequence(_) | Position::ShardEnd)
    }
}

/// One row of the lease table (the attributes this consumer reads; others stay untouched in the
/// table because every write after the first is an `UpdateItem` of named attributes only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// `leaseKey`: the shard id (single-stream tables).
    pub key: String,
    pub owner: Option<String>,
    pub counter: u64,
    pub owner_switches: u64,
    pub checkpoint: Position,
    pub sub_sequence: u64,
    pub pending_checkpoint: Option<String>,
    pub parents: Vec<String>,
    pub children: Vec<String>,
    pub hash_range: Option<(String, String)>,
}

impl Lease {
    /// A new row for a shard found by ListShards (counter 0, no owner).
    pub fn new(key: &str, parents: Vec<String>, checkpoint: Position) -> Self {
        Self {
            key: key.to_owned(),
            owner: None,
            counter: 0,
            owner_switches: 0,
            checkpoint,
            sub_sequence: 0,
            pending_checkpoint: None,
            parents,
            children: Vec::new(),
            hash_range: None,
        }
    }

    pub fn finished(&self) -> bool {
        self.checkpoint == Position::ShardEnd
    }
}

/// What a checkpoint write sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointUpdate {
    pub position: Position,
    pub sub_sequence: u64,
    /// Written with `SHARD_END` (KCL records the children it found at the end of a shard).
    pub children: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LeaseError {
    /// The condition failed: someone else took the lease (or it changed) since we last saw it.
    #[error("the lease changed under us (conditional check failed)")]
    Lost,
    #[error("lease table throttled: {0}")]
    Throttled(String),
    #[error("lease table unavailable: {0}")]
    Transient(String),
    #[error("lease table {0} does not exist")]
    NoTable(String),
    #[error("lease table credentials refused: {0}")]
    Credentials(String),
    #[error("lease table error: {0}")]
    Fatal(String),
}

impl LeaseError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, LeaseError::Throttled(_) | LeaseError::Transient(_))
    }
}

pub trait LeaseTable: Clone + Send + Sync + 'static {
    /// Creates the table (PAY_PER_REQUEST, KCL 3's `LeaseOwnerToLeaseKeyIndex`) when missing and
    /// waits until it is active.
    fn ensure_table(&self) -> impl Future<Output = Result<(), LeaseError>> + Send;
    /// Every row (a consistent scan, all pages).
    fn scan(&self) -> impl Future<Output = Result<Vec<Lease>, LeaseError>> + Send;
    /// Puts a new row unless one with this key exists; false when it did.
    fn create(&self, lease: &Lease) -> impl Future<Output = Result<bool, LeaseError>> + Send;
    /// `leaseCounter` + 1 if we still own the lease at `counter`.
    fn renew(
        &self,
        key: &str,
        owner: &str,
        counter: u64,
    ) -> impl Future<Output = Result<(), LeaseError>> + Send;
    /// Takes (or steals) the lease last seen at `counter` with `old_owner`: owner := `new_owner`,
    /// counter + 1, `ownerSwitchesSinceCheckpoint` + 1 when the owner changes.
    fn take(
        &self,
        key: &str,
        counter: u64,
        old_owner: Option<&str>,
        new_owner: &str,
    ) -> impl Future<Output = Result<(), LeaseError>> + Send;
    /// Gives the lease up: owner removed, counter + 1, if we own it at `counter`.
    fn release(
        &self,
        key: &str,
        owner: &str,
        counter: u64,
    ) -> impl Future<Output = Result<(), LeaseError>> + Send;
    /// Writes a checkpoint (and resets `ownerSwitchesSinceCheckpoint`), counter + 1, if we own the
    /// lease at `counter`.
    fn checkpoint(
        &self,
        key: &str,
        owner: &str,
        counter: u64,
        update: &CheckpointUpdate,
    ) -> impl Future<Output = Result<(), LeaseError>> + Send;
    /// Deletes a finished lease (only while its checkpoint is `SHARD_END`).
    fn delete_finished(&self, key: &str) -> impl Future<Output = Result<(), LeaseError>> + Send;
}
