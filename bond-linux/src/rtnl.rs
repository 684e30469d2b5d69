//! Carrier and address events: an rtnetlink socket subscribed to `RTNLGRP_LINK`, so a member
//! losing carrier reaches the bond at once instead of at the next `miimon` poll (and a change of
//! the TAP's flags or MTU reaches the members), and to the IPv4/IPv6 address groups, so the bond
//! knows the addresses on its TAP that it must announce (gratuitous ARP, unsolicited NA) after a
//! failover.

use std::io;
use std::net::IpAddr;
use std::os::fd::{AsFd, BorrowedFd};

use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage, State};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

/// Legacy group bits: `RTMGRP_LINK` (`RTNLGRP_LINK`), `RTMGRP_IPV4_IFADDR`,
/// `RTMGRP_IPV6_IFADDR`.
const GROUPS: u32 = 0x1 | 0x10 | 0x100;
/// Netlink header length.
const NLMSG_HDRLEN: usize = 16;

/// What a link message said about one interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkUpdate {
    /// Interface index.
    pub ifindex: u32,
    /// Interface name, if the message carried it.
    pub name: Option<String>,
    /// `IFF_*` flags.
    pub flags: u32,
    /// RFC 2863 operational state (`IFLA_OPERSTATE`), if present.
    pub operstate: Option<String>,
    /// The MTU (`IFLA_MTU`), if present.
    pub mtu: Option<u32>,
    /// The interface is gone (`RTM_DELLINK`) — or left this network namespace.
    pub removed: bool,
}

impl LinkUpdate {
    /// Whether the interface has carrier: administratively up with the lower layer up
    /// (`IFF_UP && IFF_LOWER_UP`), what `netif_running && netif_carrier_ok` means to bonding.
    pub fn carrier(&self) -> bool {
        let f = LinkFlags::from_bits_retain(self.flags);
        !self.removed && f.contains(LinkFlags::Up) && f.contains(LinkFlags::LowerUp)
    }

    /// Whether `IFF_PROMISC` is set.
    pub fn promisc(&self) -> bool {
        LinkFlags::from_bits_retain(self.flags).contains(LinkFlags::Promisc)
    }
}

/// An address added to or removed from an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressUpdate {
    /// Interface index.
    pub ifindex: u32,
    /// The address (`IFA_LOCAL` for IPv4, `IFA_ADDRESS` for IPv6).
    pub ip: IpAddr,
    /// Removed (`RTM_DELADDR`) rather than added.
    pub removed: bool,
}

/// One message of interest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    /// A link changed.
    Link(LinkUpdate),
    /// An address changed.
    Address(AddressUpdate),
}

/// One read from the monitor.
#[derive(Debug)]
pub enum Batch {
    /// Updates, in the order the kernel sent them.
    Updates(Vec<Update>),
    /// The socket overflowed (`ENOBUFS`) and updates were lost: sample every port again.
    Overrun,
}

/// A non-blocking rtnetlink socket that hears about every link and address change in this
/// network namespace.
#[derive(Debug)]
pub struct NetlinkMonitor {
    sock: Socket,
    buf: Vec<u8>,
}

impl NetlinkMonitor {
    /// Open the socket and join the link and address groups.
    pub fn open() -> io::Result<Self> {
        let mut sock = Socket::new(NETLINK_ROUTE)?;
        sock.bind(&SocketAddr::new(0, GROUPS))?;
        sock.set_non_blocking(true)?;
        // Best effort: a bigger buffer makes overruns rare when many links flap at once.
        let _ = sock.set_rx_buf_sz(1 << 20);
        Ok(Self {
            sock,
            buf: vec![0; 64 * 1024],
        })
    }

    /// Read what is waiting; `None` if nothing is.
    pub fn read(&mut self) -> io::Result<Option<Batch>> {
        let n = {
            let mut slice = &mut self.buf[..];
            match self.sock.recv(&mut slice, libc::MSG_DONTWAIT) {
                Ok(n) => n.min(self.buf.len()),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(None),
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    return Ok(Some(Batch::Overrun))
                }
                Err(e) => return Err(e),
            }
        };
        Ok(Some(Batch::Updates(parse_datagram(&self.buf[..n]))))
    }
}

