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
#[cfg(test)]
mod test_rng;

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
    /// These bytes passed the whole-file checks before (the host says so):
    /// a MaxMind DB is then opened without its full verification, the
    /// slowest part of loading one. See [`geoip::GeoDb::from_verified_bytes`].
    pub verified: bool,
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
    cache: cache::ObjectCache,
    /// Interface id → its resource object.
    interfaces: cache::ObjectCache,
    /// `,"tcp_flags":[…]` for each value of the six flag bits.
    tcp_flags_json: Vec<Box<[u8]>>,
    /// `,"protocol_name":"…"` for each protocol number that has a name.
    protocol_json: Vec<Option<Box<[u8]>>>,
    /// Community IDs written as placeholders, to be hashed four at a time:
    /// where each one's 30 bytes start in the output, and its block.
    pending_ids: Vec<(usize, flow::CommunityIdBlock)>,
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
                let db = if file.verified {
                    geoip::GeoDb::from_verified_bytes(file.data, &file.name)
                } else {
                    geoip::GeoDb::from_bytes(file.data, &file.name)
                }
                .map_err(|e| data_error(&file.name, DataKind::Geoip, e))?;
                let summary = geoip_summary(&db, file.verified);
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
            cache: cache::ObjectCache::new(cache::DEFAULT_BUDGET),
            interfaces: cache::ObjectCache::new(cache::DEFAULT_BUDGET / 4),
            tcp_flags_json: flow::tcp_flags_json_table(),
            protocol_json: flow::protocol_name_json_table(),
            pending_ids: Vec::with_capacity(4),
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

    /// Writes `,"flow":{…}`, or nothing when no value can be derived. The
    /// Community ID is left as a placeholder in `pending_ids`.
    fn flow(
        &self,
        record: &flowlog::RecordView<'_>,
        interface: Option<Interface<'_>>,
        src: Option<Endpoint>,
        dst: Option<Endpoint>,
        pending_ids: &mut Vec<(usize, flow::CommunityIdBlock)>,
        out: &mut flowlog::Out,
    ) {
        let roles = record.format().roles();
        // Every part is one copy of a fragment with a leading comma; the
        // first part's comma is then overwritten with the opening brace.
        let start = out.pos();
        out.extend(b",\"flow\":");
        let brace = out.pos();
        let protocol = record
            .integer(roles.protocol)
            .and_then(|p| u8::try_from(p).ok());
        if let Some(json) = protocol.and_then(|p| self.protocol_json[usize::from(p)].as_deref()) {
            out.extend(json);
        }
        if protocol == Some(6)
            && let Some(flags) = record.integer(roles.tcp_flags)
        {
            // Bits above URG have no name.
            let index = (flags & 63) as usize;
            if let Some(json) = self.tcp_flags_json.get(index) {
                out.extend(json);
            }
        }
        let direction = match record.bytes(roles.flow_direction) {
            Some(b"ingress") => Some(Direction::Ingress),
            Some(b"egress") => Some(Direction::Egress),
            Some(_) => None,
            None => infer_direction(interface, src, dst),
        };
        match direction {
            Some(Direction::Ingress) => out.extend(b",\"direction\":\"ingress\""),
            Some(Direction::Egress) => out.extend(b",\"direction\":\"egress\""),
            None => {}
        }
        if let (Some(first), Some(last)) = (record.integer(roles.start), record.integer(roles.end))
            && last >= first
        {
            out.extend(b",\"duration\":");
            out.extend(itoa::Buffer::new().format(last - first).as_bytes());
        }
        if let (Some(protocol), Some((src, _)), Some((dst, _)), Some(sport), Some(dport)) = (
            protocol,
            src,
            dst,
            record
                .integer(roles.srcport)
                .and_then(|p| u16::try_from(p).ok()),
            record
                .integer(roles.dstport)
                .and_then(|p| u16::try_from(p).ok()),
        ) && let Some(block) = flow::community_id_block(0, src, dst, sport, dport, protocol)
        {
            pending_ids.push((out.pos() + COMMUNITY_ID_KEY.len(), block));
            out.extend(&COMMUNITY_ID_PART);
            if pending_ids.len() == 4 {
                fill_in_ids(pending_ids, out);
            }
        }
        if out.pos() == brace {
            out.rewind(start);
        } else {
            out.overwrite(brace, b"{");
            out.push(b'}');
        }
    }
}

/// A flow's direction as the record gives it or the ENI map shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Ingress,
    Egress,
}

