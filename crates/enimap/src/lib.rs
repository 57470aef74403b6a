//! ENI ids and IP addresses → the AWS resource behind them, from
//! `aws ec2 describe-network-interfaces` output.
//!
//! ```
//! use enimap::EniMap;
//!
//! let json = br#"{"NetworkInterfaces":[{
//!     "NetworkInterfaceId":"eni-0a1b2c3d4e5f60718","InterfaceType":"nat_gateway",
//!     "Description":"Interface for NAT Gateway nat-0123456789abcdef0",
//!     "VpcId":"vpc-1","PrivateIpAddress":"10.0.1.5",
//!     "Association":{"PublicIp":"203.0.113.7"}}]}"#;
//! let mut map = EniMap::default();
//! assert_eq!(map.add_json(json, "enis.json").unwrap(), 1);
//! let nat = map.lookup_ip("203.0.113.7".parse().unwrap()).unwrap();
//! assert_eq!(nat.kind(), "nat_gateway");
//! assert_eq!(nat.id(), Some("nat-0123456789abcdef0"));
//! assert_eq!(
//!     nat.json(),
//!     r#"{"interface_id":"eni-0a1b2c3d4e5f60718","interface_type":"nat_gateway","kind":"nat_gateway","id":"nat-0123456789abcdef0","vpc_id":"vpc-1","description":"Interface for NAT Gateway nat-0123456789abcdef0"}"#
//! );
//! assert!(map.eni_holds("eni-0a1b2c3d4e5f60718", "10.0.1.5".parse().unwrap()));
//! ```
//!
//! # Input
//!
//! [`EniMap::add_json`] takes one file: one `{"NetworkInterfaces":[…],
//! "NextToken":…}` document, several of them concatenated (pages joined with
//! `cat`), a bare array of interfaces (`--query NetworkInterfaces`), or a mix.
//! Unknown fields are ignored; `null` counts as absent, and so does an empty
//! string. A UTF-8 byte-order mark is skipped and UTF-16 with a byte-order
//! mark (Windows PowerShell's `>`) is decoded. A file is added whole or not at
//! all. An ENI id seen again (overlapping pages or files) replaces the earlier
//! entry, addresses included.
//!
//! # Addresses
//!
//! Each interface is indexed under `PrivateIpAddress`, every
//! `PrivateIpAddresses[].PrivateIpAddress` and
//! `PrivateIpAddresses[].Association.PublicIp`, `Association.PublicIp`,
//! `Ipv6Address` and every `Ipv6Addresses[].Ipv6Address` — plus the rarer
//! `Association.CarrierIp` (Wavelength) and `Association.CustomerOwnedIp`
//! (Outposts), at both levels.
//!
//! Delegated prefixes (`Ipv4Prefixes[].Ipv4Prefix`, usually /28, and
//! `Ipv6Prefixes[].Ipv6Prefix`, usually /80, as used by EKS and ECS prefix
//! delegation) are indexed as ranges: an address inside one resolves to the
//! interface too. An exact address and a prefix that both cover an address
//! count as two holders. Prefixes are not counted by
//! [`EniMap::address_count`] but by [`EniMap::prefix_count`]. Lookups cost
//! one extra hash probe per distinct prefix length of the address's family,
//! and only once a prefix of that family has been loaded.
//!
//! An address held by one interface resolves to it. Private ranges overlap
//! between VPCs, so an address can be held by several: then
//! [`EniMap::lookup_ip_in`] picks the only holder in the given VPC, and with
//! no VPC, or none or several holders in it, there is no answer rather than
//! a guess.
//!
//! # Classification
//!
//! `kind`, `id` and `name` come from `Description`, `InterfaceType`,
//! `Attachment` and `RequesterId`, in this order; the first rule that
//! matches decides. The description comes first because ALB and interface
//! endpoint interfaces often report `InterfaceType` `interface`.
//!
//! | Description (trimmed)                                          | `kind`                       | `id`                         | `name` (from the pattern) |
//! |----------------------------------------------------------------|------------------------------|------------------------------|---------------------------|
//! | `Interface for NAT Gateway nat-…`                              | `nat_gateway`                | `nat-…`                      |                           |
//! | `ELB app/NAME/ID`, `ELB net/NAME/ID`, `ELB gwy/NAME/ID`        | `load_balancer`              | `app/NAME/ID` (`net/…`, `gwy/…`) | `NAME`                |
//! | `ELB NAME` (Classic; no `/`, no space)                         | `load_balancer`              | `NAME`                       | `NAME`                    |
//! | `AWS Lambda VPC ENI-FUNCTION-UUID`, `…ENI-FUNCTION`, `…ENI: FUNCTION` | `lambda`              | `FUNCTION`                   | `FUNCTION`                |
//! | `VPC Endpoint Interface vpce-…`, `VPC Endpoint Interface: vpce-…` | `vpc_endpoint`            | `vpce-…`                     |                           |
//! | `arn:PARTITION:ecs:REGION:ACCOUNT:attachment/UUID`             | `ecs_task`                   | the whole attachment ARN     |                           |
//! | `RDSNetworkInterface`                                          | `rds`                        |                              |                           |
//! | `EFS mount target for …fsmt-…` (or only `fs-…`)                | `efs_mount_target`           | `fsmt-…` (else `fs-…`)       |                           |
//! | `Amazon EKS CLUSTER`                                           | `eks`                        | `CLUSTER`                    | `CLUSTER`                 |
//! | `ElastiCache ID`                                               | `elasticache`                | `ID`                         |                           |
//! | `Network Interface for Transit Gateway Attachment tgw-attach-…` | `transit_gateway_attachment` | `tgw-attach-…`              |                           |
//!
//! The Lambda UUID is the last 36 characters (8-4-4-4-12 hex digits after a
//! `-`); it is stripped from the end, so function names keep their dashes.
//! A Lambda (Hyperplane) interface is shared by the functions with the same
//! subnet and security groups; the description names the one that created
//! it. For ECS the id is the attachment ARN rather than its UUID: it is
//! unique across accounts and regions, and the UUID is the ENI attachment's,
//! not the task's, so it alone would mislead. The prefix must be followed by
//! a space, a colon or the end (`ELBow` is not a load balancer).
//!
//! When no description pattern matches:
//!
//! | Rule                                                                  | `kind`                       | `id`              |
//! |-----------------------------------------------------------------------|------------------------------|-------------------|
//! | `InterfaceType` `nat_gateway` / `natGateway`                          | `nat_gateway`                |                   |
//! | `InterfaceType` `lambda`                                              | `lambda`                     |                   |
//! | `InterfaceType` `load_balancer`, `network_load_balancer`, `gateway_load_balancer` | `load_balancer`  |                   |
//! | `InterfaceType` `vpc_endpoint`, `gateway_load_balancer_endpoint`      | `vpc_endpoint`               |                   |
//! | `InterfaceType` `transit_gateway`                                     | `transit_gateway_attachment` |                   |
//! | `Attachment.InstanceId` present                                       | `ec2_instance`               | the instance id   |
//! | `RequesterId` or `Attachment.InstanceOwnerId` `amazon-elb`            | `load_balancer`              |                   |
//! | … `amazon-rds`                                                        | `rds`                        |                   |
//! | … `amazon-elasticache`                                                | `elasticache`                |                   |
//! | … `amazon-redshift`                                                   | `redshift`                   |                   |
//! | `RequesterId` `ROLEID:awslambda_…` (a Lambda service session)         | `lambda`                     |                   |
//! | anything else                                                         | the normalized `InterfaceType` (`interface`, `efa`, `trunk`, `branch`, …) | |
//!
//! `RequesterId` is only a fallback hint, used when the description says
//! nothing recognizable (often because it is missing): a service principal
//! alias (`amazon-elb`, …) names the service but never the resource, and
//! other values are an account id (yours, or an AWS service account, as for
//! NAT gateways and endpoints) or an assumed role `AROA…:SESSION` whose
//! session is rarely telling (ECS, EKS and Lambda all use roles); only
//! Lambda's `awslambda_` sessions are recognized. `amazon-aws` (NAT
//! gateways, endpoints, Lambda) is too broad to use.
//!
//! `name` is the interface's `Name` tag when it has a non-empty one (tags of
//! the interface, not of the instance), else the name from the pattern.
//! `instance_id` is `Attachment.InstanceId` whenever present, whatever the
//! kind. `interface_type` is `InterfaceType` as returned, with `natGateway`
//! (the SDK model's spelling) normalized to `nat_gateway`, and `interface`
//! when missing. The kind names are also in [`kind`].
//!
//! # JSON
//!
//! [`Resource::json`] is rendered once at load: a compact object with keys
//! in this order, each only when it has a value: `interface_id`,
//! `interface_type`, `kind`, `id`, `name`, `instance_id`, `vpc_id`,
//! `subnet_id`, `availability_zone`, `security_group_ids` (`Groups[].GroupId`
//! in input order), `tags` (every `TagSet` entry, key → value, input order;
//! a repeated key keeps its first position and its last value),
//! `description`. Strings are escaped by serde_json.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;

