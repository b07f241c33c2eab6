//! Listening: a pool of smoltcp listeners per socket, and accept.

use alloc::vec::Vec;
use core::net::{Ipv4Addr, SocketAddrV4};

use smoltcp::iface::SocketHandle;
use smoltcp::socket::tcp::{self};
use tessera_abi::{Errno, KResult};

use super::{MAX_BACKLOG, TcpState, listen_endpoint, new_socket, synchronized, v4};
use crate::device::Device;
use crate::options::SocketOptions;
use crate::stack::{Entry, NetStack, Protocol, SocketId};

impl<D: Device> NetStack<D> {
    fn new_listener(&mut self, opts: &SocketOptions, local: SocketAddrV4) -> SocketHandle {
        let mut socket = new_socket(opts);
        socket
            .listen(listen_endpoint(local))
            .expect("a fresh socket listens on a nonzero port");
        self.sockets.add(socket)
    }

    /// listen(2): EOPNOTSUPP for UDP, EINVAL once connecting or connected. An unbound
    /// socket gets an ephemeral port. `backlog` connections (at most [`MAX_BACKLOG`]) can
    /// complete their handshake before being accepted.
    pub fn listen(&mut self, id: SocketId, backlog: u32) -> KResult<()> {
        let want = (backlog as usize).saturating_add(1).clamp(1, MAX_BACKLOG);
        let entry = self.tcp_entry(id)?;
        match &entry.state {
            TcpState::Idle => {}
            TcpState::Listening { pool } if pool.len() >= want => return Ok(()),
            TcpState::Listening { .. } => {}
            _ => return Err(Errno::EINVAL),
        }
        let local = match entry.local {
            Some(local) => local,
            None => {
                let port = self.ephemeral_port(Protocol::Tcp)?;
                SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port)
            }
        };
        let (opts, have) = {
            let entry = self.tcp_entry(id)?;
            entry.local = Some(local);
            let have = match &entry.state {
                TcpState::Listening { pool } => pool.len(),
                _ => 0,
            };
            (entry.opts, have)
        };
        let fresh: Vec<SocketHandle> = (have..want)
            .map(|_| self.new_listener(&opts, local))
            .collect();
        let entry = self.tcp_entry(id)?;
        match &mut entry.state {
            TcpState::Listening { pool } => pool.extend(fresh),
            state => *state = TcpState::Listening { pool: fresh },
        }
        Ok(())
    }

    /// accept(2): a connection whose handshake completed, as a new socket, and its peer.
    /// EINVAL unless listening, EAGAIN when none is ready.
    pub fn accept(&mut self, id: SocketId) -> KResult<(SocketId, SocketAddrV4)> {
        let entry = match self.table.get_mut(&id).ok_or(Errno::EBADF)? {
            Entry::Tcp(entry) => entry,
            Entry::Udp(_) => return Err(Errno::EOPNOTSUPP),
        };
        let opts = entry.opts;
        let TcpState::Listening { pool } = &mut entry.state else {
            return Err(Errno::EINVAL);
        };
        let local = entry.local.ok_or(Errno::EINVAL)?;
        let sockets = &self.sockets;
        let at = pool
            .iter()
            .position(|h| synchronized(sockets.get::<tcp::Socket>(*h).state()))
            .ok_or(Errno::EAGAIN)?;
        let handle = pool.remove(at);
        let fresh = self.new_listener(&opts, local);
        if let TcpState::Listening { pool } = &mut self.tcp_entry(id)?.state {
            pool.push(fresh);
        }
        let socket = self.sockets.get::<tcp::Socket>(handle);
        let remote = socket.remote_endpoint().ok_or(Errno::ECONNABORTED)?;
        let local_end = socket.local_endpoint().ok_or(Errno::ECONNABORTED)?;
        let peer = SocketAddrV4::new(v4(remote.addr), remote.port);
        let state = socket.state();
        let conn = self.socket(Protocol::Tcp)?;
        let entry = self.tcp_entry(conn)?;
        entry.opts = opts;
        entry.local = Some(SocketAddrV4::new(v4(local_end.addr), local_end.port));
        entry.state = TcpState::Connected {
            handle,
            peer,
            last: state,
            reset: false,
        };
        Ok((conn, peer))
    }
}
