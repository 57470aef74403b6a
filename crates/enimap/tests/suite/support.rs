//! Helpers shared by the test modules. They read the fixtures on their own
//! (with serde_json), independently of the crate's parser.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use enimap::EniMap;
use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;

/// `tests/fixtures/NAME`'s bytes.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A map of the given fixtures, added in order.
pub fn load(names: &[&str]) -> EniMap {
    let mut map = EniMap::default();
    for name in names {
        map.add_json(&fixture(name), name)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    map
}

/// Parses an address literal.
pub fn ip(text: &str) -> IpAddr {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// Every interface object of a describe-network-interfaces file (object
/// documents, bare arrays, concatenated), read with serde_json alone.
pub fn interfaces(bytes: &[u8]) -> Vec<Value> {
    let mut out = Vec::new();
    for document in serde_json::Deserializer::from_slice(bytes).into_iter::<Value>() {
        match document.expect("the fixture is JSON") {
            Value::Array(items) => out.extend(items),
            Value::Object(mut object) => match object.remove("NetworkInterfaces") {
                Some(Value::Array(items)) => out.extend(items),
                other => panic!("NetworkInterfaces is {other:?}"),
            },
            other => panic!("unexpected document {other}"),
        }
    }
    out
}

/// A string field of a JSON object, when present and non-empty.
pub fn text<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The addresses an interface holds, walked by hand.
pub fn addresses_of(eni: &Value) -> Vec<IpAddr> {
    let mut out = Vec::new();
    let mut push = |v: Option<&str>| {
        if let Some(v) = v {
            let a = ip(v);
            if !out.contains(&a) {
                out.push(a);
            }
        }
    };
    push(text(eni, "/PrivateIpAddress"));
    push(text(eni, "/Association/PublicIp"));
    push(text(eni, "/Ipv6Address"));
    for p in eni["PrivateIpAddresses"].as_array().into_iter().flatten() {
        push(text(p, "/PrivateIpAddress"));
        push(text(p, "/Association/PublicIp"));
    }
    for p in eni["Ipv6Addresses"].as_array().into_iter().flatten() {
        push(text(p, "/Ipv6Address"));
    }
    out
}

/// A JSON object's members in document order (serde_json's own `Map` may
/// sort them).
#[derive(Debug)]
pub struct Ordered(pub Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut members = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    members.push((k, v));
                }
                Ok(Ordered(members))
            }
        }
        deserializer.deserialize_map(V)
    }
}

impl Ordered {
    /// Parses a JSON object, keeping member order.
    pub fn parse(json: &str) -> Ordered {
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"))
    }

    /// The keys, in order.
    pub fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| k.as_str()).collect()
    }

    /// A member's value.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

/// `<shared>/data/aws/eni`, or `None` when the shared data is missing (see
/// the `shared-data` crate).
pub fn shared_eni_dir() -> Option<PathBuf> {
    shared_data::locate("aws/eni")
}