mod classify;
mod error;
mod hash;
pub mod kind;
mod parse;
mod resource;

pub use error::{BadValue, Error};
pub use resource::Resource;

use hash::{FastState, StrTable};
use resource::{Position, mask32, mask128};

/// Marks an index slot that points into [`Lists`] (several holders) rather
/// than at one ENI.
const MANY: u32 = 1 << 31;

/// `vpc_of` of an ENI without a VPC.
const NO_VPC: u32 = u32::MAX;

/// The most ENIs (and shared-holder lists) the map can index.
const MAX_ENTRIES: usize = (MANY - 1) as usize;

/// Lists of ENI indexes for addresses held by several interfaces.
#[derive(Debug, Default)]
struct Lists {
    lists: Vec<Vec<u32>>,
    free: Vec<u32>,
}

impl Lists {
    fn alloc(&mut self, list: Vec<u32>) -> Option<u32> {
        if let Some(i) = self.free.pop() {
            self.lists[i as usize] = list;
            return Some(i);
        }
        let i = u32::try_from(self.lists.len()).ok().filter(|&i| i < MANY)?;
        self.lists.push(list);
        Some(i)
    }

    fn release(&mut self, i: u32) {
        self.lists[i as usize] = Vec::new();
        self.free.push(i);
    }

    fn get(&self, slot: u32) -> &[u32] {
        self.lists
            .get((slot & !MANY) as usize)
            .map_or(&[], Vec::as_slice)
    }
}