/// `,"community_id":"`, which [`COMMUNITY_ID_PART`] starts with.
const COMMUNITY_ID_KEY: &[u8] = b",\"community_id\":\"";

/// The Community ID's part of `flow` as written before [`fill_in_ids`]
/// computes the id: its key, 30 `?` in the id's place (as long as an id,
/// and plainly not one should it ever be seen) and the closing quote.
const COMMUNITY_ID_PART: [u8; 48] = {
    let mut part = [b'?'; 48];
    let mut i = 0;
    while i < COMMUNITY_ID_KEY.len() {
        part[i] = COMMUNITY_ID_KEY[i];
        i += 1;
    }
    part[47] = b'"';
    part
};

/// Writes the pending Community IDs over their placeholders: four at a
/// time in vector lanes, any others one by one.
fn fill_in_ids(pending: &mut Vec<(usize, flow::CommunityIdBlock)>, out: &mut flowlog::Out) {
    if let [(a, block_a), (b, block_b), (c, block_c), (d, block_d)] = pending[..] {
        let ids = flow::community_ids4([&block_a, &block_b, &block_c, &block_d]);
        for (at, id) in [a, b, c, d].into_iter().zip(ids) {
            out.overwrite(at, id.as_bytes());
        }
    } else {
        for (at, block) in &pending[..] {
            out.overwrite(*at, block.id().as_bytes());
        }
    }
    pending.clear();
}

/// The capturing interface: its index in the ENI map, and the map.
type Interface<'a> = (u32, &'a enimap::EniMap);

/// An address with what the endpoint cache knows of it, when it was looked
/// up.
type Endpoint = (IpAddr, Option<cache::Facts>);

/// Without `flow-direction`: the capturing interface sent the flow if it
/// holds srcaddr, received it if it holds dstaddr.
fn infer_direction(
    interface: Option<Interface<'_>>,
    src: Option<Endpoint>,
    dst: Option<Endpoint>,
) -> Option<Direction> {
    let interface = interface?;
    if src.is_some_and(|end| holds(interface, end)) {
        Some(Direction::Egress)
    } else if dst.is_some_and(|end| holds(interface, end)) {
        Some(Direction::Ingress)
    } else {
        None
    }
}

/// Whether the interface holds the address: by the unique holder the
/// endpoint lookup found (no look at the ENI itself), else by asking the
/// interface.
fn holds((index, enis): Interface<'_>, (ip, facts): Endpoint) -> bool {
    match facts {
        Some(facts) if !facts.per_vpc => facts.holder == Some(index),
        _ => enis
            .resource(index)
            .is_some_and(|resource| resource.holds(ip)),
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
    /// nothing is known about it. The facts say whether the answer depends
    /// on the record's VPC (ENIs in several VPCs hold the address), and
    /// which ENI holds it if one does.
    fn endpoint(&mut self, ip: IpAddr, body: &mut Vec<u8>) -> cache::Facts {
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
        let mut facts = cache::Facts::default();
        if let Some(enis) = self.enis {
            let mut holder = enis.lookup_ip_index_in(ip, None);
            if holder.is_none() && enis.holders(ip).len() > 1 {
                facts.per_vpc = true;
                holder = enis.lookup_ip_index_in(ip, self.vpc);
            }
            if let Some(resource) = holder.and_then(|index| enis.resource(index)) {
                part(body, "resource", resource.json());
            }
            facts.holder = holder;
        }
        if !body.is_empty() {
            body.push(b'}');
        }
        facts
    }
}

fn geoip_summary(db: &geoip::GeoDb, verified_before: bool) -> String {
    format!(
        "{} ({}), built {}, {}",
        db.database_type(),
        db.kind(),
        db.build_date(),
        if verified_before {
            "verified before (same bytes)"
        } else {
            "verified"
        }
    )
}

impl flowlog::Enrich for Enricher {
    fn enrich(&mut self, record: &flowlog::RecordView<'_>, out: &mut flowlog::Out) {
        let roles = record.format().roles();
        let src = record.address(roles.srcaddr);
        let dst = record.address(roles.dstaddr);
        let pkt_src = record
            .address(roles.pkt_srcaddr)
            .filter(|ip| Some(*ip) != src);
        let pkt_dst = record
            .address(roles.pkt_dstaddr)
            .filter(|ip| Some(*ip) != dst);
        // Resolved once: for `interface`, the VPC hint and the direction.
        let interface = self.interface(record.bytes(roles.interface_id));
        let mut ends = [
            (&b",\"src\":"[..], src.map(|ip| (ip, None))),
            (b",\"dst\":", dst.map(|ip| (ip, None))),
            (b",\"pkt_src\":", pkt_src.map(|ip| (ip, None))),
            (b",\"pkt_dst\":", pkt_dst.map(|ip| (ip, None))),
        ];
        if self.geo.is_some() || self.aws.is_some() || self.enis.is_some() {
            self.write_ends(record, interface, &mut ends, out);
            if let Some(interface) = interface {
                out.extend(b",\"interface\":");
                out.extend(self.interface_json(interface));
            }
        }
        if self.derive_flow {
            let interface = interface.and_then(|i| Some((i.index, self.enis.as_ref()?)));
            let mut pending_ids = std::mem::take(&mut self.pending_ids);
            self.flow(
                record,
                interface,
                ends[0].1,
                ends[1].1,
                &mut pending_ids,
                out,
            );
            self.pending_ids = pending_ids;
        }
    }

    fn finish(&mut self, out: &mut flowlog::Out) {
        fill_in_ids(&mut self.pending_ids, out);
    }
}

/// How an end of a record is answered: it is the capturing interface's own
/// address, or the endpoint cache's entry (if any) is used.
#[derive(Debug, Clone, Copy)]
enum Probe {
    Own(FoundInterface),
    Cache(Option<cache::Hit>),
}

/// The interface's resource object.
fn interface_json<'a>(
    interfaces: &'a cache::ObjectCache,
    enis: Option<&'a enimap::EniMap>,
    interface: FoundInterface,
) -> &'a [u8] {
    match interface.cached {
        Some(hit) => &interfaces.body(hit)[OWN_PREFIX..],
        None => enis
            .and_then(|enis| enis.resource(interface.index))
            .map_or(&b"{}"[..], |resource| resource.json().as_bytes()),
    }
}

