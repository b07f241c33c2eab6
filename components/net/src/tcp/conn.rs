//! Connections: connect and its result, send, recv, shutdown.

use core::net::{Ipv4Addr, SocketAddrV4};

use smoltcp::socket::tcp::{self};
use smoltcp::time::Duration;
use tessera_abi::{Errno, KResult};

use super::{CONNECT_TIMEOUT_MS, TcpState, listen_endpoint, new_socket};
use crate::device::Device;
use crate::stack::{Connect, Entry, NetStack, Protocol, SocketId};

impl<D: Device> NetStack<D> {
    pub(crate) fn tcp_connect(&mut self, id: SocketId, to: SocketAddrV4) -> KResult<Connect> {
        let entry = self.tcp_entry(id)?;
        match entry.state {
            TcpState::Idle => {}
            TcpState::Listening { .. } => return Err(Errno::EISCONN),
            TcpState::Connecting { .. } => return Err(Errno::EALREADY),
            TcpState::Connected { .. } => return Err(Errno::EISCONN),
            TcpState::Failed(_) => {
                entry.state = TcpState::Idle;
                return Err(entry.error.take().unwrap_or(Errno::ECONNABORTED));
            }
        }
        // 0.0.0.0 means this host, as on Linux.
        let ip = if to.ip().is_unspecified() {
            Ipv4Addr::LOCALHOST
        } else {
            *to.ip()
        };
        if to.port() == 0 {
            return Err(Errno::ECONNREFUSED);
        }
        let local = match entry.local {
            Some(local) => local,
            None => {
                let port = self.ephemeral_port(Protocol::Tcp)?;
                SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port)
            }
        };
        let opts = self.tcp_entry(id)?.opts;
        let mut socket = new_socket(&opts);
        socket.set_timeout(Some(Duration::from_millis(CONNECT_TIMEOUT_MS)));
        let remote = SocketAddrV4::new(ip, to.port());
        socket
            .connect(self.iface.context(), remote, listen_endpoint(local))
            .map_err(|e| match e {
                tcp::ConnectError::InvalidState => Errno::EISCONN,
                tcp::ConnectError::Unaddressable => Errno::ENETUNREACH,
            })?;
        let handle = self.sockets.add(socket);
        let since_ms = self.now_ms;
        let entry = self.tcp_entry(id)?;
        entry.local = Some(local);
        entry.state = TcpState::Connecting { handle, since_ms };
        Ok(Connect::InProgress)
    }

    /// Where a connect under way stands: `None` while the handshake runs, then its result
    /// (a failure is reported once, here or by the next connect).
    pub fn connect_result(&mut self, id: SocketId) -> Option<KResult<()>> {
        let entry = match self.table.get_mut(&id) {
            Some(Entry::Tcp(entry)) => entry,
            Some(Entry::Udp(_)) => return Some(Ok(())),
            None => return Some(Err(Errno::EBADF)),
        };
        match entry.state {
            TcpState::Connecting { .. } => None,
            TcpState::Connected { .. } => Some(Ok(())),
            TcpState::Failed(e) => {
                entry.state = TcpState::Idle;
                entry.error = None;
                Some(Err(e))
            }
            TcpState::Idle | TcpState::Listening { .. } => Some(Err(Errno::ECONNABORTED)),
        }
    }

    /// send on a stream: EPIPE if not connected or shut down for writing (the kernel adds
    /// SIGPIPE), the pending error (ECONNRESET), EAGAIN when the buffer is full or the
    /// handshake still runs.
    pub(crate) fn tcp_send(&mut self, id: SocketId, data: &[u8]) -> KResult<usize> {
        let entry = self.tcp_entry(id)?;
        if entry.shut_wr {
            return Err(Errno::EPIPE);
        }
        let handle = match entry.state {
            TcpState::Connected { handle, .. } => handle,
            TcpState::Connecting { .. } => return Err(Errno::EAGAIN),
            _ => return Err(entry.error.take().unwrap_or(Errno::EPIPE)),
        };
        if let Some(e) = entry.error.take() {
            return Err(e);
        }
        let socket = self.sockets.get_mut::<tcp::Socket>(handle);
        if !socket.may_send() {
            return Err(Errno::EPIPE);
        }
        if data.is_empty() {
            return Ok(0);
        }
        match socket.send_slice(data) {
            Ok(0) => Err(Errno::EAGAIN),
            Ok(n) => Ok(n),
            Err(_) => Err(Errno::EPIPE),
        }
    }

    /// recv on a stream: 0 at end of stream (or after SHUT_RD), ENOTCONN if not connected,
    /// the pending error once, EAGAIN when nothing has arrived.
    pub(crate) fn tcp_recv(&mut self, id: SocketId, buf: &mut [u8], peek: bool) -> KResult<usize> {
        let entry = self.tcp_entry(id)?;
        let handle = match entry.state {
            TcpState::Connected { handle, .. } => handle,
            TcpState::Connecting { .. } => return Err(Errno::EAGAIN),
            _ => return Err(Errno::ENOTCONN),
        };
        if let Some(e) = entry.error.take() {
            return Err(e);
        }
        if entry.shut_rd || buf.is_empty() {
            return Ok(0);
        }
        let socket = self.sockets.get_mut::<tcp::Socket>(handle);
        let got = if peek {
            socket.peek_slice(buf)
        } else {
            socket.recv_slice(buf)
        };
        match got {
            Ok(0) if socket.may_recv() => Err(Errno::EAGAIN),
            Ok(n) => Ok(n),
            Err(_) => Ok(0),
        }
    }

    pub(crate) fn tcp_shutdown(&mut self, id: SocketId, read: bool, write: bool) -> KResult<()> {
        let entry = self.tcp_entry(id)?;
        let handle = match entry.state {
            TcpState::Connected { handle, .. } => handle,
            TcpState::Listening { .. } => return Ok(()),
            _ => {
                // Linux records the shutdown even so (poll then reports the read side shut).
                entry.shut_rd |= read;
                entry.shut_wr |= write;
                return Err(Errno::ENOTCONN);
            }
        };
        entry.shut_rd |= read;
        if write && !entry.shut_wr {
            entry.shut_wr = true;
            self.sockets.get_mut::<tcp::Socket>(handle).close();
        }
        Ok(())
    }
}
