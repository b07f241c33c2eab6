//! The network stack: one smoltcp interface over a [`Device`], and the table of sockets the
//! kernel's socket files refer to by [`SocketId`].
//!
//! Everything is non-blocking: an operation that would have to wait returns `EAGAIN`, and
//! the kernel sleeps until [`NetStack::poll`] reports progress. Protocol-specific operations
//! live in `tcp.rs` and `udp.rs`; this file owns the table, ports, options and polling.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::vec;
use alloc::vec::Vec;
use core::net::{Ipv4Addr, SocketAddrV4};

use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::time::Instant;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpCidr};
use tessera_abi::{Errno, KResult};

use crate::PollEvents;
use crate::device::{Device, MAX_FRAME, Phy, SelfQueue};
use crate::ports::EPHEMERAL;
use crate::tcp::TcpEntry;
use crate::udp::UdpEntry;

/// The interface's addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetConfig {
    /// The interface's IPv4 address.
    pub ip: Ipv4Addr,
    /// Its prefix length (24 for a /24).
    pub prefix_len: u8,
    /// The default route, if any.
    pub gateway: Option<Ipv4Addr>,
    /// Seeds TCP initial sequence numbers; vary it between boots.
    pub random_seed: u64,
}

impl NetConfig {
    /// QEMU's user networking: the guest is 10.0.2.15/24, the host (and the way out) 10.0.2.2.
    pub const fn qemu_user(random_seed: u64) -> Self {
        NetConfig {
            ip: Ipv4Addr::new(10, 0, 2, 15),
            prefix_len: 24,
            gateway: Some(Ipv4Addr::new(10, 0, 2, 2)),
            random_seed,
        }
    }
}

/// Names one socket of a [`NetStack`] (what a kernel socket file holds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SocketId(pub u32);

/// The transport protocol of an IPv4 socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// `SOCK_STREAM`.
    Tcp,
    /// `SOCK_DGRAM`.
    Udp,
}

pub(crate) enum Entry {
    Tcp(TcpEntry),
    Udp(UdpEntry),
}

/// A TCP connection whose socket was closed while smoltcp still finishes it (sending the
/// rest of the data and the FIN). Removed once closed, or at `deadline_ms`.
pub(crate) struct Orphan {
    pub(crate) handle: SocketHandle,
    pub(crate) deadline_ms: u64,
}

/// How long a closed connection may linger to deliver its data before it is aborted.
pub(crate) const ORPHAN_LINGER_MS: u64 = 60_000;
/// The network stack: interface, device and sockets.
pub struct NetStack<D: Device> {
    pub(crate) device: D,
    pub(crate) iface: Interface,
    pub(crate) sockets: SocketSet<'static>,
    selfq: SelfQueue,
    rx: Box<[u8; MAX_FRAME + 64]>,
    pub(crate) table: BTreeMap<SocketId, Entry>,
    pub(crate) orphans: Vec<Orphan>,
    next_id: u32,
    pub(crate) next_port: u16,
    pub(crate) now_ms: u64,
    pub(crate) config: NetConfig,
}

impl<D: Device> NetStack<D> {
    /// A stack on `device` with `config`'s address (and 127.0.0.1/8), at time `now_ms`.
    pub fn new(mut device: D, config: NetConfig, now_ms: u64) -> Self {
        let mac = device.mac();
        let mut iface_config = Config::new(HardwareAddress::Ethernet(EthernetAddress(mac)));
        iface_config.random_seed = config.random_seed;
        let mut selfq = SelfQueue::new(mac, vec![config.ip]);
        let mut rx = Box::new([0u8; MAX_FRAME + 64]);
        let iface = {
            let mut phy = Phy {
                device: &mut device,
                selfq: &mut selfq,
                rx: &mut rx,
            };
            let mut iface =
                Interface::new(iface_config, &mut phy, Instant::from_millis(now_ms as i64));
            iface.update_ip_addrs(|addrs| {
                addrs
                    .push(IpCidr::new(config.ip.into(), config.prefix_len))
                    .expect("room for the first address");
                addrs
                    .push(IpCidr::new(Ipv4Addr::LOCALHOST.into(), 8))
                    .expect("room for the loopback address");
            });
            if let Some(gateway) = config.gateway {
                iface
                    .routes_mut()
                    .add_default_ipv4_route(gateway)
                    .expect("room for the default route");
            }
            iface
        };
        NetStack {
            device,
            iface,
            sockets: SocketSet::new(Vec::new()),
            selfq,
            rx,
            table: BTreeMap::new(),
            orphans: Vec::new(),
            next_id: 1,
            next_port: *EPHEMERAL.start(),
            now_ms,
            config,
        }
    }

