//! UDP sockets: datagrams through smoltcp, with Linux's binding, connecting and errors.
//!
//! smoltcp sends only from bound sockets, so the first send of an unbound socket binds it
//! to an ephemeral port, as Linux does. A connected socket sends to its peer by default and
//! drops datagrams from anyone else.

use alloc::vec;
use core::net::{Ipv4Addr, SocketAddrV4};

use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::udp::{self, PacketBuffer, PacketMetadata};
use smoltcp::wire::{IpAddress, IpListenEndpoint};
use tessera_abi::{Errno, KResult};

use crate::PollEvents;
use crate::device::Device;
use crate::options::SocketOptions;
use crate::stack::{NetStack, Protocol, SocketId};

/// Datagrams a socket queues in each direction.
const QUEUE_DATAGRAMS: usize = 64;
/// Largest UDP payload over IPv4 (65535 - 20 - 8).
pub const MAX_DATAGRAM: usize = 65507;

pub(crate) struct UdpEntry {
    pub(crate) handle: SocketHandle,
    pub(crate) opts: SocketOptions,
    pub(crate) local: Option<SocketAddrV4>,
    pub(crate) peer: Option<SocketAddrV4>,
    shut_rd: bool,
    shut_wr: bool,
}

fn buffer(bytes: usize) -> PacketBuffer<'static> {
    PacketBuffer::new(
        vec![PacketMetadata::EMPTY; QUEUE_DATAGRAMS],
        vec![0u8; bytes.max(MAX_DATAGRAM)],
    )
}

impl UdpEntry {
    pub(crate) fn new(sockets: &mut SocketSet<'static>) -> Self {
        let opts = SocketOptions::default();
        let socket = udp::Socket::new(buffer(opts.recv_buf), buffer(opts.send_buf));
        UdpEntry {
            handle: sockets.add(socket),
            opts,
            local: None,
            peer: None,
            shut_rd: false,
            shut_wr: false,
        }
    }

    pub(crate) fn bind(
        &mut self,
        sockets: &mut SocketSet<'static>,
        local: SocketAddrV4,
    ) -> KResult<()> {
        let endpoint = IpListenEndpoint {
            addr: (!local.ip().is_unspecified()).then(|| (*local.ip()).into()),
            port: local.port(),
        };
        sockets
            .get_mut::<udp::Socket>(self.handle)
            .bind(endpoint)
            .map_err(|_| Errno::EINVAL)?;
        self.local = Some(local);
        Ok(())
    }

    pub(crate) fn apply_options(&self, sockets: &mut SocketSet<'static>) {
        sockets
            .get_mut::<udp::Socket>(self.handle)
            .set_hop_limit(Some(self.opts.ttl.max(1)));
    }

    pub(crate) fn readiness(&self, sockets: &SocketSet<'static>) -> PollEvents {
        let socket = sockets.get::<udp::Socket>(self.handle);
        let mut events = PollEvents::empty();
        if socket.can_recv() || self.shut_rd {
            events |= PollEvents::IN | PollEvents::RDNORM;
        }
        if socket.can_send() || !socket.is_open() {
            events |= PollEvents::OUT | PollEvents::WRNORM;
        }
        if self.shut_rd && self.shut_wr {
            events |= PollEvents::HUP;
        }
        events
    }
}

impl<D: Device> NetStack<D> {
    /// Binds an unbound UDP socket to an ephemeral port (before its first send).
    fn udp_autobind(&mut self, id: SocketId) -> KResult<()> {
        if self.udp_entry(id)?.local.is_none() {
            let port = self.ephemeral_port(Protocol::Udp)?;
            self.bind(id, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port))?;
        }
        Ok(())
    }

    pub(crate) fn udp_connect(&mut self, id: SocketId, to: SocketAddrV4) -> KResult<()> {
        let ip = if to.ip().is_unspecified() {
            Ipv4Addr::LOCALHOST
        } else {
            *to.ip()
        };
        self.udp_autobind(id)?;
        self.udp_entry(id)?.peer = Some(SocketAddrV4::new(ip, to.port()));
        Ok(())
    }

    /// sendto on a datagram socket: EDESTADDRREQ without a destination, EMSGSIZE over
    /// [`MAX_DATAGRAM`], EPIPE after SHUT_WR, EAGAIN when the queue is full.
    pub(crate) fn udp_send(
        &mut self,
        id: SocketId,
        data: &[u8],
        to: Option<SocketAddrV4>,
    ) -> KResult<usize> {
        let entry = self.udp_entry(id)?;
        if entry.shut_wr {
            return Err(Errno::EPIPE);
        }
        let to = to.or(entry.peer).ok_or(Errno::EDESTADDRREQ)?;
        if data.len() > MAX_DATAGRAM {
            return Err(Errno::EMSGSIZE);
        }
        if to.port() == 0 {
            return Err(Errno::EINVAL);
        }
        let ip = if to.ip().is_unspecified() {
            Ipv4Addr::LOCALHOST
        } else {
            *to.ip()
        };
        self.udp_autobind(id)?;
        let handle = self.udp_entry(id)?.handle;
        let socket = self.sockets.get_mut::<udp::Socket>(handle);
        if data.len() > socket.payload_send_capacity() {
            return Err(Errno::EMSGSIZE);
        }
        match socket.send_slice(data, SocketAddrV4::new(ip, to.port())) {
            Ok(()) => Ok(data.len()),
            Err(udp::SendError::BufferFull) => Err(Errno::EAGAIN),
            Err(udp::SendError::Unaddressable) => Err(Errno::ENETUNREACH),
        }
    }

    /// recvfrom on a datagram socket: (bytes copied, sender, datagram length). EAGAIN when
    /// nothing is queued, 0 after SHUT_RD.
    pub(crate) fn udp_recv(
        &mut self,
        id: SocketId,
        buf: &mut [u8],
        peek: bool,
    ) -> KResult<(usize, SocketAddrV4, usize)> {
        let entry = self.udp_entry(id)?;
        let (handle, peer, shut_rd) = (entry.handle, entry.peer, entry.shut_rd);
        let socket = self.sockets.get_mut::<udp::Socket>(handle);
        loop {
            let (payload, from) = match socket.peek() {
                Ok((payload, meta)) => (payload, meta.endpoint),
                Err(_) if shut_rd => {
                    return Ok((0, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0), 0));
                }
                Err(_) => return Err(Errno::EAGAIN),
            };
            let IpAddress::Ipv4(ip) = from.addr;
            let from = SocketAddrV4::new(ip, from.port);
            if peer.is_some_and(|p| p != from) {
                // Not from the connected peer: Linux never delivers it.
                let _ = socket.recv();
                continue;
            }
            let n = payload.len().min(buf.len());
            buf[..n].copy_from_slice(&payload[..n]);
            let len = payload.len();
            if !peek {
                let _ = socket.recv();
            }
            return Ok((n, from, len));
        }
    }

    pub(crate) fn udp_shutdown(&mut self, id: SocketId, read: bool, write: bool) -> KResult<()> {
        let entry = self.udp_entry(id)?;
        if entry.peer.is_none() {
            return Err(Errno::ENOTCONN);
        }
        entry.shut_rd |= read;
        entry.shut_wr |= write;
        Ok(())
    }
}
