//! AF_INET socket files: a `tessera-net` socket id behind the file interface and the socket
//! syscalls. Blocking calls retry the stack's non-blocking operation on the socket wait
//! queue (see [`super::wait`]).

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use tessera_abi::fs::FIONREAD;
use tessera_abi::net::*;
use tessera_abi::poll::PollEvents;
use tessera_abi::{Errno, KResult};
use tessera_net::{Connect, Protocol, SocketId, addr};

use super::sockopt::{Timeouts, int, int_bytes};
use super::stack::with_stack;
use super::{Socket, register, unregister, wait};
use crate::fs::file::{FileOps, USER_CHUNK};
use crate::fs::stat::Stat;

/// A TCP or UDP socket.
pub struct InetSocket {
    id: SocketId,
    protocol: Protocol,
    timeouts: Timeouts,
    /// Set once release ran (the stack socket is gone).
    closed: AtomicBool,
}

/// socket(AF_INET, type, protocol): EAFNOSUPPORT without a stack (`net = "none"`),
/// EPROTONOSUPPORT / ESOCKTNOSUPPORT for what it does not do.
pub fn new_inet_socket(kind: u32, protocol: u32) -> KResult<Arc<dyn FileOps>> {
    let protocol = match (kind, protocol) {
        (SOCK_STREAM, IPPROTO_IP | IPPROTO_TCP) => Protocol::Tcp,
        (SOCK_DGRAM, IPPROTO_IP | IPPROTO_UDP) => Protocol::Udp,
        (SOCK_STREAM | SOCK_DGRAM, _) => return Err(Errno::EPROTONOSUPPORT),
        (SOCK_RAW, _) => return Err(Errno::EPERM),
        _ => return Err(Errno::ESOCKTNOSUPPORT),
    };
    let id = with_stack(|s| s.socket(protocol))??;
    Ok(from_id(id, protocol))
}

fn from_id(id: SocketId, protocol: Protocol) -> Arc<dyn FileOps> {
    register(Arc::new(InetSocket {
        id,
        protocol,
        timeouts: Timeouts::default(),
        closed: AtomicBool::new(false),
    }))
}

fn sigpipe_unless(flags: u32, e: Errno) -> Errno {
    if e == Errno::EPIPE && flags & MSG_NOSIGNAL == 0 {
        crate::process::signal::sigpipe();
    }
    e
}

impl InetSocket {
    fn send_inner(
        &self,
        data: &[u8],
        to: Option<&[u8]>,
        flags: u32,
        nonblock: bool,
    ) -> KResult<usize> {
        let to = match to {
            Some(raw) if self.protocol == Protocol::Udp => Some(addr::parse_in(raw)?),
            _ => None,
        };
        let nonblock = nonblock || flags & MSG_DONTWAIT != 0;
        let deadline = self.timeouts.deadline(false);
        wait(nonblock, deadline, || {
            with_stack(|s| s.send(self.id, data, to))?
        })
        .map_err(|e| sigpipe_unless(flags, e))
    }

    fn recv_inner(
        &self,
        buf: &mut [u8],
        flags: u32,
        nonblock: bool,
    ) -> KResult<(usize, core::net::SocketAddrV4, usize)> {
        let nonblock = nonblock || flags & MSG_DONTWAIT != 0;
        let peek = flags & MSG_PEEK != 0;
        let deadline = self.timeouts.deadline(true);
        let first = wait(nonblock, deadline, || {
            with_stack(|s| s.recv(self.id, buf, peek))?
        })?;
        if flags & MSG_WAITALL == 0 || self.protocol != Protocol::Tcp || peek {
            return Ok(first);
        }
        // MSG_WAITALL: keep reading until full, end of stream, an error or a signal.
        let mut got = first.0;
        while got < buf.len() && first.0 != 0 {
            let rest = &mut buf[got..];
            match wait(nonblock, deadline, || {
                with_stack(|s| s.recv(self.id, rest, false))?
            }) {
                Ok((0, _, _)) => break,
                Ok((n, _, _)) => got += n,
                Err(_) => break,
            }
        }
        Ok((got, first.1, got))
    }
}

