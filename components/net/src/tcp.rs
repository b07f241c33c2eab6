//! TCP sockets: Linux's connection states and errors on top of smoltcp sockets.
//!
//! A listening socket keeps a pool of smoltcp sockets listening on its port (smoltcp gives
//! each handshake its own socket): `accept` takes an established one out of the pool and
//! puts a fresh listener in its place, so up to the backlog of connections can complete
//! before the server accepts them. After every poll, [`NetStack::tcp_sweep`] turns smoltcp
//! state changes into Linux's: a handshake done or refused (RST: `ECONNREFUSED`), a
//! connection reset (`ECONNRESET`), a listener to refill, a closed connection to reap.

use alloc::vec::Vec;
use core::net::{Ipv4Addr, SocketAddrV4};

use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::tcp::{self, State};
use smoltcp::time::Duration;
use smoltcp::wire::{IpAddress, IpListenEndpoint};
use tessera_abi::{Errno, KResult};

use crate::PollEvents;
use crate::device::Device;
use crate::stack::{
    Connect, Entry, NetStack, ORPHAN_LINGER_MS, Orphan, Protocol, SocketId, SocketOptions,
};

/// A connection attempt gives up after this long without an answer (`ETIMEDOUT`).
pub const CONNECT_TIMEOUT_MS: u64 = 20_000;
/// Most connections a listener keeps ready to accept (its pool of smoltcp listeners).
pub const MAX_BACKLOG: usize = 16;
/// Keep-alive probe interval when `SO_KEEPALIVE` is on.
const KEEPALIVE: Duration = Duration::from_secs(75);

pub(crate) enum TcpState {
    /// Fresh, or bound.
    Idle,
    /// Listening: a pool of smoltcp sockets in LISTEN (or with a handshake done, to accept).
    Listening { pool: Vec<SocketHandle> },
    /// The handshake is under way.
    Connecting { handle: SocketHandle, since_ms: u64 },
    /// Connected (made by connect or accept); `last` is the smoltcp state at the last sweep.
    Connected {
        handle: SocketHandle,
        peer: SocketAddrV4,
        last: State,
        reset: bool,
    },
    /// The handshake failed; the next connect reports it and starts over.
    Failed(Errno),
}

pub(crate) struct TcpEntry {
    pub(crate) opts: SocketOptions,
    /// The bound (or, once connected, the local) address.
    pub(crate) local: Option<SocketAddrV4>,
    pub(crate) state: TcpState,
    /// The pending error (`SO_ERROR`; also returned once by the next send or recv).
    pub(crate) error: Option<Errno>,
    shut_rd: bool,
    shut_wr: bool,
}

fn v4(addr: IpAddress) -> Ipv4Addr {
    match addr {
        IpAddress::Ipv4(ip) => ip,
    }
}

/// Whether the handshake is over in smoltcp state `s` (successfully or not yet closed).
fn synchronized(s: State) -> bool {
    !matches!(
        s,
        State::Closed | State::Listen | State::SynSent | State::SynReceived
    )
}

/// Whether the peer sent its FIN (nothing more will arrive).
fn peer_finished(s: State) -> bool {
    matches!(
        s,
        State::CloseWait | State::LastAck | State::Closing | State::TimeWait | State::Closed
    )
}

impl TcpEntry {
    pub(crate) fn new() -> Self {
        TcpEntry {
            opts: SocketOptions::default(),
            local: None,
            state: TcpState::Idle,
            error: None,
            shut_rd: false,
            shut_wr: false,
        }
    }

    pub(crate) fn is_listening(&self) -> bool {
        matches!(self.state, TcpState::Listening { .. })
    }

    /// Whether this socket keeps another from binding `port` (see `NetStack::port_in_use`).
    pub(crate) fn holds_port(&self, port: u16, reuse: bool) -> bool {
        self.local.is_some_and(|l| l.port() == port)
            && (self.is_listening() || !(reuse && self.opts.reuse_addr))
    }

