//! Local addresses and ports: `bind`, conflicts (`EADDRINUSE`, `SO_REUSEADDR`) and
//! ephemeral ports.

use core::net::SocketAddrV4;

use tessera_abi::{Errno, KResult};

use crate::device::Device;
use crate::stack::{Entry, NetStack, Protocol, SocketId};

/// The ephemeral port range (Linux's `ip_local_port_range`).
pub(crate) const EPHEMERAL: core::ops::RangeInclusive<u16> = 32768..=60999;

impl<D: Device> NetStack<D> {
    /// Binds to a local address (port 0: an ephemeral port). EINVAL if already bound,
    /// EADDRNOTAVAIL for an address not ours, EADDRINUSE for a port taken.
    pub fn bind(&mut self, id: SocketId, addr: SocketAddrV4) -> KResult<()> {
        let ip = *addr.ip();
        if !(ip.is_unspecified() || ip.is_loopback() || ip == self.config.ip) {
            return Err(Errno::EADDRNOTAVAIL);
        }
        let protocol = self.protocol(id)?;
        let (bound, reuse) = match self.table.get(&id).ok_or(Errno::EBADF)? {
            Entry::Tcp(e) => (e.local.is_some(), e.opts.reuse_addr),
            Entry::Udp(e) => (e.local.is_some(), e.opts.reuse_addr),
        };
        if bound {
            return Err(Errno::EINVAL);
        }
        let port = if addr.port() == 0 {
            self.ephemeral_port(protocol)?
        } else if self.port_in_use(protocol, addr.port(), reuse, Some(id)) {
            return Err(Errno::EADDRINUSE);
        } else {
            addr.port()
        };
        let local = SocketAddrV4::new(ip, port);
        match self.table.get_mut(&id).ok_or(Errno::EBADF)? {
            Entry::Tcp(e) => e.local = Some(local),
            Entry::Udp(e) => e.bind(&mut self.sockets, local)?,
        }
        Ok(())
    }

    /// Whether `port` is taken for `protocol`: bound or connected by another socket, or held
    /// by a lingering connection (which `SO_REUSEADDR` ignores, as do two UDP sockets that
    /// both set it).
    pub(crate) fn port_in_use(
        &self,
        protocol: Protocol,
        port: u16,
        reuse: bool,
        except: Option<SocketId>,
    ) -> bool {
        let in_table = self.table.iter().any(|(id, entry)| {
            Some(*id) != except
                && match (entry, protocol) {
                    (Entry::Tcp(e), Protocol::Tcp) => e.holds_port(port, reuse),
                    (Entry::Udp(e), Protocol::Udp) => {
                        e.local.is_some_and(|l| l.port() == port) && !(reuse && e.opts.reuse_addr)
                    }
                    _ => false,
                }
        });
        let lingering = protocol == Protocol::Tcp
            && !reuse
            && self.orphans.iter().any(|o| {
                self.sockets
                    .get::<smoltcp::socket::tcp::Socket>(o.handle)
                    .local_endpoint()
                    .is_some_and(|e| e.port == port)
            });
        in_table || lingering
    }

    /// A free ephemeral port, taken round-robin so that a port is not reused at once (the
    /// peer may still remember the previous connection on it).
    pub(crate) fn ephemeral_port(&mut self, protocol: Protocol) -> KResult<u16> {
        let span = (*EPHEMERAL.end() - *EPHEMERAL.start()) as u32 + 1;
        for _ in 0..span {
            let port = self.next_port;
            self.next_port = if port == *EPHEMERAL.end() {
                *EPHEMERAL.start()
            } else {
                port + 1
            };
            if !self.port_in_use(protocol, port, false, None) {
                return Ok(port);
            }
        }
        Err(Errno::EADDRINUSE)
    }
}
