//! Socket options (`setsockopt`/`getsockopt` state) and buffer sizes.

use tessera_abi::{Errno, KResult};

use crate::device::Device;
use crate::stack::{Entry, NetStack, SocketId};

/// The options a socket carries (`setsockopt` levels `SOL_SOCKET`, `IPPROTO_TCP`, `IPPROTO_IP`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SocketOptions {
    /// `SO_REUSEADDR`: bind may reuse a port that only lingering connections hold.
    pub reuse_addr: bool,
    /// `SO_KEEPALIVE`: probe an idle connection.
    pub keep_alive: bool,
    /// `TCP_NODELAY`: no Nagle.
    pub no_delay: bool,
    /// `SO_BROADCAST` (recorded; the stack sends broadcasts regardless).
    pub broadcast: bool,
    /// `SO_RCVBUF`: the receive buffer in bytes (applies to connections made afterwards).
    pub recv_buf: usize,
    /// `SO_SNDBUF`: the send buffer in bytes (applies to connections made afterwards).
    pub send_buf: usize,
    /// `IP_TTL`.
    pub ttl: u8,
}

/// Default receive buffer: the TCP window. Through QEMU's user network under TCG, 256 KiB
/// (window scaling) moves twice the bytes per second that 64 KiB does.
pub const DEFAULT_RECV_BUF: usize = 256 * 1024;
/// Default send buffer: what can be in flight unacknowledged.
pub const DEFAULT_SEND_BUF: usize = 128 * 1024;
/// Smallest and largest buffer `SO_RCVBUF`/`SO_SNDBUF` can set.
pub const MIN_BUF: usize = 2048;
/// See [`MIN_BUF`].
pub const MAX_BUF: usize = 1024 * 1024;

impl Default for SocketOptions {
    fn default() -> Self {
        SocketOptions {
            reuse_addr: false,
            keep_alive: false,
            no_delay: false,
            broadcast: false,
            recv_buf: DEFAULT_RECV_BUF,
            send_buf: DEFAULT_SEND_BUF,
            ttl: 64,
        }
    }
}

impl<D: Device> NetStack<D> {
    /// The options of a socket.
    pub fn options(&self, id: SocketId) -> KResult<SocketOptions> {
        match self.table.get(&id).ok_or(Errno::EBADF)? {
            Entry::Tcp(e) => Ok(e.opts),
            Entry::Udp(e) => Ok(e.opts),
        }
    }

    /// Sets the options of a socket (buffer sizes are clamped to [`MIN_BUF`]..[`MAX_BUF`]).
    pub fn set_options(&mut self, id: SocketId, mut opts: SocketOptions) -> KResult<()> {
        opts.recv_buf = opts.recv_buf.clamp(MIN_BUF, MAX_BUF);
        opts.send_buf = opts.send_buf.clamp(MIN_BUF, MAX_BUF);
        match self.table.get_mut(&id).ok_or(Errno::EBADF)? {
            Entry::Tcp(e) => {
                e.opts = opts;
                e.apply_options(&mut self.sockets);
            }
            Entry::Udp(e) => {
                e.opts = opts;
                e.apply_options(&mut self.sockets);
            }
        }
        Ok(())
    }
}