/// Address (or network) → holder slot: an ENI index, or `MANY | list index`.
type Table<K> = HashMap<K, u32, FastState>;

/// The networks of one prefix length.
#[derive(Debug)]
struct PrefixTable<K> {
    len: u8,
    mask: K,
    table: Table<K>,
}

/// Adds `eni` to `key`'s holders.
fn hold<K: Hash + Eq>(table: &mut Table<K>, lists: &mut Lists, key: K, eni: u32) -> Option<()> {
    use std::collections::hash_map::Entry;
    match table.entry(key) {
        Entry::Vacant(e) => {
            e.insert(eni);
        }
        Entry::Occupied(mut e) => {
            let slot = *e.get();
            if slot & MANY == 0 {
                if slot != eni {
                    let list = lists.alloc(vec![slot, eni])?;
                    e.insert(MANY | list);
                }
            } else if let Some(list) = lists.lists.get_mut((slot & !MANY) as usize)
                && !list.contains(&eni)
            {
                list.push(eni);
            }
        }
    }
    Some(())
}

/// Removes `eni` from `key`'s holders.
fn release<K: Hash + Eq>(table: &mut Table<K>, lists: &mut Lists, key: K, eni: u32) {
    use std::collections::hash_map::Entry;
    let Entry::Occupied(mut e) = table.entry(key) else {
        return;
    };
    let slot = *e.get();
    if slot & MANY == 0 {
        if slot == eni {
            e.remove();
        }
        return;
    }
    let index = slot & !MANY;
    let Some(list) = lists.lists.get_mut(index as usize) else {
        return;
    };
    list.retain(|&x| x != eni);
    match *list.as_slice() {
        [] => {
            e.remove();
            lists.release(index);
        }
        [only] => {
            e.insert(only);
            lists.release(index);
        }
        _ => {}
    }
}

/// Every ENI from the describe-network-interfaces files added, indexed by id
/// and by every address it holds.
#[derive(Debug, Default)]
pub struct EniMap {
    enis: Vec<Resource>,
    /// Each ENI's interned VPC ([`NO_VPC`] without one), beside `enis` so
    /// that choosing among an address's holders stays in cache.
    vpc_of: Vec<u32>,
    by_id: StrTable,
    vpcs: StrTable,
    v4: Table<u32>,
    v6: Table<u128>,
    /// Longest prefix length first.
    v4_prefixes: Vec<PrefixTable<u32>>,
    v6_prefixes: Vec<PrefixTable<u128>>,
    lists: Lists,
}

