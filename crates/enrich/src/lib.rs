//! Enrichment of parsed flow-log records: both ends of each flow (and the
//! packet's original addresses at NAT/TGW hops) gain GeoIP/ASN, the AWS
//! service that owns the address, and the resource behind it; the capturing
//! interface gains its resource; and every record gains values derived from
//! its own fields (`flow`).
//!
//! The output contract (keys users script against) is documented in the
//! README; each object appears only where there is an answer.

use std::net::IpAddr;

use thiserror::Error;

mod cache;
pub mod flow;

/// The kinds of data file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataKind {
    /// A MaxMind DB.
    Geoip,
    /// AWS ip-ranges.json.
    AwsIpRanges,
    /// describe-network-interfaces output.
    EniMap,
}

/// A data file that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{file}: {message}")]
pub struct DataError {
    /// The file's name.
    pub file: String,
    /// What it was given as.
    pub kind: DataKind,
    /// What is wrong.
    pub message: String,
}

/// What was loaded from one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    /// The file's name.
    pub file: String,
    /// What it was given as.
    pub kind: DataKind,
    /// One line for logs.
    pub summary: String,
}

/// A data file, read by the host on the enricher's behalf.
#[derive(Debug, Clone, Default)]
pub struct DataFile {
    /// The name used in messages, usually the path the user gave.
    pub name: String,
    /// The file's bytes.
    pub data: Vec<u8>,
}

/// Everything the enricher is built from.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// MaxMind DBs: at most one City or Country, and one ASN or ISP.
    pub geoip: Vec<DataFile>,
    /// Language of GeoIP names; English when `None`.
    pub geoip_locale: Option<String>,
    /// AWS ip-ranges.json.
    pub aws_ip_ranges: Option<DataFile>,
    /// describe-network-interfaces outputs.
    pub eni_maps: Vec<DataFile>,
    /// Whether to add the `flow` object.
    pub derive_flow: bool,
}

/// Adds enrichment to records; see the crate docs.
#[derive(Debug)]
pub struct Enricher {
    geo: Option<geoip::GeoSet>,
    aws: Option<awsranges::AwsRanges>,
    enis: Option<enimap::EniMap>,
    derive_flow: bool,
    loaded: Vec<Loaded>,
    cache: cache::EndpointCache,
}

fn data_error(file: &str, kind: DataKind, error: impl std::fmt::Display) -> DataError {
    let message = error.to_string();
    // The libraries name the file in their messages; DataError carries it
    // separately, so it is not said twice.
    let message = match message
        .strip_prefix(file)
        .and_then(|m| m.strip_prefix(": "))
    {
        Some(rest) => rest.to_owned(),
        None => message,
    };
    DataError {
        file: file.to_owned(),
        kind,
        message,
    }
}

impl Enricher {
    /// Loads and checks every data file; fails on the first bad one.
    ///
    /// # Errors
    ///
    /// A [`DataError`] naming the first file that is corrupt, of the wrong
    /// kind, or one too many of its kind.
    pub fn load(sources: Sources) -> Result<Enricher, DataError> {
        let mut loaded = Vec::new();
        let geo = if sources.geoip.is_empty() {
            None
        } else {
            let mut set = geoip::GeoSet::default();
            // The endpoint cache in front keeps every rendered answer; a
            // second per-address cache here would only hold copies.
            set.set_cache_slots(1);
            if let Some(locale) = sources.geoip_locale.as_deref() {
                set.set_locale(locale);
            }
            for file in sources.geoip {
                let db = geoip::GeoDb::from_bytes(file.data, &file.name)
                    .map_err(|e| data_error(&file.name, DataKind::Geoip, e))?;
                let summary = geoip_summary(&db);
                set.add(db)
                    .map_err(|e| data_error(&file.name, DataKind::Geoip, e))?;
                loaded.push(Loaded {
                    file: file.name,
                    kind: DataKind::Geoip,
                    summary,
                });
            }
            Some(set)
        };
        let aws = match &sources.aws_ip_ranges {
            None => None,
            Some(file) => {
                let ranges = awsranges::AwsRanges::from_json(&file.data)
                    .map_err(|e| data_error(&file.name, DataKind::AwsIpRanges, e))?;
                loaded.push(Loaded {
                    file: file.name.clone(),
                    kind: DataKind::AwsIpRanges,
                    summary: format!(
                        "syncToken {}, createDate {}, {} IPv4 and {} IPv6 prefixes",
                        ranges.sync_token(),
                        ranges.create_date(),
                        ranges.ipv4_prefix_count(),
                        ranges.ipv6_prefix_count()
                    ),
                });
                Some(ranges)
            }
        };
        let enis = if sources.eni_maps.is_empty() {
            None
        } else {
            let mut map = enimap::EniMap::default();
            for file in &sources.eni_maps {
                let added = map
                    .add_json(&file.data, &file.name)
                    .map_err(|e| data_error(&file.name, DataKind::EniMap, e))?;
                loaded.push(Loaded {
                    file: file.name.clone(),
                    kind: DataKind::EniMap,
                    summary: format!(
                        "{added} ENIs (in all: {} ENIs, {} addresses)",
                        map.eni_count(),
                        map.address_count()
                    ),
                });
            }
            Some(map)
        };
        Ok(Enricher {
            geo,
            aws,
            enis,
            derive_flow: sources.derive_flow,
            loaded,
            cache: cache::EndpointCache::new(cache::DEFAULT_BUDGET),
        })
    }

