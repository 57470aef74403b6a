//! Reading describe-network-interfaces output: the raw shapes, the accepted
//! document forms, and the text encodings.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::Error;

/// One `NetworkInterface` as the API returns it: only the fields enimap uses;
/// the rest are ignored. `null` is accepted wherever a value may be absent.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RawEni {
    pub network_interface_id: Option<String>,
    pub interface_type: Option<String>,
    pub description: Option<String>,
    pub requester_id: Option<String>,
    pub owner_id: Option<String>,
    pub status: Option<String>,
    pub vpc_id: Option<String>,
    pub subnet_id: Option<String>,
    pub availability_zone: Option<String>,
    pub private_ip_address: Option<String>,
    pub private_ip_addresses: Option<Vec<RawPrivateIp>>,
    pub ipv6_address: Option<String>,
    pub ipv6_addresses: Option<Vec<RawIpv6>>,
    pub ipv4_prefixes: Option<Vec<RawIpv4Prefix>>,
    pub ipv6_prefixes: Option<Vec<RawIpv6Prefix>>,
    pub association: Option<RawAssociation>,
    pub attachment: Option<RawAttachment>,
    pub groups: Option<Vec<RawGroup>>,
    #[serde(alias = "Tags")]
    pub tag_set: Option<Vec<RawTag>>,
}

/// `PrivateIpAddresses[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RawPrivateIp {
    pub private_ip_address: Option<String>,
    pub association: Option<RawAssociation>,
}

/// `Association` (of the interface or of one private address).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RawAssociation {
    pub public_ip: Option<String>,
    pub carrier_ip: Option<String>,
    pub customer_owned_ip: Option<String>,
}

/// `Ipv6Addresses[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RawIpv6 {
    pub ipv6_address: Option<String>,
}

/// `Ipv4Prefixes[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RawIpv4Prefix {
    pub ipv4_prefix: Option<String>,
}

/// `Ipv6Prefixes[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RawIpv6Prefix {
    pub ipv6_prefix: Option<String>,
}

/// `Attachment`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RawAttachment {
    pub instance_id: Option<String>,
    pub instance_owner_id: Option<String>,
}

/// `Groups[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RawGroup {
    pub group_id: Option<String>,
}

/// `TagSet[]`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RawTag {
    pub key: Option<String>,
    pub value: Option<String>,
}

/// One JSON document of the file: `{"NetworkInterfaces":[…],…}` or a bare
/// array of interfaces (`--query NetworkInterfaces`).
#[derive(Debug)]
pub(crate) struct Page(pub Vec<RawEni>);

impl<'de> Deserialize<'de> for Page {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(PageVisitor)
    }
}

struct PageVisitor;

impl<'de> Visitor<'de> for PageVisitor {
    type Value = Page;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "describe-network-interfaces output (an object with a NetworkInterfaces array, \
             or an array of network interfaces)",
        )
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Page, A::Error> {
        let mut enis = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(eni) = seq.next_element::<RawEni>()? {
            enis.push(eni);
        }
        Ok(Page(enis))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Page, A::Error> {
        let mut enis = None;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key == "NetworkInterfaces" {
                if enis.is_some() {
                    return Err(de::Error::duplicate_field("NetworkInterfaces"));
                }
                enis = Some(map.next_value::<Vec<RawEni>>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        enis.map(Page).ok_or_else(|| {
            de::Error::custom(
                "the object has no \"NetworkInterfaces\" key, so it is not \
                 describe-network-interfaces output",
            )
        })
    }
}

/// The file as UTF-8 text: a UTF-8 byte-order mark is dropped, and UTF-16
/// with a byte-order mark (what Windows PowerShell's `>` writes) is decoded.
pub(crate) fn text<'a>(bytes: &'a [u8], file: &str) -> Result<Cow<'a, [u8]>, Error> {
    let big_endian = match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => return Ok(Cow::Borrowed(rest)),
        [0xFF, 0xFE, ..] => false,
        [0xFE, 0xFF, ..] => true,
        _ => return Ok(Cow::Borrowed(bytes)),
    };
    let body = &bytes[2..];
    if !body.len().is_multiple_of(2) {
        return Err(Error::Utf16 {
            file: file.to_owned(),
            detail: "odd number of bytes".to_owned(),
        });
    }
    let units = body.chunks_exact(2).map(|pair| {
        let pair = [pair[0], pair[1]];
        if big_endian {
            u16::from_be_bytes(pair)
        } else {
            u16::from_le_bytes(pair)
        }
    });
    let mut out = String::with_capacity(body.len() / 2);
    for (i, c) in char::decode_utf16(units).enumerate() {
        match c {
            Ok(c) => out.push(c),
            Err(e) => {
                return Err(Error::Utf16 {
                    file: file.to_owned(),
                    detail: format!(
                        "unpaired surrogate {:#06x} at byte {}",
                        e.unpaired_surrogate(),
                        2 + 2 * i
                    ),
                });
            }
        }
    }
    Ok(Cow::Owned(out.into_bytes()))
}