/// Chooses among an address's holders (see [`EniMap::lookup_ip_in`]).
struct Pick<'a> {
    vpc_of: &'a [u32],
    /// The wanted VPC, interned; `None` when not given, [`NO_VPC`] when no
    /// ENI is in it.
    vpc: Option<u32>,
    first: Option<u32>,
    several: bool,
    in_vpc: Option<u32>,
    several_in_vpc: bool,
}

impl<'a> Pick<'a> {
    fn new(map: &'a EniMap, vpc_id: Option<&str>) -> Self {
        Pick {
            vpc_of: &map.vpc_of,
            vpc: vpc_id.map(|v| map.vpcs.get(v).unwrap_or(NO_VPC)),
            first: None,
            several: false,
            in_vpc: None,
            several_in_vpc: false,
        }
    }

    fn offer(&mut self, eni: u32) {
        match self.first {
            None => self.first = Some(eni),
            Some(first) if first != eni => self.several = true,
            Some(_) => {}
        }
        if let Some(vpc) = self.vpc
            && vpc != NO_VPC
            && self.vpc_of.get(eni as usize) == Some(&vpc)
        {
            match self.in_vpc {
                None => self.in_vpc = Some(eni),
                Some(seen) if seen != eni => self.several_in_vpc = true,
                Some(_) => {}
            }
        }
    }

    fn offer_slot(&mut self, slot: u32, lists: &Lists) {
        if slot & MANY == 0 {
            self.offer(slot);
        } else {
            for &eni in lists.get(slot) {
                self.offer(eni);
            }
        }
    }

    /// The chosen ENI's index.
    fn result(&self) -> Option<u32> {
        if !self.several {
            self.first
        } else if self.several_in_vpc {
            None
        } else {
            self.in_vpc
        }
    }
}