    /// What was loaded, one entry per file.
    pub fn loaded(&self) -> &[Loaded] {
        &self.loaded
    }

    /// Whether the enricher would add nothing to any record.
    pub fn is_inert(&self) -> bool {
        self.geo.is_none() && self.aws.is_none() && self.enis.is_none() && !self.derive_flow
    }

    fn flow(
        record: &flowlog::RecordView<'_>,
        interface: Option<&enimap::Resource>,
        src: Option<IpAddr>,
        dst: Option<IpAddr>,
        out: &mut Vec<u8>,
    ) {
        let roles = record.format().roles();
        let start = out.len();
        out.extend_from_slice(b",\"flow\":{");
        let body = out.len();
        let protocol = record
            .integer(roles.protocol)
            .and_then(|p| u8::try_from(p).ok());
        let sep = |out: &mut Vec<u8>| {
            if out.len() > body {
                out.push(b',');
            }
        };
        if let Some(name) = protocol.and_then(flow::protocol_name) {
            sep(out);
            out.extend_from_slice(b"\"protocol_name\":\"");
            out.extend_from_slice(name.as_bytes());
            out.push(b'"');
        }
        if protocol == Some(6)
            && let Some(flags) = record.integer(roles.tcp_flags)
        {
            sep(out);
            out.extend_from_slice(b"\"tcp_flags\":");
            flow::write_tcp_flags(flags, out);
        }
        let direction = match record.text(roles.flow_direction) {
            Some(d @ ("ingress" | "egress")) => Some(d),
            Some(_) => None,
            None => infer_direction(interface, src, dst),
        };
        if let Some(direction) = direction {
            sep(out);
            out.extend_from_slice(b"\"direction\":\"");
            out.extend_from_slice(direction.as_bytes());
            out.push(b'"');
        }
        if let (Some(first), Some(last)) = (record.integer(roles.start), record.integer(roles.end))
            && last >= first
        {
            sep(out);
            out.extend_from_slice(b"\"duration\":");
            out.extend_from_slice(itoa::Buffer::new().format(last - first).as_bytes());
        }
        if let (Some(protocol), Some(src), Some(dst), Some(sport), Some(dport)) = (
            protocol,
            src,
            dst,
            record
                .integer(roles.srcport)
                .and_then(|p| u16::try_from(p).ok()),
            record
                .integer(roles.dstport)
                .and_then(|p| u16::try_from(p).ok()),
        ) && let Some(id) = flow::community_id(0, src, dst, sport, dport, protocol)
        {
            sep(out);
            out.extend_from_slice(b"\"community_id\":\"");
            out.extend_from_slice(id.as_str().as_bytes());
            out.push(b'"');
        }
        if out.len() == body {
            out.truncate(start);
        } else {
            out.push(b'}');
        }
    }
}

/// Without `flow-direction`: the capturing interface sent the flow if it
/// holds srcaddr, received it if it holds dstaddr.
fn infer_direction(
    interface: Option<&enimap::Resource>,
    src: Option<IpAddr>,
    dst: Option<IpAddr>,
) -> Option<&'static str> {
    let interface = interface?;
    if src.is_some_and(|ip| interface.holds(ip)) {
        Some("egress")
    } else if dst.is_some_and(|ip| interface.holds(ip)) {
        Some("ingress")
    } else {
        None
    }
}