/// Every document of the file, with its 1-based number.
pub(crate) fn pages(bytes: &[u8], file: &str) -> Result<Vec<Page>, Error> {
    let mut pages = Vec::new();
    for page in serde_json::Deserializer::from_slice(bytes).into_iter::<Page>() {
        pages.push(page.map_err(|source| Error::Json {
            file: file.to_owned(),
            source,
        })?);
    }
    if pages.is_empty() {
        return Err(Error::Empty {
            file: file.to_owned(),
        });
    }
    Ok(pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_object_array_and_concatenation() {
        let pages = pages(
            br#"{"NetworkInterfaces":[{"NetworkInterfaceId":"eni-1"}],"NextToken":"x"}
                [{"NetworkInterfaceId":"eni-2"},{"NetworkInterfaceId":"eni-3"}]{"NetworkInterfaces":[]}"#,
            "f",
        )
        .unwrap();
        let counts: Vec<usize> = pages.iter().map(|p| p.0.len()).collect();
        assert_eq!(counts, [1, 2, 0]);
    }

    #[test]
    fn rejects_other_json() {
        let e = pages(br#"{"prefixes":[]}"#, "f").unwrap_err().to_string();
        assert!(
            e.starts_with("f: the object has no \"NetworkInterfaces\" key"),
            "{e}"
        );
        assert!(e.contains("line 1 column 15"), "{e}");
        let e = pages(b"42", "f").unwrap_err().to_string();
        assert!(
            e.contains("invalid type: integer `42`, expected describe-network-interfaces output"),
            "{e}"
        );
        let e = pages(br#"{"NetworkInterfaces":[],"NetworkInterfaces":[]}"#, "f")
            .unwrap_err()
            .to_string();
        assert!(e.contains("duplicate field `NetworkInterfaces`"), "{e}");
    }

    #[test]
    fn empty_and_whitespace() {
        for input in [&b""[..], b" \n\t\r\n"] {
            let e = pages(input, "x.json").unwrap_err().to_string();
            assert_eq!(
                e,
                "x.json: holds no describe-network-interfaces output (it is empty or blank)"
            );
        }
    }

    #[test]
    fn decodes_bom_and_utf16() {
        let json = r#"{"NetworkInterfaces":[{"NetworkInterfaceId":"eni-é"}]}"#;
        let mut utf8 = vec![0xEF, 0xBB, 0xBF];
        utf8.extend_from_slice(json.as_bytes());
        let mut le = vec![0xFF, 0xFE];
        let mut be = vec![0xFE, 0xFF];
        for unit in json.encode_utf16() {
            le.extend_from_slice(&unit.to_le_bytes());
            be.extend_from_slice(&unit.to_be_bytes());
        }
        for input in [utf8, le, be] {
            let decoded = text(&input, "f").unwrap();
            assert_eq!(&*decoded, json.as_bytes());
        }
        let e = text(&[0xFF, 0xFE, 0x41], "f").unwrap_err().to_string();
        assert_eq!(e, "f: invalid UTF-16 (odd number of bytes)");
        let e = text(&[0xFF, 0xFE, 0x00, 0xD8, 0x41, 0x00], "f")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "f: invalid UTF-16 (unpaired surrogate 0xd800 at byte 2)");
    }
}
