//! What must hold for the KPL de-aggregator on any bytes (fuzz target `kpl`, and the kept inputs
//! in stream/tests/kpl_regressions.rs). The including crate provides `kpl` at its root.

use crate::kpl::{aggregate, deaggregate, KplError, MAGIC};
use md5::{Digest, Md5};

pub fn kpl(data: &[u8]) {
    // Arbitrary bytes, as a record off the stream.
    let _ = deaggregate(data);
    // The same bytes as a body with a good prefix and checksum: the protobuf decoder is reached.
    let mut framed = MAGIC.to_vec();
    framed.extend_from_slice(data);
    framed.extend_from_slice(Md5::digest(data).as_slice());
    match deaggregate(&framed) {
        Ok(records) => {
            for r in &records {
                assert!(r.data.len() <= data.len(), "a record longer than its input");
            }
        }
        Err(KplError::Checksum) => panic!("a good checksum was refused"),
        Err(KplError::Protobuf(_)) => {}
    }
    // Records cut from the input aggregate and come back unchanged.
    let mut records = Vec::new();
    let mut rest = data;
    while !rest.is_empty() && records.len() < 64 {
        let n = usize::from(rest[0] % 16).min(rest.len() - 1);
        let (head, tail) = rest[1..].split_at(n);
        let key = if rest[0] & 0x80 == 0 { "pk-a" } else { "pk-b" };
        records.push((key, head));
        rest = tail;
    }
    if !records.is_empty() {
        let blob = aggregate(records.iter().copied());
        let back = deaggregate(&blob).expect("an aggregate we built decodes");
        let back: Vec<(&str, &[u8])> = back.iter().map(|r| (r.partition_key, r.data)).collect();
        assert_eq!(back, records, "aggregate/deaggregate round trip");
    }
}