    /// The device (for the kernel's interrupt acknowledgement).
    pub fn device(&mut self) -> &mut D {
        &mut self.device
    }

    /// The interface's address configuration.
    pub fn config(&self) -> NetConfig {
        self.config
    }

    /// Moves packets: receives what the device has, sends what the sockets have, runs TCP's
    /// timers, then updates socket state (connections made or reset, listeners refilled,
    /// lingering connections reaped). Returns whether any socket may have changed, i.e.
    /// whether the kernel should wake the tasks waiting on sockets.
    pub fn poll(&mut self, now_ms: u64) -> bool {
        self.now_ms = self.now_ms.max(now_ms);
        let now = Instant::from_millis(self.now_ms as i64);
        let mut changed = false;
        // Frames we send ourselves come back through the self queue: a few rounds let a
        // loopback exchange (ARP, SYN, SYN-ACK, ACK) settle within one poll.
        for _ in 0..8 {
            let mut phy = Phy {
                device: &mut self.device,
                selfq: &mut self.selfq,
                rx: &mut self.rx,
            };
            let result = self.iface.poll(now, &mut phy, &mut self.sockets);
            changed |= result == smoltcp::iface::PollResult::SocketStateChanged;
            if !self.selfq.pending() {
                break;
            }
        }
        changed |= self.tcp_sweep();
        changed
    }

    /// Milliseconds until the stack needs [`NetStack::poll`] again (TCP timers), if ever.
    pub fn poll_delay_ms(&mut self, now_ms: u64) -> Option<u64> {
        if self.selfq.pending() {
            return Some(0);
        }
        let now = Instant::from_millis(now_ms.max(self.now_ms) as i64);
        self.iface
            .poll_delay(now, &self.sockets)
            .map(|d| d.total_millis())
    }

    /// A new socket.
    pub fn socket(&mut self, protocol: Protocol) -> KResult<SocketId> {
        let id = SocketId(self.next_id);
        self.next_id = self.next_id.checked_add(1).ok_or(Errno::ENFILE)?;
        let entry = match protocol {
            Protocol::Tcp => Entry::Tcp(TcpEntry::new()),
            Protocol::Udp => Entry::Udp(UdpEntry::new(&mut self.sockets)),
        };
        self.table.insert(id, entry);
        Ok(id)
    }

    /// The socket's protocol (EBADF for an unknown id).
    pub fn protocol(&self, id: SocketId) -> KResult<Protocol> {
        match self.table.get(&id).ok_or(Errno::EBADF)? {
            Entry::Tcp(_) => Ok(Protocol::Tcp),
            Entry::Udp(_) => Ok(Protocol::Udp),
        }
    }

    /// Number of open sockets (lingering connections not counted).
    pub fn socket_count(&self) -> usize {
        self.table.len()
    }

    /// Number of closed TCP connections still finishing in the background.
    pub fn lingering_count(&self) -> usize {
        self.orphans.len()
    }

    /// Closes a socket: a connection sends what it has buffered and a FIN in the background
    /// (or a RST if received data was left unread, as Linux does); a listener resets its
    /// pending connections.
    pub fn close(&mut self, id: SocketId) {
        match self.table.remove(&id) {
            Some(Entry::Tcp(entry)) => self.tcp_close(entry),
            Some(Entry::Udp(entry)) => {
                self.sockets.remove(entry.handle);
            }
            None => {}
        }
    }