    fn handle(&self) -> Option<SocketHandle> {
        match self.state {
            TcpState::Connecting { handle, .. } | TcpState::Connected { handle, .. } => {
                Some(handle)
            }
            _ => None,
        }
    }

    /// Pushes the options into the smoltcp sockets this entry has.
    pub(crate) fn apply_options(&self, sockets: &mut SocketSet<'static>) {
        let handles: Vec<SocketHandle> = match &self.state {
            TcpState::Listening { pool } => pool.clone(),
            _ => self.handle().into_iter().collect(),
        };
        for handle in handles {
            configure(sockets.get_mut::<tcp::Socket>(handle), &self.opts);
        }
    }

    pub(crate) fn local_addr(&self, sockets: &SocketSet<'static>) -> Option<SocketAddrV4> {
        let connected = self.handle().and_then(|h| {
            sockets
                .get::<tcp::Socket>(h)
                .local_endpoint()
                .map(|e| SocketAddrV4::new(v4(e.addr), e.port))
        });
        connected.or(self.local)
    }

    pub(crate) fn peer_addr(&self) -> KResult<SocketAddrV4> {
        match self.state {
            TcpState::Connected { peer, .. } => Ok(peer),
            _ => Err(Errno::ENOTCONN),
        }
    }

    /// Linux's `tcp_poll`.
    pub(crate) fn readiness(&self, sockets: &SocketSet<'static>) -> PollEvents {
        let err = if self.error.is_some() {
            PollEvents::ERR
        } else {
            PollEvents::empty()
        };
        let out = PollEvents::OUT | PollEvents::WRNORM;
        let inn = PollEvents::IN | PollEvents::RDNORM;
        match &self.state {
            TcpState::Listening { pool } => {
                if pool
                    .iter()
                    .any(|h| synchronized(sockets.get::<tcp::Socket>(*h).state()))
                {
                    inn
                } else {
                    PollEvents::empty()
                }
            }
            TcpState::Idle | TcpState::Failed(_) if self.shut_rd => {
                out | PollEvents::HUP | err | inn | PollEvents::RDHUP
            }
            TcpState::Idle | TcpState::Failed(_) => out | PollEvents::HUP | err,
            TcpState::Connecting { .. } => err,
            TcpState::Connected { handle, .. } => {
                let socket = sockets.get::<tcp::Socket>(*handle);
                let state = socket.state();
                let finished = peer_finished(state);
                let mut events = err;
                if (finished && self.shut_wr) || state == State::Closed {
                    events |= PollEvents::HUP;
                }
                if finished || self.shut_rd {
                    events |= inn | PollEvents::RDHUP;
                }
                if socket.recv_queue() > 0 {
                    events |= inn;
                }
                if self.shut_wr || socket.can_send() || !socket.may_send() {
                    events |= out;
                }
                events
            }
        }
    }
}

/// A smoltcp socket with `opts`' buffers.
fn new_socket(opts: &SocketOptions) -> tcp::Socket<'static> {
    let mut socket = tcp::Socket::new(
        tcp::SocketBuffer::new(alloc::vec![0u8; opts.recv_buf]),
        tcp::SocketBuffer::new(alloc::vec![0u8; opts.send_buf]),
    );
    configure(&mut socket, opts);
    socket
}

fn configure(socket: &mut tcp::Socket<'static>, opts: &SocketOptions) {
    socket.set_nagle_enabled(!opts.no_delay);
    socket.set_keep_alive(opts.keep_alive.then_some(KEEPALIVE));
    socket.set_hop_limit(Some(opts.ttl.max(1)));
}