impl FileOps for InetSocket {
    fn read(&self, _offset: u64, buf: &mut [u8], nonblock: bool) -> KResult<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.recv_inner(buf, 0, nonblock).map(|r| r.0)
    }

    fn write(&self, _offset: u64, buf: &[u8], nonblock: bool) -> KResult<usize> {
        self.send_inner(buf, None, 0, nonblock)
    }

    fn write_user(&self, _offset: u64, addr: u64, len: usize, nonblock: bool) -> KResult<usize> {
        let buf = crate::user::read_bytes(addr, len.min(USER_CHUNK))?;
        self.send_inner(&buf, None, 0, nonblock)
    }

    fn stat(&self) -> KResult<Stat> {
        Ok(Stat {
            mode: tessera_abi::fs::S_IFSOCK | 0o777,
            ino: u64::from(self.id.0),
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
        with_stack(|s| s.readiness(self.id)).unwrap_or(PollEvents::empty())
    }

    fn ioctl(&self, cmd: u32, arg: u64) -> KResult<isize> {
        if cmd == FIONREAD {
            let mut probe = vec![0u8; 64 * 1024];
            let n = with_stack(|s| s.recv(self.id, &mut probe, true))?
                .map(|r| r.2)
                .unwrap_or(0);
            crate::user::write_u32(arg, n as u32)?;
            return Ok(0);
        }
        Err(Errno::ENOTTY)
    }

    fn release(&self) {
        self.close();
    }
}

impl InetSocket {
    /// Closes the stack's socket and forgets this one (once; from release or drop).
    fn close(&self) {
        if !self.closed.swap(true, Ordering::Relaxed) {
            let _ = with_stack(|s| s.close(self.id));
            unregister(self);
        }
    }
}

impl Drop for InetSocket {
    /// A socket that never became an open file (an error on the way) still closes.
    fn drop(&mut self) {
        self.close();
    }
}

impl Socket for InetSocket {
    fn bind(&self, raw: &[u8]) -> KResult<()> {
        let to = addr::parse_in(raw)?;
        with_stack(|s| s.bind(self.id, to))?
    }

    fn listen(&self, backlog: u32) -> KResult<()> {
        with_stack(|s| s.listen(self.id, backlog))?
    }

    fn accept(&self, nonblock: bool) -> KResult<(Arc<dyn FileOps>, Vec<u8>)> {
        let deadline = self.timeouts.deadline(true);
        let (id, peer) = wait(nonblock, deadline, || with_stack(|s| s.accept(self.id))?)?;
        Ok((from_id(id, Protocol::Tcp), addr::encode_in(peer).to_vec()))
    }

    fn connect(&self, raw: &[u8], nonblock: bool) -> KResult<()> {
        let to = addr::parse_in(raw)?;
        match with_stack(|s| s.connect(self.id, to))?? {
            Connect::Done => Ok(()),
            Connect::InProgress if nonblock => Err(Errno::EINPROGRESS),
            Connect::InProgress => {
                let deadline = self.timeouts.deadline(false);
                wait(false, deadline, || {
                    with_stack(|s| s.connect_result(self.id))?.unwrap_or(Err(Errno::EAGAIN))
                })
                .map_err(|e| {
                    if e == Errno::EAGAIN {
                        Errno::EINPROGRESS
                    } else {
                        e
                    }
                })
            }
        }
    }

    fn send(&self, data: &[u8], to: Option<&[u8]>, flags: u32, nonblock: bool) -> KResult<usize> {
        self.send_inner(data, to, flags, nonblock)
    }

    fn recv(
        &self,
        buf: &mut [u8],
        flags: u32,
        nonblock: bool,
    ) -> KResult<(usize, Option<Vec<u8>>, usize)> {
        let (n, from, len) = self.recv_inner(buf, flags, nonblock)?;
        Ok((n, Some(addr::encode_in(from).to_vec()), len))
    }

    fn shutdown(&self, how: u32) -> KResult<()> {
        let (read, write) = match how {
            SHUT_RD => (true, false),
            SHUT_WR => (false, true),
            SHUT_RDWR => (true, true),
            _ => return Err(Errno::EINVAL),
        };
        with_stack(|s| s.shutdown(self.id, read, write))?
    }

    fn local_name(&self) -> KResult<Vec<u8>> {
        Ok(addr::encode_in(with_stack(|s| s.local_addr(self.id))??).to_vec())
    }

    fn peer_name(&self) -> KResult<Vec<u8>> {
        Ok(addr::encode_in(with_stack(|s| s.peer_addr(self.id))??).to_vec())
    }

    fn set_option(&self, level: u32, name: u32, value: &[u8]) -> KResult<()> {
        if level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO) {
            return self.timeouts.set(name == SO_RCVTIMEO, value);
        }
        let mut opts = with_stack(|s| s.options(self.id))??;
        let on = || int(value).map(|v| v != 0);
        match (level, name) {
            (SOL_SOCKET, SO_REUSEADDR) => opts.reuse_addr = on()?,
            (SOL_SOCKET, SO_KEEPALIVE) => opts.keep_alive = on()?,
            (SOL_SOCKET, SO_BROADCAST) => opts.broadcast = on()?,
            // Linux doubles the value asked for (room for its bookkeeping) and reports that.
            (SOL_SOCKET, SO_RCVBUF) => opts.recv_buf = (int(value)?.max(0) as usize) * 2,
            (SOL_SOCKET, SO_SNDBUF) => opts.send_buf = (int(value)?.max(0) as usize) * 2,
            (SOL_SOCKET, SO_LINGER | SO_OOBINLINE | SO_DONTROUTE | SO_REUSEPORT | SO_RCVLOWAT) => {
                if value.len() < 4 {
                    return Err(Errno::EINVAL);
                }
            }
            (SOL_TCP, TCP_NODELAY) if self.protocol == Protocol::Tcp => opts.no_delay = on()?,
            (SOL_TCP, TCP_MAXSEG | TCP_KEEPIDLE | TCP_KEEPINTVL | TCP_KEEPCNT)
                if self.protocol == Protocol::Tcp =>
            {
                int(value)?;
            }
            (SOL_TCP, _) if self.protocol == Protocol::Udp => return Err(Errno::ENOPROTOOPT),
            (SOL_IP, IP_TTL) => {
                let ttl = int(value)?;
                opts.ttl = match ttl {
                    -1 => 64,
                    1..=255 => ttl as u8,
                    _ => return Err(Errno::EINVAL),
                };
            }
            _ => return Err(Errno::ENOPROTOOPT),
        }
        with_stack(|s| s.set_options(self.id, opts))?
    }

    fn get_option(&self, level: u32, name: u32) -> KResult<Vec<u8>> {
        let opts = with_stack(|s| s.options(self.id))??;
        let flag = |b: bool| int_bytes(b as i32);
        Ok(match (level, name) {
            (SOL_SOCKET, SO_TYPE) => int_bytes(match self.protocol {
                Protocol::Tcp => SOCK_STREAM as i32,
                Protocol::Udp => SOCK_DGRAM as i32,
            }),
            (SOL_SOCKET, SO_DOMAIN) => int_bytes(AF_INET as i32),
            (SOL_SOCKET, SO_PROTOCOL) => int_bytes(match self.protocol {
                Protocol::Tcp => IPPROTO_TCP as i32,
                Protocol::Udp => IPPROTO_UDP as i32,
            }),
            (SOL_SOCKET, SO_ERROR) => {
                int_bytes(with_stack(|s| s.take_error(self.id))??.map_or(0, |e| e as i32))
            }
            (SOL_SOCKET, SO_ACCEPTCONN) => flag(with_stack(|s| s.is_listening(self.id))??),
            (SOL_SOCKET, SO_REUSEADDR) => flag(opts.reuse_addr),
            (SOL_SOCKET, SO_KEEPALIVE) => flag(opts.keep_alive),
            (SOL_SOCKET, SO_BROADCAST) => flag(opts.broadcast),
            (SOL_SOCKET, SO_RCVBUF) => int_bytes(opts.recv_buf as i32),
            (SOL_SOCKET, SO_SNDBUF) => int_bytes(opts.send_buf as i32),
            (SOL_SOCKET, SO_RCVTIMEO) => self.timeouts.get(true),
            (SOL_SOCKET, SO_SNDTIMEO) => self.timeouts.get(false),
            (SOL_SOCKET, SO_LINGER) => vec![0; 8],
            (SOL_SOCKET, SO_OOBINLINE | SO_DONTROUTE | SO_REUSEPORT) => flag(false),
            (SOL_SOCKET, SO_RCVLOWAT) => int_bytes(1),
            (SOL_TCP, TCP_NODELAY) if self.protocol == Protocol::Tcp => flag(opts.no_delay),
            (SOL_TCP, TCP_MAXSEG) if self.protocol == Protocol::Tcp => int_bytes(1460),
            (SOL_IP, IP_TTL) => int_bytes(i32::from(opts.ttl)),
            _ => return Err(Errno::ENOPROTOOPT),
        })
    }
}