    /// The local address (0.0.0.0:0 while unbound), as getsockname reports it.
    pub fn local_addr(&self, id: SocketId) -> KResult<SocketAddrV4> {
        let unbound = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0);
        match self.table.get(&id).ok_or(Errno::EBADF)? {
            Entry::Tcp(e) => Ok(e.local_addr(&self.sockets).unwrap_or(unbound)),
            Entry::Udp(e) => Ok(e.local.unwrap_or(unbound)),
        }
    }

    /// The peer's address (ENOTCONN without one), as getpeername reports it.
    pub fn peer_addr(&self, id: SocketId) -> KResult<SocketAddrV4> {
        match self.table.get(&id).ok_or(Errno::EBADF)? {
            Entry::Tcp(e) => e.peer_addr(),
            Entry::Udp(e) => e.peer.ok_or(Errno::ENOTCONN),
        }
    }

    /// Takes the pending error (`SO_ERROR`), if any.
    pub fn take_error(&mut self, id: SocketId) -> KResult<Option<Errno>> {
        match self.table.get_mut(&id).ok_or(Errno::EBADF)? {
            Entry::Tcp(e) => Ok(e.error.take()),
            Entry::Udp(_) => Ok(None),
        }
    }

    /// Whether the socket listens (`SO_ACCEPTCONN`).
    pub fn is_listening(&self, id: SocketId) -> KResult<bool> {
        match self.table.get(&id).ok_or(Errno::EBADF)? {
            Entry::Tcp(e) => Ok(e.is_listening()),
            Entry::Udp(_) => Ok(false),
        }
    }

    /// Readiness for poll/select: IN, OUT, ERR, HUP, RDHUP as Linux reports them.
    pub fn readiness(&self, id: SocketId) -> PollEvents {
        match self.table.get(&id) {
            Some(Entry::Tcp(e)) => e.readiness(&self.sockets),
            Some(Entry::Udp(e)) => e.readiness(&self.sockets),
            None => PollEvents::NVAL,
        }
    }

    /// Sends on a socket: a connected TCP stream (`to` ignored) or a UDP datagram to `to`
    /// or the connected peer. See `tcp_send` and `udp_send` for the errors.
    pub fn send(&mut self, id: SocketId, data: &[u8], to: Option<SocketAddrV4>) -> KResult<usize> {
        match self.protocol(id)? {
            Protocol::Tcp => self.tcp_send(id, data),
            Protocol::Udp => self.udp_send(id, data, to),
        }
    }

    /// Receives from a socket into `buf`: returns (bytes copied, the sender, the datagram's
    /// full length). For TCP the sender is the peer and the length the bytes copied; 0 bytes
    /// means end of stream. `peek` leaves the data queued.
    pub fn recv(
        &mut self,
        id: SocketId,
        buf: &mut [u8],
        peek: bool,
    ) -> KResult<(usize, SocketAddrV4, usize)> {
        match self.protocol(id)? {
            Protocol::Tcp => {
                let n = self.tcp_recv(id, buf, peek)?;
                let peer = self
                    .peer_addr(id)
                    .unwrap_or(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0));
                Ok((n, peer, n))
            }
            Protocol::Udp => self.udp_recv(id, buf, peek),
        }
    }

    /// Connects: TCP starts the handshake ([`Connect::InProgress`]; the kernel waits with
    /// [`NetStack::connect_result`]), UDP sets the default peer ([`Connect::Done`]).
    pub fn connect(&mut self, id: SocketId, to: SocketAddrV4) -> KResult<Connect> {
        match self.protocol(id)? {
            Protocol::Tcp => self.tcp_connect(id, to),
            Protocol::Udp => self.udp_connect(id, to).map(|()| Connect::Done),
        }
    }

    /// Shuts down reading (`SHUT_RD`), writing (`SHUT_WR`) or both. ENOTCONN when not
    /// connected.
    pub fn shutdown(&mut self, id: SocketId, read: bool, write: bool) -> KResult<()> {
        match self.protocol(id)? {
            Protocol::Tcp => self.tcp_shutdown(id, read, write),
            Protocol::Udp => self.udp_shutdown(id, read, write),
        }
    }

    /// The entry of a TCP socket (EBADF unknown, EOPNOTSUPP for UDP).
    pub(crate) fn tcp_entry(&mut self, id: SocketId) -> KResult<&mut TcpEntry> {
        match self.table.get_mut(&id).ok_or(Errno::EBADF)? {
            Entry::Tcp(e) => Ok(e),
            Entry::Udp(_) => Err(Errno::EOPNOTSUPP),
        }
    }

    /// The entry of a UDP socket.
    pub(crate) fn udp_entry(&mut self, id: SocketId) -> KResult<&mut UdpEntry> {
        match self.table.get_mut(&id).ok_or(Errno::EBADF)? {
            Entry::Udp(e) => Ok(e),
            Entry::Tcp(_) => Err(Errno::EOPNOTSUPP),
        }
    }
}

/// What [`NetStack::connect`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connect {
    /// Connected (UDP, or a TCP handshake that had completed).
    Done,
    /// The TCP handshake is under way.
    InProgress,
}
