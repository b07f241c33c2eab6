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
use crate::options::SocketOptions;

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
    pub(super) shut_rd: bool,
    pub(super) shut_wr: bool,
}

pub(super) fn v4(addr: IpAddress) -> Ipv4Addr {
    match addr {
        IpAddress::Ipv4(ip) => ip,
    }
}

/// Whether the handshake is over in smoltcp state `s` (successfully or not yet closed).
pub(super) fn synchronized(s: State) -> bool {
    !matches!(
        s,
        State::Closed | State::Listen | State::SynSent | State::SynReceived
    )
}

/// Whether the peer sent its FIN (nothing more will arrive).
pub(super) fn peer_finished(s: State) -> bool {
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

    pub(super) fn handle(&self) -> Option<SocketHandle> {
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
pub(super) fn new_socket(opts: &SocketOptions) -> tcp::Socket<'static> {
    let mut socket = tcp::Socket::new(
        tcp::SocketBuffer::new(alloc::vec![0u8; opts.recv_buf]),
        tcp::SocketBuffer::new(alloc::vec![0u8; opts.send_buf]),
    );
    configure(&mut socket, opts);
    socket
}

pub(super) fn configure(socket: &mut tcp::Socket<'static>, opts: &SocketOptions) {
    socket.set_nagle_enabled(!opts.no_delay);
    socket.set_keep_alive(opts.keep_alive.then_some(KEEPALIVE));
    socket.set_hop_limit(Some(opts.ttl.max(1)));
}

pub(super) fn listen_endpoint(local: SocketAddrV4) -> IpListenEndpoint {
    IpListenEndpoint {
        addr: (!local.ip().is_unspecified()).then(|| (*local.ip()).into()),
        port: local.port(),
    }
}

mod conn;
mod listen;
mod sweep;
