//! De-aggregation of records written by the Kinesis Producer Library (KPL).
//!
//! An aggregated record is `MAGIC ++ protobuf(AggregatedRecord) ++ md5(protobuf)`. The protobuf
//! schema is tiny, so it is decoded by hand here rather than pulling in a protobuf runtime:
//!
//! ```text
//! message AggregatedRecord { repeated string partition_key_table = 1;
//!                            repeated string explicit_hash_key_table = 2;
//!                            repeated Record records = 3; }
//! message Record { required uint64 partition_key_index = 1; optional uint64 explicit_hash_key_index = 2;
//!                  required bytes data = 3; repeated Tag tags = 4; }
//! ```
//!
//! Like the KCL, a record that has the magic prefix but fails the MD5 check or does not decode
//! is passed on unchanged as one ordinary record: data is never dropped for looking odd.

use md5::{Digest, Md5};

/// The four bytes every KPL-aggregated record starts with.
pub const MAGIC: [u8; 4] = [0xF3, 0x89, 0x9A, 0xC2];
const DIGEST_LEN: usize = 16;

/// One user record inside an aggregated Kinesis record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord<'a> {
    pub partition_key: &'a str,
    pub data: &'a [u8],
}

/// Why a record with the magic prefix was not treated as aggregated.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KplError {
    #[error("md5 checksum does not match")]
    Checksum,
    #[error("malformed protobuf: {0}")]
    Protobuf(&'static str),
}

/// Is this payload (probably) KPL-aggregated? Cheap check on the prefix and length.
pub fn is_aggregated(data: &[u8]) -> bool {
    data.len() > MAGIC.len() + DIGEST_LEN && data[..MAGIC.len()] == MAGIC
}

/// Splits an aggregated record into its user records, checking the MD5 trailer first.
pub fn deaggregate(data: &[u8]) -> Result<Vec<UserRecord<'_>>, KplError> {
    if !is_aggregated(data) {
        return Err(KplError::Protobuf("missing magic prefix"));
    }
    let body = &data[MAGIC.len()..data.len() - DIGEST_LEN];
    let digest = &data[data.len() - DIGEST_LEN..];
    if Md5::digest(body).as_slice() != digest {
        return Err(KplError::Checksum);
    }
    decode_aggregated(body)
}

struct RawRecord<'a> {
    key_index: u64,
    data: &'a [u8],
}

fn decode_aggregated(body: &[u8]) -> Result<Vec<UserRecord<'_>>, KplError> {
    let mut keys: Vec<&str> = Vec::new();
    let mut raws: Vec<RawRecord<'_>> = Vec::new();
    let mut reader = Reader { buf: body };
    while !reader.is_empty() {
        let (field, wire) = reader.key()?;
        match (field, wire) {
            (1, WIRE_LEN) => {
                let bytes = reader.len_delimited()?;
                let key = std::str::from_utf8(bytes)
                    .map_err(|_| KplError::Protobuf("partition key is not utf-8"))?;
                keys.push(key);
            }
            (3, WIRE_LEN) => raws.push(decode_record(reader.len_delimited()?)?),
            _ => reader.skip(wire)?,
        }
    }
    raws.into_iter()
        .map(|raw| {
            let index = usize::try_from(raw.key_index)
                .map_err(|_| KplError::Protobuf("partition key index out of range"))?;
            let partition_key = keys
                .get(index)
                .copied()
                .ok_or(KplError::Protobuf("partition key index out of range"))?;
            Ok(UserRecord {
                partition_key,
                data: raw.data,
            })
        })
        .collect()
}

fn decode_record(buf: &[u8]) -> Result<RawRecord<'_>, KplError> {
    let mut reader = Reader { buf };
    let mut key_index = None;
    let mut data = None;
    while !reader.is_empty() {
        let (field, wire) = reader.key()?;
        match (field, wire) {
            (1, WIRE_VARINT) => key_index = Some(reader.varint()?),
            (3, WIRE_LEN) => data = Some(reader.len_delimited()?),
            _ => reader.skip(wire)?,
        }
    }
    Ok(RawRecord {
        key_index: key_index.ok_or(KplError::Protobuf("record without partition key index"))?,
        data: data.ok_or(KplError::Protobuf("record without data"))?,
    })
}

const WIRE_VARINT: u8 = 0;
const WIRE_I64: u8 = 1;
const WIRE_LEN: u8 = 2;
const WIRE_I32: u8 = 5;

struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    fn varint(&mut self) -> Result<u64, KplError> {
        let mut value: u64 = 0;
        for (i, &byte) in self.buf.iter().enumerate().take(10) {
            value |= u64::from(byte & 0x7F) << (7 * i);
            if byte & 0x80 == 0 {
                self.buf = &self.buf[i + 1..];
                return Ok(value);
            }
        }
        Err(KplError::Protobuf("truncated varint"))
    }

    fn key(&mut self) -> Result<(u64, u8), KplError> {
        let key = self.varint()?;
        // The low three bits are the wire type, so the cast cannot lose information.
        Ok((key >> 3, (key & 7) as u8))
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], KplError> {
        if len > self.buf.len() {
            return Err(KplError::Protobuf("truncated field"));
        }
        let (head, tail) = self.buf.split_at(len);
        self.buf = tail;
        Ok(head)
    }

    fn len_delimited(&mut self) -> Result<&'a [u8], KplError> {
        let len =
            usize::try_from(self.varint()?).map_err(|_| KplError::Protobuf("length overflow"))?;
        self.take(len)
    }

    fn skip(&mut self, wire: u8) -> Result<(), KplError> {
        match wire {
            WIRE_VARINT => self.varint().map(drop),
            WIRE_I64 => self.take(8).map(drop),
            WIRE_LEN => self.len_delimited().map(drop),
            WIRE_I32 => self.take(4).map(drop),
            _ => Err(KplError::Protobuf("unsupported wire type")),
        }
    }
}

/// Builds an aggregated record (used by tests and benchmarks; `produce` will use it to aggregate).
pub fn aggregate<'a>(records: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Vec<u8> {
    let mut keys: Vec<&str> = Vec::new();
    let mut body = Vec::new();
    let mut record_bodies = Vec::new();
    for (key, data) in records {
        let index = keys.iter().position(|k| *k == key).unwrap_or_else(|| {
            keys.push(key);
            keys.len() - 1
        });
        let mut rec = Vec::new();
        put_varint(&mut rec, 1 << 3);
        put_varint(&mut rec, index as u64);
        put_varint(&mut rec, (3 << 3) | u64::from(WIRE_LEN));
        put_varint(&mut rec, data.len() as u64);
        rec.extend_from_slice(data);
        record_bodies.push(rec);
    }
    for key in &keys {
        put_varint(&mut body, (1 << 3) | u64::from(WIRE_LEN));
        put_varint(&mut body, key.len() as u64);
        body.extend_from_slice(key.as_bytes());
    }
    for rec in &record_bodies {
        put_varint(&mut body, (3 << 3) | u64::from(WIRE_LEN));
        put_varint(&mut body, rec.len() as u64);
        body.extend_from_slice(rec);
    }
    let mut out = Vec::with_capacity(MAGIC.len() + body.len() + DIGEST_LEN);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&body);
    out.extend_from_slice(Md5::digest(&body).as_slice());
    out
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let data = aggregate([("a", &b"{\"x\":1}"[..]), ("b", b"two"), ("a", b"three")]);
        assert!(is_aggregated(&data));
        let records = deaggregate(&data).expect("decodes");
        assert_eq!(
            records,
            vec![
                UserRecord {
                    partition_key: "a",
                    data: b"{\"x\":1}"
                },
                UserRecord {
                    partition_key: "b",
                    data: b"two"
                },
                UserRecord {
                    partition_key: "a",
                    data: b"three"
                },
            ]
        );
    }

    #[test]
    fn bad_checksum_is_rejected() {
        let mut data = aggregate([("a", &b"x"[..])]);
        let last = data.len() - 1;
        data[last] ^= 1;
        assert_eq!(deaggregate(&data), Err(KplError::Checksum));
    }

    #[test]
    fn plain_data_is_not_aggregated() {
        assert!(!is_aggregated(b"{\"a\":1}"));
        assert!(!is_aggregated(&MAGIC));
    }

    #[test]
    fn truncated_protobuf_is_an_error() {
        let body = [0x0A, 0x05, b'a'];
        let mut data = MAGIC.to_vec();
        data.extend_from_slice(&body);
        data.extend_from_slice(Md5::digest(body).as_slice());
        assert!(matches!(deaggregate(&data), Err(KplError::Protobuf(_))));
    }
}
