//! `consume --metrics-addr HOST:PORT`: Prometheus text metrics for a fleet of workers
//! (`prometheus-client` for the registry and the text format; the HTTP side is a few lines on
//! tokio: every request gets the current exposition, whatever its path).

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info};

type Labels = Vec<(String, String)>;

/// The consumer's metrics; cheap to clone (one shared registry). A default value records into a
/// registry nobody serves.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    leases_held: Gauge,
    leases_gained: Counter,
    records: Family<Labels, Counter>,
    bytes: Family<Labels, Counter>,
    millis_behind_latest: Family<Labels, Gauge>,
    checkpoints: Counter,
    conditional_failures: Counter,
    throttles: Counter,
    requests: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

fn shard(id: &str) -> Labels {
    vec![("shard_id".to_owned(), id.to_owned())]
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("kinesis_connector");
        let leases_held = Gauge::default();
        let leases_gained = Counter::default();
        let records = Family::<Labels, Counter>::default();
        let bytes = Family::<Labels, Counter>::default();
        let millis_behind_latest = Family::<Labels, Gauge>::default();
        let checkpoints = Counter::default();
        let conditional_failures = Counter::default();
        let throttles = Counter::default();
        let requests = Counter::default();
        registry.register(
            "leases_held",
            "Leases this worker holds now",
            leases_held.clone(),
        );
        registry.register(
            "leases_gained",
            "Leases taken or stolen by this worker",
            leases_gained.clone(),
        );
        registry.register(
            "records_read",
            "Kinesis records read, per shard",
            records.clone(),
        );
        registry.register(
            "bytes_read",
            "Kinesis record bytes read, per shard",
            bytes.clone(),
        );
        registry.register(
            "millis_behind_latest",
            "MillisBehindLatest of the last GetRecords page or fan-out event, per shard",
            millis_behind_latest.clone(),
        );
        registry.register(
            "checkpoints_written",
            "Checkpoints written to the lease table",
            checkpoints.clone(),
        );
        registry.register(
            "conditional_check_failures",
            "Lease table writes refused by their condition (a lease moved)",
            conditional_failures.clone(),
        );
        registry.register(
            "throttles",
            "Lease table requests throttled",
            throttles.clone(),
        );
        registry.register(
            "lease_table_requests",
            "Requests this worker sent to the lease table",
            requests.clone(),
        );
        Self {
            inner: Arc::new(Inner {
                registry,
                leases_held,
                leases_gained,
                records,
                bytes,
                millis_behind_latest,
                checkpoints,
                conditional_failures,
                throttles,
                requests,
            }),
        }
    }

    pub fn set_held(&self, count: usize) {
        self.inner.leases_held.set(count as i64);
    }

    pub fn lease_gained(&self) {
        self.inner.leases_gained.inc();
    }

    pub fn read(&self, shard_id: &str, records: u64, bytes: u64) {
        let labels = shard(shard_id);
        self.inner.records.get_or_create(&labels).inc_by(records);
        self.inner.bytes.get_or_create(&labels).inc_by(bytes);
    }

    pub fn lag(&self, shard_id: &str, millis: i64) {
        self.inner
            .millis_behind_latest
            .get_or_create(&shard(shard_id))
            .set(millis);
    }

    pub fn checkpoint_written(&self) {
        self.inner.checkpoints.inc();
    }

    pub fn conditional_failure(&self) {
        self.inner.conditional_failures.inc();
    }

    pub fn table_request(&self) {
        self.inner.requests.inc();
    }

    pub fn throttled(&self) {
        self.inner.throttles.inc();
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.inner.registry).is_err() {
            text.clear();
        }
        text
    }

    /// Serves the metrics on `listener` until `stop`.
    pub async fn serve(self, listener: tokio::net::TcpListener, stop: CancellationToken) {
        if let Ok(addr) = listener.local_addr() {
            info!(%addr, "serving Prometheus metrics");
        }
        loop {
            let accepted = tokio::select! {
                _ = stop.cancelled() => return,
                accepted = listener.accept() => accepted,
            };
            let Ok((mut socket, _)) = accepted else {
                continue;
            };
            let body = self.render();
            tokio::spawn(async move {
                // Read the request head (it is not needed beyond being a request).
                let mut buffer = [0u8; 2048];
                let _ = tokio::time::timeout(
                    std::time::Duration::from_secs(2),
                    socket.read(&mut buffer),
                )
                .await;
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                if let Err(error) = socket.write_all(response.as_bytes()).await {
                    debug!(error = %error, "metrics client went away");
                }
                let _ = socket.shutdown().await;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_names_every_metric_with_its_shard() {
        let metrics = Metrics::new();
        metrics.set_held(2);
        metrics.read("shardId-000000000001", 3, 120);
        metrics.lag("shardId-000000000001", 0);
        metrics.checkpoint_written();
        metrics.conditional_failure();
        let text = metrics.render();
        assert!(text.contains("kinesis_connector_leases_held 2"), "{text}");
        assert!(
            text.contains(
                "kinesis_connector_records_read_total{shard_id=\"shardId-000000000001\"} 3"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "kinesis_connector_bytes_read_total{shard_id=\"shardId-000000000001\"} 120"
            ),
            "{text}"
        );
        assert!(
            text.contains("kinesis_connector_checkpoints_written_total 1"),
            "{text}"
        );
        assert!(
            text.contains("kinesis_connector_conditional_check_failures_total 1"),
            "{text}"
        );
        assert!(
            text.contains("kinesis_connector_throttles_total 0"),
            "{text}"
        );
    }
}
