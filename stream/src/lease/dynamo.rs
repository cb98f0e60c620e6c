//! The lease table in DynamoDB through the official SDK, in KCL's format: the serializer
//! (`Lease` ⇄ item, attribute names and types exactly as KCL writes them) and the conditional
//! writes of `DynamoDBLeaseRefresher`. Only `create` writes a whole item (and only when no item
//! has the key); every other write is an `UpdateItem` that names its attributes, so attributes
//! this consumer does not know (KCL 3's `leaseOwner` index columns, throughput stats, ...) are
//! kept.

use super::table::{CheckpointUpdate, Lease, LeaseError, LeaseTable, Position};
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, ScalarAttributeType, TableStatus,
};
use std::collections::HashMap;
use std::time::Duration;

pub const LEASE_KEY: &str = "leaseKey";
pub const LEASE_OWNER: &str = "leaseOwner";
pub const LEASE_COUNTER: &str = "leaseCounter";
pub const OWNER_SWITCHES: &str = "ownerSwitchesSinceCheckpoint";
pub const CHECKPOINT: &str = "checkpoint";
pub const CHECKPOINT_SUB: &str = "checkpointSubSequenceNumber";
pub const PENDING_CHECKPOINT: &str = "pendingCheckpoint";
pub const PENDING_CHECKPOINT_SUB: &str = "pendingCheckpointSubSequenceNumber";
pub const PARENT_SHARD_ID: &str = "parentShardId";
pub const CHILD_SHARD_IDS: &str = "childShardIds";
pub const STARTING_HASH_KEY: &str = "startingHashKey";
pub const ENDING_HASH_KEY: &str = "endingHashKey";
/// KCL 3's index from owner to its leases.
pub const OWNER_INDEX: &str = "LeaseOwnerToLeaseKeyIndex";

type Item = HashMap<String, AttributeValue>;

#[derive(Debug, Clone)]
pub struct DynamoLeaseTable {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoLeaseTable {
    pub fn new(client: aws_sdk_dynamodb::Client, table: &str) -> Self {
        Self {
            client,
            table: table.to_owned(),
        }
    }

    pub fn name(&self) -> &str {
        &self.table
    }

    async fn update(
        &self,
        key: &str,
        update: &str,
        condition: &str,
        values: Vec<(&str, AttributeValue)>,
    ) -> Result<(), LeaseError> {
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(LEASE_KEY, s(key))
            .update_expression(update)
            .condition_expression(condition);
        for (name, value) in values {
            request = request.expression_attribute_values(name, value);
        }
        request.send().await.map_err(classify)?;
        Ok(())
    }
}

fn s(text: &str) -> AttributeValue {
    AttributeValue::S(text.to_owned())
}

fn n(number: u64) -> AttributeValue {
    AttributeValue::N(number.to_string())
}

/// A lease as KCL's serializer writes it.
pub fn to_item(lease: &Lease) -> Item {
    let mut item = Item::new();
    item.insert(LEASE_KEY.into(), s(&lease.key));
    item.insert(LEASE_COUNTER.into(), n(lease.counter));
    if let Some(owner) = &lease.owner {
        item.insert(LEASE_OWNER.into(), s(owner));
    }
    item.insert(OWNER_SWITCHES.into(), n(lease.owner_switches));
    item.insert(CHECKPOINT.into(), s(lease.checkpoint.as_str()));
    item.insert(CHECKPOINT_SUB.into(), n(lease.sub_sequence));
    if !lease.parents.is_empty() {
        item.insert(
            PARENT_SHARD_ID.into(),
            AttributeValue::Ss(lease.parents.clone()),
        );
    }
    if !lease.children.is_empty() {
        item.insert(
            CHILD_SHARD_IDS.into(),
            AttributeValue::Ss(lease.children.clone()),
        );
    }
    if let Some(pending) = &lease.pending_checkpoint {
        item.insert(PENDING_CHECKPOINT.into(), s(pending));
    }
    if let Some((start, end)) = &lease.hash_range {
        item.insert(STARTING_HASH_KEY.into(), s(start));
        item.insert(ENDING_HASH_KEY.into(), s(end));
    }
    item
}

/// A lease from a table item; `None` for an item that is not a lease (no `leaseKey`).
pub fn from_item(item: &Item) -> Option<Lease> {
    let string = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    let number = |name: &str| {
        item.get(name)
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let set = |name: &str| {
        item.get(name)
            .and_then(|v| v.as_ss().ok())
            .cloned()
            .unwrap_or_default()
    };
    let key = string(LEASE_KEY)?;
    let hash_range = string(STARTING_HASH_KEY).zip(string(ENDING_HASH_KEY));
    Some(Lease {
        key,
        owner: string(LEASE_OWNER).filter(|o| !o.is_empty()),
        counter: number(LEASE_COUNTER),
        owner_switches: number(OWNER_SWITCHES),
        checkpoint: string(CHECKPOINT)
            .map(|c| Position::parse(&c))
            .unwrap_or(Position::TrimHorizon),
        sub_sequence: number(CHECKPOINT_SUB),
        pending_checkpoint: string(PENDING_CHECKPOINT).filter(|p| !p.is_empty()),
        parents: set(PARENT_SHARD_ID),
        children: set(CHILD_SHARD_IDS),
        hash_range,
    })
}

fn classify<E, R>(err: SdkError<E, R>) -> LeaseError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match &err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let code = e.code().unwrap_or("Unknown");
            let message = format!("{code}: {}", e.message().unwrap_or("no message"));
            match code {
                "ConditionalCheckFailedException" => LeaseError::Lost,
                "ProvisionedThroughputExceededException"
                | "ThrottlingException"
                | "RequestLimitExceeded"
                | "LimitExceededException" => LeaseError::Throttled(message),
                "ResourceNotFoundException" => LeaseError::NoTable(message),
                "UnrecognizedClientException"
                | "InvalidSignatureException"
                | "MissingAuthenticationToken"
                | "ExpiredTokenException"
                | "AccessDeniedException" => LeaseError::Credentials(message),
                "InternalServerError"
                | "InternalFailure"
                | "ServiceUnavailable"
                | "ResourceInUseException"
                | "TransactionConflictException" => LeaseError::Transient(message),
                _ => LeaseError::Fatal(message),
            }
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            LeaseError::Transient(format!(
                "{}",
                aws_sdk_dynamodb::error::DisplayErrorContext(&err)
            ))
        }
        _ => LeaseError::Fatal(format!(
            "{}",
            aws_sdk_dynamodb::error::DisplayErrorContext(&err)
        )),
    }
}