impl EniMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds every ENI of one file; returns how many ENIs the file held
    /// (distinct ids). `name` is used in errors. The file is added whole or
    /// not at all.
    ///
    /// # Errors
    ///
    /// An [`Error`] naming the file when it is empty, not JSON (with line and
    /// column), not describe-network-interfaces output, or has an interface
    /// without an id or with a value that is not an address (with the
    /// interface, field and value).
    pub fn add_json(&mut self, bytes: &[u8], name: &str) -> Result<usize, Error> {
        let text = parse::text(bytes, name)?;
        let pages = parse::pages(&text, name)?;
        let mut resources = Vec::new();
        for (document, page) in pages.into_iter().enumerate() {
            for (index, raw) in page.0.into_iter().enumerate() {
                let at = Position {
                    file: name,
                    document: document + 1,
                    index,
                };
                resources.push(Resource::from_raw(raw, &at)?);
            }
        }
        let mut ids: HashMap<&str, (), FastState> = HashMap::default();
        let mut new = 0;
        for r in &resources {
            if ids.insert(r.interface_id(), ()).is_none()
                && self.by_id.get(r.interface_id()).is_none()
            {
                new += 1;
            }
        }
        let distinct = ids.len();
        drop(ids);
        // Indexes stay below MANY; so do list indexes, of which there are
        // fewer than addresses; checked up front so a file is added whole.
        let addresses: usize = resources
            .iter()
            .map(|r| r.addresses().len() + r.prefixes().len())
            .sum();
        if self.enis.len() + new > MAX_ENTRIES || self.lists.lists.len() + addresses > MAX_ENTRIES {
            return Err(Error::TooMany {
                file: name.to_owned(),
            });
        }
        for resource in resources {
            self.insert(resource);
        }
        Ok(distinct)
    }

    /// Adds or replaces one interface.
    fn insert(&mut self, resource: Resource) {
        let vpc = match resource.vpc_id() {
            None => NO_VPC,
            Some(vpc_id) => self.vpcs.get(vpc_id).unwrap_or_else(|| {
                // Fewer VPCs than ENIs: below MANY.
                let vpc = self.vpcs.len() as u32;
                self.vpcs.insert(vpc_id, vpc);
                vpc
            }),
        };
        let index = match self.by_id.get(resource.interface_id()) {
            Some(index) => {
                self.unindex(index);
                if let Some(slot) = self.enis.get_mut(index as usize) {
                    *slot = resource;
                }
                if let Some(slot) = self.vpc_of.get_mut(index as usize) {
                    *slot = vpc;
                }
                index
            }
            None => {
                // Checked by add_json: below MANY.
                let index = self.enis.len() as u32;
                self.by_id.insert(resource.interface_id(), index);
                self.enis.push(resource);
                self.vpc_of.push(vpc);
                index
            }
        };
        self.index(index);
    }

    /// Indexes ENI `index`'s addresses and prefixes.
    fn index(&mut self, index: u32) {
        let Some(resource) = self.enis.get(index as usize) else {
            return;
        };
        let lists = &mut self.lists;
        for &ip in resource.addresses() {
            // Cannot fail: add_json checked the room.
            let _ = match ip {
                IpAddr::V4(a) => hold(&mut self.v4, lists, a.to_bits(), index),
                IpAddr::V6(a) => hold(&mut self.v6, lists, a.to_bits(), index),
            };
        }
        for &(net, len) in resource.prefixes() {
            let _ = match net {
                IpAddr::V4(a) => hold(
                    prefix_table(&mut self.v4_prefixes, len, mask32(len)),
                    lists,
                    a.to_bits(),
                    index,
                ),
                IpAddr::V6(a) => hold(
                    prefix_table(&mut self.v6_prefixes, len, mask128(len)),
                    lists,
                    a.to_bits(),
                    index,
                ),
            };
        }
    }

    /// Removes ENI `index`'s addresses and prefixes from the index.
    fn unindex(&mut self, index: u32) {
        let Some(resource) = self.enis.get(index as usize) else {
            return;
        };
        let lists = &mut self.lists;
        for &ip in resource.addresses() {
            match ip {
                IpAddr::V4(a) => release(&mut self.v4, lists, a.to_bits(), index),
                IpAddr::V6(a) => release(&mut self.v6, lists, a.to_bits(), index),
            }
        }
        for &(net, len) in resource.prefixes() {
            match net {
                IpAddr::V4(a) => {
                    if let Some(p) = self.v4_prefixes.iter_mut().find(|p| p.len == len) {
                        release(&mut p.table, lists, a.to_bits(), index);
                    }
                }
                IpAddr::V6(a) => {
                    if let Some(p) = self.v6_prefixes.iter_mut().find(|p| p.len == len) {
                        release(&mut p.table, lists, a.to_bits(), index);
                    }
                }
            }
        }
        self.v4_prefixes.retain(|p| !p.table.is_empty());
        self.v6_prefixes.retain(|p| !p.table.is_empty());
    }

    /// How many distinct ENIs the map holds.
    pub fn eni_count(&self) -> usize {
        self.enis.len()
    }

    /// How many distinct addresses are indexed (delegated prefixes not
    /// included; see [`EniMap::prefix_count`]).
    pub fn address_count(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    /// How many distinct delegated prefixes are indexed.
    pub fn prefix_count(&self) -> usize {
        self.v4_prefixes
            .iter()
            .map(|p| p.table.len())
            .sum::<usize>()
            + self
                .v6_prefixes
                .iter()
                .map(|p| p.table.len())
                .sum::<usize>()
    }

    /// Every ENI, in the order first added.
    pub fn resources(&self) -> impl ExactSizeIterator<Item = &Resource> {
        self.enis.iter()
    }

    /// The ENI with this `NetworkInterfaceId`.
    #[inline]
    pub fn lookup_eni(&self, interface_id: &str) -> Option<&Resource> {
        self.resource(self.lookup_eni_index(interface_id)?)
    }

    /// Like [`EniMap::lookup_eni`], but the ENI's index (see
    /// [`EniMap::resource`]).
    #[inline]
    pub fn lookup_eni_index(&self, interface_id: &str) -> Option<u32> {
        self.by_id.get(interface_id)
    }

    /// The ENI at `index`. An ENI's index is fixed once it is added (a
    /// later file that lists it again replaces it in place), so indexes are
    /// cheap identities for callers that cache lookups.
    #[inline]
    pub fn resource(&self, index: u32) -> Option<&Resource> {
        self.enis.get(index as usize)
    }

    /// The ENI that holds `ip` (as an address, or inside a delegated
    /// prefix); `None` when none does, or when several do (private ranges
    /// overlap between VPCs; see [`EniMap::lookup_ip_in`]).
    #[inline]
    pub fn lookup_ip(&self, ip: IpAddr) -> Option<&Resource> {
        self.lookup_ip_in(ip, None)
    }

    /// Like [`EniMap::lookup_ip`], but when several ENIs (in different VPCs:
    /// private ranges overlap) hold the address, picks the one in `vpc_id`;
    /// without a unique answer returns `None` rather than guess. A unique
    /// holder is returned whatever its VPC (peering, public addresses).
    #[inline]
    pub fn lookup_ip_in(&self, ip: IpAddr, vpc_id: Option<&str>) -> Option<&Resource> {
        self.resource(self.lookup_ip_index_in(ip, vpc_id)?)
    }

    /// Like [`EniMap::lookup_ip_in`], but the ENI's index (see
    /// [`EniMap::resource`]).
    #[inline]
    pub fn lookup_ip_index_in(&self, ip: IpAddr, vpc_id: Option<&str>) -> Option<u32> {
        let (exact, prefixes) = match ip {
            IpAddr::V4(a) => (self.v4.get(&a.to_bits()), !self.v4_prefixes.is_empty()),
            IpAddr::V6(a) => (self.v6.get(&a.to_bits()), !self.v6_prefixes.is_empty()),
        };
        if prefixes {
            return self.lookup_with_prefixes(ip, exact.copied(), vpc_id);
        }
        let slot = *exact?;
        if slot & MANY == 0 {
            return Some(slot);
        }
        let mut pick = Pick::new(self, vpc_id);
        pick.offer_slot(slot, &self.lists);
        pick.result()
    }

    #[cold]
    fn lookup_with_prefixes(
        &self,
        ip: IpAddr,
        exact: Option<u32>,
        vpc_id: Option<&str>,
    ) -> Option<u32> {
        let mut pick = Pick::new(self, vpc_id);
        if let Some(slot) = exact {
            pick.offer_slot(slot, &self.lists);
        }
        self.each_prefix_slot(ip, |slot| pick.offer_slot(slot, &self.lists));
        pick.result()
    }

    /// Calls `f` with the slot of every delegated prefix that holds `ip`.
    fn each_prefix_slot(&self, ip: IpAddr, mut f: impl FnMut(u32)) {
        match ip {
            IpAddr::V4(a) => {
                let bits = a.to_bits();
                for p in &self.v4_prefixes {
                    if let Some(&slot) = p.table.get(&(bits & p.mask)) {
                        f(slot);
                    }
                }
            }
            IpAddr::V6(a) => {
                let bits = a.to_bits();
                for p in &self.v6_prefixes {
                    if let Some(&slot) = p.table.get(&(bits & p.mask)) {
                        f(slot);
                    }
                }
            }
        }
    }

    /// Every ENI that holds `ip` (as an address or in a delegated prefix),
    /// each once, in no particular order.
    pub fn holders(&self, ip: IpAddr) -> Vec<&Resource> {
        let mut found: Vec<u32> = Vec::new();
        let mut collect = |slot: u32| {
            let many = if slot & MANY == 0 {
                std::slice::from_ref(&slot)
            } else {
                self.lists.get(slot)
            };
            for &eni in many {
                if !found.contains(&eni) {
                    found.push(eni);
                }
            }
        };
        let exact = match ip {
            IpAddr::V4(a) => self.v4.get(&a.to_bits()),
            IpAddr::V6(a) => self.v6.get(&a.to_bits()),
        };
        if let Some(&slot) = exact {
            collect(slot);
        }
        self.each_prefix_slot(ip, collect);
        found
            .iter()
            .filter_map(|&i| self.enis.get(i as usize))
            .collect()
    }

    /// Whether the ENI `interface_id` holds `ip` (as an address or inside a
    /// delegated prefix); false for an unknown ENI.
    #[inline]
    pub fn eni_holds(&self, interface_id: &str, ip: IpAddr) -> bool {
        let Some(index) = self.by_id.get(interface_id) else {
            return false;
        };
        let exact = match ip {
            IpAddr::V4(a) => self.v4.get(&a.to_bits()),
            IpAddr::V6(a) => self.v6.get(&a.to_bits()),
        };
        if let Some(&slot) = exact
            && (slot == index || (slot & MANY != 0 && self.lists.get(slot).contains(&index)))
        {
            return true;
        }
        // Only then is the (large, likely uncached) resource worth reading.
        let prefixes = match ip {
            IpAddr::V4(_) => !self.v4_prefixes.is_empty(),
            IpAddr::V6(_) => !self.v6_prefixes.is_empty(),
        };
        prefixes
            && self
                .enis
                .get(index as usize)
                .is_some_and(|r| !r.prefixes().is_empty() && r.holds(ip))
    }
}