/// The own address stored at the start of an interface-cache body.
#[inline(always)]
fn own_in(body: &[u8]) -> Option<u128> {
    let mut key = [0u8; 16];
    key.copy_from_slice(&body[1..OWN_PREFIX]);
    (body[0] != 0).then(|| u128::from_le_bytes(key))
}

/// The capturing interface as the interface cache found it.
#[derive(Debug, Clone, Copy)]
struct FoundInterface {
    /// Its index in the ENI map.
    index: u32,
    /// Its object in the interface cache, when its id has a cache key.
    cached: Option<cache::Hit>,
    /// The endpoint-cache key of its own address, when it has one (see
    /// [`own_address`]).
    own: Option<u128>,
}

/// An interface-cache body starts with its own address (see
/// [`own_address`]): a flag byte, then the address's key in 16 bytes; the
/// resource object follows.
const OWN_PREFIX: usize = 17;

/// The interface's own address: the first of its addresses whose endpoint
/// answer is exactly `{"resource":…}` with this interface's object, whatever
/// the record (one holder, so no VPC decides, and no GeoIP, ASN or AWS
/// answer). Flow logs are captured at an interface, so nearly every record
/// has its address as one end: that end is then written from the interface's
/// object, which `interface` copies anyway, without an endpoint-cache probe
/// (a cache miss at line rate). Only the first few addresses are tried: the
/// primary private address comes first.
fn own_address(lookups: &mut Lookups<'_>, enis: &enimap::EniMap, index: u32) -> Option<u128> {
    let resource = enis.resource(index)?;
    let mut expected = Vec::with_capacity(resource.json().len() + OWN_OPEN.len() + 1);
    expected.extend_from_slice(OWN_OPEN);
    expected.extend_from_slice(resource.json().as_bytes());
    expected.push(b'}');
    let mut body = Vec::new();
    resource.addresses().iter().take(4).find_map(|&ip| {
        body.clear();
        let facts = lookups.endpoint(ip, &mut body);
        let unique = !facts.per_vpc && facts.holder == Some(index);
        (unique && body == expected).then(|| cache::address_key(ip))
    })
}

/// How an endpoint answer that is only a resource object starts.
const OWN_OPEN: &[u8] = b"{\"resource\":";