impl AsFd for NetlinkMonitor {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

/// Add `ip/prefix_len` to interface `ifindex`, as `ip addr add` does (`RTM_NEWADDR`), and wait
/// for the kernel's answer. An address that is already there is not an error.
pub fn add_address(ifindex: u32, ip: IpAddr, prefix_len: u8) -> io::Result<()> {
    use netlink_packet_core::{NetlinkHeader, NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST};
    use netlink_packet_route::AddressFamily;

    let mut msg = AddressMessage::default();
    msg.header.index = ifindex;
    msg.header.prefix_len = prefix_len;
    match ip {
        IpAddr::V4(_) => {
            msg.header.family = AddressFamily::Inet;
            // IFA_LOCAL is the address, IFA_ADDRESS the peer, which on a broadcast link is the
            // address again (what `ip addr add` sends).
            msg.attributes.push(AddressAttribute::Local(ip));
            msg.attributes.push(AddressAttribute::Address(ip));
        }
        IpAddr::V6(_) => {
            msg.header.family = AddressFamily::Inet6;
            msg.attributes.push(AddressAttribute::Address(ip));
        }
    }
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
    header.sequence_number = 1;
    let mut req = NetlinkMessage::new(
        header,
        NetlinkPayload::from(RouteNetlinkMessage::NewAddress(msg)),
    );
    req.finalize();
    let mut buf = vec![0; req.buffer_len()];
    req.serialize(&mut buf);

    let mut sock = Socket::new(NETLINK_ROUTE)?;
    sock.bind_auto()?;
    sock.connect(&SocketAddr::new(0, 0))?;
    sock.send(&buf, 0)?;
    let mut rx = vec![0u8; 8192];
    loop {
        let n = {
            let mut slice = &mut rx[..];
            sock.recv(&mut slice, 0)?.min(rx.len())
        };
        let mut data = &rx[..n];
        while data.len() >= NLMSG_HDRLEN {
            let len = u32::from_ne_bytes([data[0], data[1], data[2], data[3]]) as usize;
            if len < NLMSG_HDRLEN || len > data.len() {
                break;
            }
            let msg = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&data[..len])
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
            if msg.header.sequence_number == 1 {
                if let NetlinkPayload::Error(e) = msg.payload {
                    return match e.code {
                        None => Ok(()),
                        Some(c) if c.get().abs() == libc::EEXIST => Ok(()),
                        Some(_) => Err(e.to_io()),
                    };
                }
            }
            let next = (len + 3) & !3;
            data = data.get(next..).unwrap_or(&[]);
        }
    }
}

/// The updates in one netlink datagram (which may hold several messages). Messages that do not
/// parse, or are of no interest, are skipped: one odd message must not hide the rest.
pub fn parse_datagram(mut data: &[u8]) -> Vec<Update> {
    let mut out = Vec::new();
    while data.len() >= NLMSG_HDRLEN {
        let len = u32::from_ne_bytes([data[0], data[1], data[2], data[3]]) as usize;
        if len < NLMSG_HDRLEN || len > data.len() {
            break;
        }
        if let Ok(msg) = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&data[..len]) {
            match msg.payload {
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(link)) => {
                    out.push(Update::Link(link_update(&link, false)));
                }
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelLink(link)) => {
                    out.push(Update::Link(link_update(&link, true)));
                }
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewAddress(a)) => {
                    out.extend(address_update(&a, false).map(Update::Address));
                }
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelAddress(a)) => {
                    out.extend(address_update(&a, true).map(Update::Address));
                }
                _ => {}
            }
        }
        let next = (len + 3) & !3;
        data = data.get(next..).unwrap_or(&[]);
    }
    out
}

fn link_update(link: &LinkMessage, removed: bool) -> LinkUpdate {
    let mut update = LinkUpdate {
        ifindex: link.header.index,
        name: None,
        flags: link.header.flags.bits(),
        operstate: None,
        mtu: None,
        removed,
    };
    for attr in &link.attributes {
        match attr {
            LinkAttribute::IfName(n) => update.name = Some(n.clone()),
            LinkAttribute::OperState(s) => update.operstate = Some(operstate_name(*s).into()),
            LinkAttribute::Mtu(m) => update.mtu = Some(*m),
            _ => {}
        }
    }
    update
}