/// The table for `/len` prefixes, created (in longest-first order) if need be.
fn prefix_table<K: Hash + Eq>(tables: &mut Vec<PrefixTable<K>>, len: u8, mask: K) -> &mut Table<K> {
    let at = match tables.iter().position(|p| p.len <= len) {
        Some(i) if tables[i].len == len => i,
        Some(i) => {
            tables.insert(
                i,
                PrefixTable {
                    len,
                    mask,
                    table: Table::default(),
                },
            );
            i
        }
        None => {
            tables.push(PrefixTable {
                len,
                mask,
                table: Table::default(),
            });
            tables.len() - 1
        }
    };
    &mut tables[at].table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an IP address literal")
    }

    fn eni(id: &str, vpc: &str, addresses: &[&str]) -> String {
        let list: Vec<String> = addresses
            .iter()
            .map(|a| format!(r#"{{"PrivateIpAddress":"{a}"}}"#))
            .collect();
        format!(
            r#"{{"NetworkInterfaceId":"{id}","VpcId":"{vpc}","PrivateIpAddresses":[{}]}}"#,
            list.join(",")
        )
    }

    #[test]
    fn shared_lists_are_recycled_when_holders_leave() {
        let mut map = EniMap::default();
        let a = eni("eni-a", "vpc-1", &["10.0.0.1"]);
        let b = eni("eni-b", "vpc-2", &["10.0.0.1"]);
        map.add_json(format!("[{a},{b}]").as_bytes(), "1").unwrap();
        assert_eq!(map.lists.lists.len(), 1);
        assert!(map.lookup_ip(ip("10.0.0.1")).is_none());
        // eni-b moves away: one holder again, the list is freed.
        map.add_json(
            format!("[{}]", eni("eni-b", "vpc-2", &["10.0.0.2"])).as_bytes(),
            "2",
        )
        .unwrap();
        assert_eq!(
            map.lookup_ip(ip("10.0.0.1")).unwrap().interface_id(),
            "eni-a"
        );
        assert_eq!(map.lists.free, [0]);
        // And comes back: the freed list is reused.
        map.add_json(format!("[{b}]").as_bytes(), "3").unwrap();
        assert_eq!(map.lists.lists.len(), 1);
        assert!(map.lookup_ip(ip("10.0.0.1")).is_none());
        // 10.0.0.2 left with eni-b's second version.
        assert_eq!(map.address_count(), 1);
        assert!(map.lookup_ip(ip("10.0.0.2")).is_none());
    }

    #[test]
    fn prefix_tables_stay_sorted_and_are_dropped_when_empty() {
        let mut map = EniMap::default();
        map.add_json(
            br#"[{"NetworkInterfaceId":"eni-a","Ipv4Prefixes":[{"Ipv4Prefix":"10.1.0.0/24"},{"Ipv4Prefix":"10.2.0.16/28"},{"Ipv4Prefix":"10.3.0.0/26"}]}]"#,
            "f",
        )
        .unwrap();
        let lens: Vec<u8> = map.v4_prefixes.iter().map(|p| p.len).collect();
        assert_eq!(lens, [28, 26, 24]);
        assert_eq!(map.prefix_count(), 3);
        map.add_json(br#"[{"NetworkInterfaceId":"eni-a"}]"#, "g")
            .unwrap();
        assert!(map.v4_prefixes.is_empty());
        assert_eq!(map.prefix_count(), 0);
        assert!(map.lookup_ip(ip("10.1.0.9")).is_none());
    }

    #[test]
    fn a_failed_file_changes_nothing() {
        let mut map = EniMap::default();
        map.add_json(
            format!("[{}]", eni("eni-a", "vpc-1", &["10.0.0.1"])).as_bytes(),
            "1",
        )
        .unwrap();
        let bad = format!(
            "[{},{}]",
            eni("eni-a", "vpc-1", &["10.0.0.9"]),
            eni("eni-b", "vpc-1", &["x"])
        );
        assert!(map.add_json(bad.as_bytes(), "2").is_err());
        assert_eq!(map.eni_count(), 1);
        assert!(map.eni_holds("eni-a", ip("10.0.0.1")));
        assert!(!map.eni_holds("eni-a", ip("10.0.0.9")));
    }
}