fn listen_endpoint(local: SocketAddrV4) -> IpListenEndpoint {
    IpListenEndpoint {
        addr: (!local.ip().is_unspecified()).then(|| (*local.ip()).into()),
        port: local.port(),
    }
}

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

    /// The socket is gone from the table: finish or reset its connections in the background.
    pub(crate) fn tcp_close(&mut self, entry: TcpEntry) {
        let deadline_ms = self.now_ms + ORPHAN_LINGER_MS;
        match entry.state {
            TcpState::Listening { pool } => {
                for handle in pool {
                    let socket = self.sockets.get_mut::<tcp::Socket>(handle);
                    if socket.state() == State::Listen {
                        self.sockets.remove(handle);
                    } else {
                        // A handshake done or under way: reset it, as Linux does.
                        socket.abort();
                        self.orphans.push(Orphan {
                            handle,
                            deadline_ms,
                        });
                    }
                }
            }
            TcpState::Connecting { handle, .. } | TcpState::Connected { handle, .. } => {
                let socket = self.sockets.get_mut::<tcp::Socket>(handle);
                if socket.recv_queue() > 0 {
                    // Unread data: Linux resets the connection instead of closing it.
                    socket.abort();
                } else {
                    socket.close();
                }
                self.orphans.push(Orphan {
                    handle,
                    deadline_ms,
                });
            }
            TcpState::Idle | TcpState::Failed(_) => {}
        }
    }

    /// After a poll: handshakes done or failed, resets, listeners refilled, orphans reaped.
    /// Returns whether any socket changed in a way a waiter may care about.
    pub(crate) fn tcp_sweep(&mut self) -> bool {
        let now = self.now_ms;
        let mut changed = false;
        let mut relisten = Vec::new();
        let mut dead = Vec::new();
        for entry in self.table.values_mut() {
            let Entry::Tcp(entry) = entry else { continue };
            match &mut entry.state {
                TcpState::Connecting { handle, since_ms } => {
                    let socket = self.sockets.get_mut::<tcp::Socket>(*handle);
                    let state = socket.state();
                    if synchronized(state) {
                        socket.set_timeout(None);
                        let remote = socket.remote_endpoint().expect("a connection has a peer");
                        entry.state = TcpState::Connected {
                            handle: *handle,
                            peer: SocketAddrV4::new(v4(remote.addr), remote.port),
                            last: state,
                            reset: false,
                        };
                        changed = true;
                    } else if state == State::Closed {
                        let e = if now.saturating_sub(*since_ms) >= CONNECT_TIMEOUT_MS {
                            Errno::ETIMEDOUT
                        } else {
                            Errno::ECONNREFUSED
                        };
                        dead.push(*handle);
                        entry.state = TcpState::Failed(e);
                        entry.error = Some(e);
                        changed = true;
                    }
                }
                TcpState::Connected {
                    handle,
                    last,
                    reset,
                    ..
                } => {
                    let state = self.sockets.get::<tcp::Socket>(*handle).state();
                    if state == State::Closed
                        && !*reset
                        && !matches!(*last, State::LastAck | State::TimeWait | State::Closed)
                    {
                        *reset = true;
                        entry.error = Some(Errno::ECONNRESET);
                    }
                    changed |= state != *last;
                    *last = state;
                }
                TcpState::Listening { pool } => {
                    for handle in pool.iter() {
                        if self.sockets.get::<tcp::Socket>(*handle).state() == State::Closed {
                            relisten.push((*handle, entry.local));
                        }
                    }
                }
                TcpState::Idle | TcpState::Failed(_) => {}
            }
        }
        for handle in dead {
            self.sockets.remove(handle);
        }
        for (handle, local) in relisten {
            if let Some(local) = local {
                // A handshake reset before accept: listen again in its place.
                let _ = self
                    .sockets
                    .get_mut::<tcp::Socket>(handle)
                    .listen(listen_endpoint(local));
            }
        }
        let sockets = &mut self.sockets;
        self.orphans.retain(|orphan| {
            let socket = sockets.get_mut::<tcp::Socket>(orphan.handle);
            match socket.state() {
                State::Closed | State::TimeWait => {
                    sockets.remove(orphan.handle);
                    false
                }
                _ if now >= orphan.deadline_ms => {
                    // Aborted now; removed (its RST sent) after the next poll.
                    socket.abort();
                    true
                }
                _ => true,
            }
        });
        changed
    }
}