impl Enricher {
    /// The capturing interface, from the interface cache or the ENI map.
    /// The id comes as bytes: a cache hit needs no UTF-8 check.
    fn interface(&mut self, id: Option<&[u8]>) -> Option<FoundInterface> {
        let enis = self.enis.as_ref()?;
        let id = id?;
        let Some(key) = cache::interface_key(id) else {
            let index = enis.lookup_eni_index(std::str::from_utf8(id).ok()?)?;
            return Some(FoundInterface {
                index,
                cached: None,
                own: None,
            });
        };
        if let Some(hit) = self.interfaces.find(key) {
            let index = self.interfaces.facts(hit).holder?;
            return Some(FoundInterface {
                index,
                cached: Some(hit),
                own: own_in(self.interfaces.body(hit)),
            });
        }
        // A key is only made from ASCII.
        let index = std::str::from_utf8(id)
            .ok()
            .and_then(|id| enis.lookup_eni_index(id));
        let own = index.and_then(|index| {
            let mut lookups = Lookups {
                geo: self.geo.as_mut(),
                aws: self.aws.as_ref(),
                enis: Some(enis),
                vpc: None,
            };
            own_address(&mut lookups, enis, index)
        });
        // Unknown ids are cached too (no holder), so that a flood of
        // records from an interface missing in the map stays cheap.
        self.interfaces.get_or_insert(key, |body| {
            body.push(u8::from(own.is_some()));
            body.extend_from_slice(&own.unwrap_or(0).to_le_bytes());
            if let Some(resource) = index.and_then(|i| enis.resource(i)) {
                body.extend_from_slice(resource.json().as_bytes());
            }
            cache::Facts {
                per_vpc: false,
                holder: index,
            }
        });
        Some(FoundInterface {
            index: index?,
            cached: self.interfaces.find(key),
            own,
        })
    }

    /// The interface's resource object.
    fn interface_json(&self, interface: FoundInterface) -> &[u8] {
        interface_json(&self.interfaces, self.enis.as_ref(), interface)
    }

    /// Writes `,"src":{…}` and the other ends that have an answer, and
    /// records what the endpoint cache knows of each.
    fn write_ends(
        &mut self,
        record: &flowlog::RecordView<'_>,
        interface: Option<FoundInterface>,
        ends: &mut [(&[u8], Option<Endpoint>); 4],
        out: &mut flowlog::Out,
    ) {
        // Every end is looked up before any body is copied: the lookups are
        // independent, so their cache misses overlap. The interface's own
        // address needs no lookup.
        let own = interface.and_then(|interface| Some((interface.own?, interface)));
        let hits = ends.each_ref().map(|(_, end)| {
            end.map(|(ip, _)| {
                let key = cache::address_key(ip);
                match own {
                    Some((own, interface)) if own == key => Probe::Own(interface),
                    _ => Probe::Cache(self.cache.find(key)),
                }
            })
        });
        // Private addresses repeat across VPCs: the record's own VPC, else
        // the capturing interface's, tells their holders apart. Worked out
        // only when some end is rendered.
        let mut sources = Lookups {
            geo: self.geo.as_mut(),
            aws: self.aws.as_ref(),
            enis: self.enis.as_ref(),
            vpc: None,
        };
        let mut vpc_known = false;
        // A hit stays valid only until the cache next changes (an insert
        // may empty it).
        let mut cache_changed = false;
        for ((key, end), probe) in ends.iter_mut().zip(hits) {
            let Some((ip, known)) = end else { continue };
            let hit = match probe {
                Some(Probe::Own(interface)) => {
                    *known = Some(cache::Facts {
                        per_vpc: false,
                        holder: Some(interface.index),
                    });
                    out.extend(key);
                    out.extend(OWN_OPEN);
                    out.extend(interface_json(
                        &self.interfaces,
                        self.enis.as_ref(),
                        interface,
                    ));
                    out.push(b'}');
                    continue;
                }
                Some(Probe::Cache(hit)) => hit,
                None => None,
            };
            let reusable = hit.filter(|hit| !cache_changed && !self.cache.facts(*hit).per_vpc);
            let (body, facts) = match reusable {
                Some(hit) => (self.cache.body(hit), self.cache.facts(hit)),
                None => {
                    cache_changed = true;
                    if !vpc_known {
                        vpc_known = true;
                        let enis = sources.enis;
                        sources.vpc = record.text(record.format().roles().vpc_id).or_else(|| {
                            let index = interface?.index;
                            enis?.resource(index)?.vpc_id()
                        });
                    }
                    let ip = *ip;
                    self.cache
                        .get_or_insert(cache::address_key(ip), |body| sources.endpoint(ip, body))
                }
            };
            *known = Some(facts);
            if !body.is_empty() {
                out.extend(key);
                out.extend(body);
            }
        }
    }
}
