//! AF_UNIX socket files: `tessera-net`'s Unix streams and names behind the file interface.
//!
//! Names live in one namespace of their own: binding a path does not create a file, and the
//! name is freed when the bound socket closes (Linux keeps a socket file until unlinked).
//! Datagram sockets work as socketpairs only (they cannot listen, as on Linux, and sending
//! to a bound name is not implemented).

use alloc::sync::Arc;
use alloc::vec::Vec;

use tessera_abi::fs::FIONREAD;
use tessera_abi::net::*;
use tessera_abi::poll::PollEvents;
use tessera_abi::{Errno, KResult};
use tessera_net::addr::{self, UnixAddr};
use tessera_net::{UnixKind, UnixListener, UnixNamespace, UnixStream};
use tessera_sync::SpinLock;

use super::sockopt::{Timeouts, int, int_bytes};
use super::{Socket, register, unregister, wait, wake_all};
use crate::fs::file::{FileOps, USER_CHUNK};
use crate::fs::stat::Stat;

static NAMES: SpinLock<UnixNamespace> = SpinLock::new(UnixNamespace::new());

enum State {
    Unbound,
    Bound(UnixAddr),
    Listening(UnixAddr, UnixListener),
    Connected {
        stream: UnixStream,
        local: UnixAddr,
        peer: UnixAddr,
    },
    Closed,
}

/// A Unix domain socket.
pub struct UnixSocket {
    kind: UnixKind,
    state: SpinLock<State>,
    timeouts: Timeouts,
    ino: u64,
}

static NEXT_INO: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(1);

fn kind_of(kind: u32) -> KResult<UnixKind> {
    match kind {
        SOCK_STREAM => Ok(UnixKind::Stream),
        SOCK_DGRAM => Ok(UnixKind::Datagram),
        SOCK_SEQPACKET | SOCK_RAW => Err(Errno::ESOCKTNOSUPPORT),
        _ => Err(Errno::ESOCKTNOSUPPORT),
    }
}

fn make(kind: UnixKind, state: State) -> Arc<UnixSocket> {
    Arc::new(UnixSocket {
        kind,
        state: SpinLock::new(state),
        timeouts: Timeouts::default(),
        ino: NEXT_INO.fetch_add(1, core::sync::atomic::Ordering::Relaxed),
    })
}

/// socket(AF_UNIX, type, 0 or PF_UNIX).
pub fn new_unix_socket(kind: u32, protocol: u32) -> KResult<Arc<dyn FileOps>> {
    if protocol != 0 && protocol != AF_UNIX {
        return Err(Errno::EPROTONOSUPPORT);
    }
    Ok(register(make(kind_of(kind)?, State::Unbound)))
}

/// socketpair(AF_UNIX, type, 0): two connected sockets.
pub fn unix_socketpair(kind: u32, protocol: u32) -> KResult<(Arc<dyn FileOps>, Arc<dyn FileOps>)> {
    // 0, or PF_UNIX itself, as Linux accepts.
    if protocol != 0 && protocol != AF_UNIX {
        return Err(Errno::EPROTONOSUPPORT);
    }
    let kind = kind_of(kind)?;
    let (a, b) = UnixStream::pair(kind);
    let end = |stream| {
        register(make(
            kind,
            State::Connected {
                stream,
                local: UnixAddr::Unnamed,
                peer: UnixAddr::Unnamed,
            },
        ))
    };
    Ok((end(a), end(b)))
}

impl UnixSocket {
    /// Runs `f` on the connected stream (ENOTCONN otherwise) and wakes waiters if it moved
    /// data.
    fn on_stream<T>(&self, f: impl FnOnce(&UnixStream) -> KResult<T>) -> KResult<T> {
        let state = self.state.lock();
        let State::Connected { stream, .. } = &*state else {
            return Err(Errno::ENOTCONN);
        };
        let result = f(stream);
        drop(state);
        if result.is_ok() {
            wake_all();
        }
        result
    }

    fn send_inner(&self, data: &[u8], flags: u32, nonblock: bool) -> KResult<usize> {
        let nonblock = nonblock || flags & MSG_DONTWAIT != 0;
        let result = wait(nonblock, self.timeouts.deadline(false), || {
            self.on_stream(|s| s.send(data))
        });
        if result == Err(Errno::EPIPE) && flags & MSG_NOSIGNAL == 0 {
            crate::process::signal::sigpipe();
        }
        result
    }