impl LeaseTable for DynamoLeaseTable {
    async fn ensure_table(&self) -> Result<(), LeaseError> {
        let described = self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await;
        match described.map_err(classify) {
            Ok(_) => {}
            Err(LeaseError::NoTable(_)) => {
                let attribute = |name: &str| {
                    AttributeDefinition::builder()
                        .attribute_name(name)
                        .attribute_type(ScalarAttributeType::S)
                        .build()
                        .map_err(|e| LeaseError::Fatal(e.to_string()))
                };
                let key = |name: &str, kind| {
                    KeySchemaElement::builder()
                        .attribute_name(name)
                        .key_type(kind)
                        .build()
                        .map_err(|e| LeaseError::Fatal(e.to_string()))
                };
                let index = GlobalSecondaryIndex::builder()
                    .index_name(OWNER_INDEX)
                    .key_schema(key(LEASE_OWNER, KeyType::Hash)?)
                    .key_schema(key(LEASE_KEY, KeyType::Range)?)
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::KeysOnly)
                            .build(),
                    )
                    .build()
                    .map_err(|e| LeaseError::Fatal(e.to_string()))?;
                let created = self
                    .client
                    .create_table()
                    .table_name(&self.table)
                    .attribute_definitions(attribute(LEASE_KEY)?)
                    .attribute_definitions(attribute(LEASE_OWNER)?)
                    .key_schema(key(LEASE_KEY, KeyType::Hash)?)
                    .global_secondary_indexes(index)
                    .billing_mode(BillingMode::PayPerRequest)
                    .send()
                    .await
                    .map_err(classify);
                match created {
                    // Another worker created it at the same time.
                    Ok(_) | Err(LeaseError::Transient(_)) => {}
                    Err(error) => return Err(error),
                }
            }
            Err(error) => return Err(error),
        }
        // Wait until the table is ACTIVE (DynamoDB creates tables asynchronously).
        for _ in 0..600 {
            let out = self
                .client
                .describe_table()
                .table_name(&self.table)
                .send()
                .await
                .map_err(classify);
            match out {
                Ok(out) => {
                    let status = out.table().and_then(|t| t.table_status());
                    if status == Some(&TableStatus::Active) {
                        return Ok(());
                    }
                }
                Err(LeaseError::NoTable(_)) => {}
                Err(error) => return Err(error),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(LeaseError::Transient(format!(
            "table {} did not become ACTIVE within 60 s",
            self.table
        )))
    }

    async fn scan(&self) -> Result<Vec<Lease>, LeaseError> {
        let mut leases = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let out = self
                .client
                .scan()
                .table_name(&self.table)
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(classify)?;
            leases.extend(out.items().iter().filter_map(from_item));
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(leases),
            }
        }
    }

    async fn create(&self, lease: &Lease) -> Result<bool, LeaseError> {
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(lease)))
            .condition_expression("attribute_not_exists(leaseKey)")
            .send()
            .await
            .map_err(classify);
        match put {
            Ok(_) => Ok(true),
            Err(LeaseError::Lost) => Ok(false),
            Err(error) => Err(error),
        }
    }

    async fn renew(&self, key: &str, owner: &str, counter: u64) -> Result<(), LeaseError> {
        self.update(
            key,
            "SET leaseCounter = :next",
            "leaseCounter = :counter AND leaseOwner = :owner",
            vec![
                (":next", n(counter + 1)),
                (":counter", n(counter)),
                (":owner", s(owner)),
            ],
        )
        .await
    }

    async fn take(
        &self,
        key: &str,
        counter: u64,
        old_owner: Option<&str>,
        new_owner: &str,
    ) -> Result<(), LeaseError> {
        let switches = old_owner.is_some_and(|old| old != new_owner);
        let update = if switches {
            "SET leaseCounter = :next, leaseOwner = :owner ADD ownerSwitchesSinceCheckpoint :one"
        } else {
            "SET leaseCounter = :next, leaseOwner = :owner"
        };
        let mut values = vec![
            (":next", n(counter + 1)),
            (":counter", n(counter)),
            (":owner", s(new_owner)),
        ];
        if switches {
            values.push((":one", n(1)));
        }
        self.update(key, update, "leaseCounter = :counter", values)
            .await
    }

    async fn release(&self, key: &str, owner: &str, counter: u64) -> Result<(), LeaseError> {
        self.update(
            key,
            "SET leaseCounter = :next REMOVE leaseOwner",
            "leaseCounter = :counter AND leaseOwner = :owner",
            vec![
                (":next", n(counter + 1)),
                (":counter", n(counter)),
                (":owner", s(owner)),
            ],
        )
        .await
    }

    async fn checkpoint(
        &self,
        key: &str,
        owner: &str,
        counter: u64,
        update: &CheckpointUpdate,
    ) -> Result<(), LeaseError> {
        let mut expression = format!(
            "SET leaseCounter = :next, {CHECKPOINT} = :checkpoint, {CHECKPOINT_SUB} = :sub, \
             {OWNER_SWITCHES} = :zero"
        );
        let mut values = vec![
            (":next", n(counter + 1)),
            (":counter", n(counter)),
            (":owner", s(owner)),
            (":checkpoint", s(update.position.as_str())),
            (":sub", n(update.sub_sequence)),
            (":zero", n(0)),
        ];
        if !update.children.is_empty() {
            expression.push_str(&format!(", {CHILD_SHARD_IDS} = :children"));
            values.push((":children", AttributeValue::Ss(update.children.clone())));
        }
        expression.push_str(&format!(
            " REMOVE {PENDING_CHECKPOINT}, {PENDING_CHECKPOINT_SUB}"
        ));
        self.update(
            key,
            &expression,
            "leaseCounter = :counter AND leaseOwner = :owner",
            values,
        )
        .await
    }

    async fn delete_finished(&self, key: &str) -> Result<(), LeaseError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(LEASE_KEY, s(key))
            .condition_expression("checkpoint = :end")
            .expression_attribute_values(":end", s("SHARD_END"))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kcl_item_reads_as_a_lease_and_writes_back_with_the_same_names_and_types() {
        let mut item = Item::new();
        item.insert("leaseKey".into(), s("shardId-000000000003"));
        item.insert("leaseOwner".into(), s("kcl-worker-1"));
        item.insert("leaseCounter".into(), n(42));
        item.insert("ownerSwitchesSinceCheckpoint".into(), n(1));
        item.insert(
            "checkpoint".into(),
            s("49650000000000000000000000000000000001"),
        );
        item.insert("checkpointSubSequenceNumber".into(), n(3));
        item.insert(
            "parentShardId".into(),
            AttributeValue::Ss(vec!["shardId-000000000000".into()]),
        );
        item.insert("startingHashKey".into(), s("0"));
        item.insert(
            "endingHashKey".into(),
            s("170141183460469231731687303715884105727"),
        );
        let lease = from_item(&item).expect("a lease");
        assert_eq!(lease.owner.as_deref(), Some("kcl-worker-1"));
        assert_eq!(lease.counter, 42);
        assert_eq!(
            lease.checkpoint,
            Position::Sequence("49650000000000000000000000000000000001".into())
        );
        assert_eq!(lease.sub_sequence, 3);
        assert_eq!(lease.parents, vec!["shardId-000000000000".to_string()]);
        assert_eq!(to_item(&lease), item);
    }

    #[test]
    fn sentinels_round_trip() {
        for text in [
            "TRIM_HORIZON",
            "LATEST",
            "AT_TIMESTAMP",
            "SHARD_END",
            "4960",
        ] {
            assert_eq!(Position::parse(text).as_str(), text);
        }
        assert!(Position::ShardEnd.started());
        assert!(!Position::TrimHorizon.started());
    }
}
