fn main() {
    let text = r#"{"type":"aws-kinesis","id":"dc.kinesis.1","credentials":{"user":"AKIAIOSFODNN7EXAMPLE","password":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},"region":"us-west-2","stream":"test","shards":1,"maxRecordsPerShardPerSecond":1000,"maxBytesPerShardPerSecond":1000000,"disabled":false}"#;
    let ctx = kinesis_connector::Context::default();
    for round in 0..3 {
        let n: u32 = std::env::var("N").ok().and_then(|v| v.parse().ok()).unwrap_or(200_000);
        let t = std::time::Instant::now();
        let mut total = 0;
        for _ in 0..n {
            let r = kinesis_connector::validate_create_json(text, &ctx);
            total += serde_json::to_vec(&r).unwrap().len();
        }
        println!("round {round}: {:?}/call ({total})", t.elapsed() / n);
    }
}