    fn recv_inner(&self, buf: &mut [u8], flags: u32, nonblock: bool) -> KResult<(usize, usize)> {
        let nonblock = nonblock || flags & MSG_DONTWAIT != 0;
        let peek = flags & MSG_PEEK != 0;
        wait(nonblock, self.timeouts.deadline(true), || {
            self.on_stream(|s| s.recv(buf, peek))
        })
    }
}

impl FileOps for UnixSocket {
    fn read(&self, _offset: u64, buf: &mut [u8], nonblock: bool) -> KResult<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.recv_inner(buf, 0, nonblock).map(|r| r.0)
    }

    fn write(&self, _offset: u64, buf: &[u8], nonblock: bool) -> KResult<usize> {
        self.send_inner(buf, 0, nonblock)
    }

    fn write_user(&self, _offset: u64, addr: u64, len: usize, nonblock: bool) -> KResult<usize> {
        let buf = crate::user::read_bytes(addr, len.min(USER_CHUNK))?;
        self.send_inner(&buf, 0, nonblock)
    }

    fn stat(&self) -> KResult<Stat> {
        Ok(Stat {
            mode: tessera_abi::fs::S_IFSOCK | 0o777,
            ino: self.ino,
            nlink: 1,
            blksize: 4096,
            dev: 8,
            ..Stat::default()
        })
    }

    fn can_poll(&self) -> bool {
        true
    }

    fn wait_queues(&self, add: &mut dyn FnMut(&crate::process::sched::WaitQueue)) {
        add(super::waiters());
    }

    fn poll(&self) -> PollEvents {
        match &*self.state.lock() {
            State::Connected { stream, .. } => stream.poll(),
            State::Listening(_, listener) => listener.poll(),
            // Linux's unix_poll for an unconnected stream socket: writable, hung up.
            _ => PollEvents::OUT | PollEvents::HUP,
        }
    }

    fn ioctl(&self, cmd: u32, arg: u64) -> KResult<isize> {
        if cmd == FIONREAD {
            let n = self.on_stream(|s| Ok(s.pending())).unwrap_or(0);
            crate::user::write_u32(arg, n as u32)?;
            return Ok(0);
        }
        Err(Errno::ENOTTY)
    }

    fn release(&self) {
        self.close();
    }
}

impl UnixSocket {
    /// Frees the name, closes the connection (the peer sees end of file) and forgets this
    /// socket (once; from release or drop).
    fn close(&self) {
        let old = core::mem::replace(&mut *self.state.lock(), State::Closed);
        if matches!(old, State::Closed) {
            return;
        }
        if let State::Bound(name) | State::Listening(name, _) = &old {
            NAMES.lock().unbind(name);
        }
        drop(old);
        wake_all();
        unregister(self);
    }
}

impl Drop for UnixSocket {
    /// A socket that never became an open file (an error on the way) still closes.
    fn drop(&mut self) {
        self.close();
    }
}

impl Socket for UnixSocket {
    fn bind(&self, raw: &[u8]) -> KResult<()> {
        let name = addr::parse_un(raw)?;
        let mut state = self.state.lock();
        if !matches!(*state, State::Unbound) {
            return Err(Errno::EINVAL);
        }
        let name = NAMES.lock().bind(name)?;
        *state = State::Bound(name);
        Ok(())
    }

    fn listen(&self, backlog: u32) -> KResult<()> {
        if self.kind == UnixKind::Datagram {
            return Err(Errno::EOPNOTSUPP);
        }
        let mut state = self.state.lock();
        match &*state {
            State::Bound(name) => {
                let listener = NAMES.lock().listen(name, self.kind, backlog);
                *state = State::Listening(name.clone(), listener);
                Ok(())
            }
            State::Listening(_, listener) => {
                listener.set_backlog(backlog);
                Ok(())
            }
            State::Unbound => Err(Errno::EINVAL),
            _ => Err(Errno::EINVAL),
        }
    }

    fn accept(&self, nonblock: bool) -> KResult<(Arc<dyn FileOps>, Vec<u8>)> {
        let stream = wait(nonblock, self.timeouts.deadline(true), || {
            match &*self.state.lock() {
                State::Listening(_, listener) => listener.accept(),
                _ => Err(Errno::EINVAL),
            }
        })?;
        let local = match &*self.state.lock() {
            State::Listening(name, _) => name.clone(),
            _ => UnixAddr::Unnamed,
        };
        wake_all();
        let socket = register(make(
            self.kind,
            State::Connected {
                stream,
                local,
                peer: UnixAddr::Unnamed,
            },
        ));
        Ok((socket, addr::encode_un(&UnixAddr::Unnamed)))
    }