/// The address lookups for one record.
struct Lookups<'a> {
    geo: Option<&'a mut geoip::GeoSet>,
    aws: Option<&'a awsranges::AwsRanges>,
    enis: Option<&'a enimap::EniMap>,
    /// The VPC the record's private addresses belong to, when known.
    vpc: Option<&'a str>,
}

impl Lookups<'_> {
    /// Writes `{…}` for an address into the empty `body`, or nothing when
    /// nothing is known about it. Returns whether the answer depends on the
    /// record's VPC (ENIs in several VPCs hold the address).
    fn endpoint(&mut self, ip: IpAddr, body: &mut Vec<u8>) -> bool {
        let part = |body: &mut Vec<u8>, name: &str, json: &str| {
            body.push(if body.is_empty() { b'{' } else { b',' });
            body.push(b'"');
            body.extend_from_slice(name.as_bytes());
            body.extend_from_slice(b"\":");
            body.extend_from_slice(json.as_bytes());
        };
        if let Some(geo) = self.geo.as_deref_mut() {
            let answer = geo.lookup(ip);
            if let Some(json) = answer.geo {
                part(body, "geo", json);
            }
            if let Some(json) = answer.asn {
                part(body, "as", json);
            }
        }
        if let Some(found) = self.aws.and_then(|aws| aws.lookup(ip)) {
            part(body, "aws", found.json());
        }
        let mut per_vpc = false;
        if let Some(enis) = self.enis {
            if let Some(resource) = enis.lookup_ip(ip) {
                part(body, "resource", resource.json());
            } else if enis.holders(ip).len() > 1 {
                per_vpc = true;
                if let Some(resource) = enis.lookup_ip_in(ip, self.vpc) {
                    part(body, "resource", resource.json());
                }
            }
        }
        if !body.is_empty() {
            body.push(b'}');
        }
        per_vpc
    }
}

fn geoip_summary(db: &geoip::GeoDb) -> String {
    format!(
        "{} ({}), built {}",
        db.database_type(),
        db.kind(),
        db.build_date()
    )
}

impl flowlog::Enrich for Enricher {
    fn enrich(&mut self, record: &flowlog::RecordView<'_>, out: &mut Vec<u8>) {
        let roles = record.format().roles();
        let src = record.address(roles.srcaddr);
        let dst = record.address(roles.dstaddr);
        let pkt_src = record
            .address(roles.pkt_srcaddr)
            .filter(|ip| Some(*ip) != src);
        let pkt_dst = record
            .address(roles.pkt_dstaddr)
            .filter(|ip| Some(*ip) != dst);
        let Enricher {
            geo,
            aws,
            enis,
            cache,
            derive_flow,
            ..
        } = self;
        let enis = enis.as_ref();
        // Resolved once: for `interface`, the VPC hint and the direction.
        let interface = enis.and_then(|enis| enis.lookup_eni(record.text(roles.interface_id)?));
        if geo.is_some() || aws.is_some() || enis.is_some() {
            // Private addresses repeat across VPCs: the record's own VPC,
            // else the capturing interface's, tells their holders apart.
            let vpc = record
                .text(roles.vpc_id)
                .or_else(|| interface.and_then(enimap::Resource::vpc_id));
            let mut sources = Lookups {
                geo: geo.as_mut(),
                aws: aws.as_ref(),
                enis,
                vpc,
            };
            for (key, ip) in [
                ("src", src),
                ("dst", dst),
                ("pkt_src", pkt_src),
                ("pkt_dst", pkt_dst),
            ] {
                if let Some(ip) = ip {
                    let body = cache.get_or_insert(ip, |body| sources.endpoint(ip, body));
                    if !body.is_empty() {
                        out.extend_from_slice(b",\"");
                        out.extend_from_slice(key.as_bytes());
                        out.extend_from_slice(b"\":");
                        out.extend_from_slice(body);
                    }
                }
            }
            if let Some(resource) = interface {
                out.extend_from_slice(b",\"interface\":");
                out.extend_from_slice(resource.json().as_bytes());
            }
        }
        if *derive_flow {
            Enricher::flow(record, interface, src, dst, out);
        }
    }
}