fn address_update(a: &AddressMessage, removed: bool) -> Option<AddressUpdate> {
    let mut local = None;
    let mut address = None;
    for attr in &a.attributes {
        match attr {
            AddressAttribute::Local(ip) => local = Some(*ip),
            AddressAttribute::Address(ip) => address = Some(*ip),
            _ => {}
        }
    }
    // IFA_LOCAL is the interface's own IPv4 address (IFA_ADDRESS is the peer on point-to-point
    // links); IPv6 has only IFA_ADDRESS.
    Some(AddressUpdate {
        ifindex: a.header.index,
        ip: local.or(address)?,
        removed,
    })
}

fn operstate_name(s: State) -> &'static str {
    match s {
        State::Unknown => "unknown",
        State::NotPresent => "notpresent",
        State::Down => "down",
        State::LowerLayerDown => "lowerlayerdown",
        State::Testing => "testing",
        State::Dormant => "dormant",
        State::Up => "up",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::NetlinkHeader;

    fn encode(msg: RouteNetlinkMessage) -> Vec<u8> {
        let mut m = NetlinkMessage::new(NetlinkHeader::default(), NetlinkPayload::from(msg));
        m.finalize();
        let mut buf = vec![0; m.buffer_len()];
        m.serialize(&mut buf);
        buf
    }

    fn link(index: u32, flags: LinkFlags, name: &str) -> LinkMessage {
        let mut l = LinkMessage::default();
        l.header.index = index;
        l.header.flags = flags;
        l.attributes.push(LinkAttribute::IfName(name.into()));
        l.attributes.push(LinkAttribute::OperState(State::Up));
        l.attributes.push(LinkAttribute::Mtu(9000));
        l
    }

    #[test]
    fn parses_new_and_del_link_in_one_datagram() {
        let mut data = encode(RouteNetlinkMessage::NewLink(link(
            7,
            LinkFlags::Up | LinkFlags::LowerUp | LinkFlags::Running,
            "veth0",
        )));
        data.extend(encode(RouteNetlinkMessage::DelLink(link(
            8,
            LinkFlags::Up,
            "veth1",
        ))));
        let updates: Vec<LinkUpdate> = parse_datagram(&data)
            .into_iter()
            .map(|u| match u {
                Update::Link(l) => l,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(updates.len(), 2);
        assert_eq!(updates[0].ifindex, 7);
        assert_eq!(updates[0].name.as_deref(), Some("veth0"));
        assert_eq!(updates[0].operstate.as_deref(), Some("up"));
        assert_eq!(updates[0].mtu, Some(9000));
        assert!(updates[0].carrier());
        assert!(updates[1].removed);
        assert!(!updates[1].carrier());
    }

    #[test]
    fn no_lower_up_means_no_carrier() {
        let data = encode(RouteNetlinkMessage::NewLink(link(3, LinkFlags::Up, "eth0")));
        let Update::Link(l) = &parse_datagram(&data)[0] else {
            panic!()
        };
        assert!(!l.carrier());
    }

    #[test]
    fn address_updates_carry_the_local_address() {
        use netlink_packet_route::address::AddressMessage;
        let mut a = AddressMessage::default();
        a.header.index = 9;
        a.attributes
            .push(AddressAttribute::Address("10.0.0.9".parse().unwrap()));
        a.attributes
            .push(AddressAttribute::Local("10.0.0.1".parse().unwrap()));
        let data = encode(RouteNetlinkMessage::DelAddress(a));
        assert_eq!(
            parse_datagram(&data),
            vec![Update::Address(AddressUpdate {
                ifindex: 9,
                ip: "10.0.0.1".parse().unwrap(),
                removed: true
            })]
        );
    }

    #[test]
    fn garbage_is_skipped_without_panic() {
        assert!(parse_datagram(&[0xff; 40]).is_empty());
        assert!(parse_datagram(&[]).is_empty());
        let mut data = encode(RouteNetlinkMessage::NewLink(link(3, LinkFlags::Up, "eth0")));
        data.truncate(data.len() - 1);
        assert!(parse_datagram(&data).is_empty());
    }
}