    fn connect(&self, raw: &[u8], nonblock: bool) -> KResult<()> {
        let name = addr::parse_un(raw)?;
        let local = match &*self.state.lock() {
            State::Unbound => UnixAddr::Unnamed,
            State::Bound(name) => name.clone(),
            State::Connected { .. } => return Err(Errno::EISCONN),
            State::Listening(..) => return Err(Errno::EINVAL),
            State::Closed => return Err(Errno::EBADF),
        };
        let stream = wait(nonblock, self.timeouts.deadline(false), || {
            NAMES.lock().connect(&name, self.kind)
        })?;
        *self.state.lock() = State::Connected {
            stream,
            local,
            peer: name,
        };
        wake_all();
        Ok(())
    }

    fn send(&self, data: &[u8], to: Option<&[u8]>, flags: u32, nonblock: bool) -> KResult<usize> {
        if to.is_some() && self.kind == UnixKind::Stream {
            // Linux: a destination on a connected stream socket is EISCONN.
            if matches!(*self.state.lock(), State::Connected { .. }) {
                return Err(Errno::EISCONN);
            }
            return Err(Errno::EOPNOTSUPP);
        }
        self.send_inner(data, flags, nonblock)
    }

    fn recv(
        &self,
        buf: &mut [u8],
        flags: u32,
        nonblock: bool,
    ) -> KResult<(usize, Option<Vec<u8>>, usize)> {
        let (n, len) = self.recv_inner(buf, flags, nonblock)?;
        Ok((n, None, len))
    }

    fn shutdown(&self, how: u32) -> KResult<()> {
        let (read, write) = match how {
            SHUT_RD => (true, false),
            SHUT_WR => (false, true),
            SHUT_RDWR => (true, true),
            _ => return Err(Errno::EINVAL),
        };
        self.on_stream(|s| {
            s.shutdown(read, write);
            Ok(())
        })
    }

    fn local_name(&self) -> KResult<Vec<u8>> {
        Ok(addr::encode_un(match &*self.state.lock() {
            State::Bound(name) | State::Listening(name, _) => name,
            State::Connected { local, .. } => local,
            _ => &UnixAddr::Unnamed,
        }))
    }

    fn peer_name(&self) -> KResult<Vec<u8>> {
        match &*self.state.lock() {
            State::Connected { peer, .. } => Ok(addr::encode_un(peer)),
            _ => Err(Errno::ENOTCONN),
        }
    }

    fn set_option(&self, level: u32, name: u32, value: &[u8]) -> KResult<()> {
        match (level, name) {
            (SOL_SOCKET, SO_RCVTIMEO) => self.timeouts.set(true, value),
            (SOL_SOCKET, SO_SNDTIMEO) => self.timeouts.set(false, value),
            (SOL_SOCKET, SO_REUSEADDR | SO_KEEPALIVE | SO_RCVBUF | SO_SNDBUF | SO_LINGER) => {
                int(value).map(drop)
            }
            _ => Err(Errno::ENOPROTOOPT),
        }
    }

    fn get_option(&self, level: u32, name: u32) -> KResult<Vec<u8>> {
        Ok(match (level, name) {
            (SOL_SOCKET, SO_TYPE) => int_bytes(match self.kind {
                UnixKind::Stream => SOCK_STREAM as i32,
                UnixKind::Datagram => SOCK_DGRAM as i32,
            }),
            (SOL_SOCKET, SO_DOMAIN) => int_bytes(AF_UNIX as i32),
            (SOL_SOCKET, SO_PROTOCOL) | (SOL_SOCKET, SO_ERROR) => int_bytes(0),
            (SOL_SOCKET, SO_ACCEPTCONN) => {
                int_bytes(matches!(*self.state.lock(), State::Listening(..)) as i32)
            }
            (SOL_SOCKET, SO_RCVBUF | SO_SNDBUF) => int_bytes(tessera_net::unix::UNIX_BUFFER as i32),
            (SOL_SOCKET, SO_RCVTIMEO) => self.timeouts.get(true),
            (SOL_SOCKET, SO_SNDTIMEO) => self.timeouts.get(false),
            _ => return Err(Errno::ENOPROTOOPT),
        })
    }
}
