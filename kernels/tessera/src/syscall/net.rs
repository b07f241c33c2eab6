//! Socket syscalls: socket, socketpair, bind, listen, accept/accept4, connect, sendto,
//! recvfrom, sendmsg, recvmsg, shutdown, getsockname, getpeername, setsockopt, getsockopt.
//!
//! They find the socket behind an fd ([`crate::net::socket_of`]: ENOTSOCK for other files),
//! move `sockaddr`s, option values and buffers between user memory and the kernel, and
//! leave the semantics to the socket (`net::inet`, `net::unix`). read, write, poll and
//! close work on sockets through their files.

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use tessera_abi::net::*;
use tessera_abi::{Errno, KResult};

use super::Args;
use crate::fs::OpenFile;
use crate::fs::file::{O_NONBLOCK, O_RDWR, USER_CHUNK};
use crate::net::{self, Socket};
use crate::process::current;
use crate::user;

/// Longest option value read from user memory.
const OPTION_MAX: u64 = 256;

fn file(fd: u64) -> KResult<Arc<OpenFile>> {
    current().files.lock().get(fd as i32)
}

fn socket(fd: u64) -> KResult<(Arc<OpenFile>, Arc<dyn Socket>)> {
    let file = file(fd)?;
    let socket = net::socket_of(&file)?;
    Ok((file, socket))
}

fn nonblock(file: &OpenFile) -> bool {
    file.flags() & O_NONBLOCK != 0
}

/// SOCK_NONBLOCK and SOCK_CLOEXEC of a type or accept4 flags: (O_NONBLOCK bit, cloexec).
fn type_flags(flags: u32) -> KResult<(u32, bool)> {
    if flags & !(SOCK_NONBLOCK | SOCK_CLOEXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    Ok((
        if flags & SOCK_NONBLOCK != 0 {
            O_NONBLOCK
        } else {
            0
        },
        flags & SOCK_CLOEXEC != 0,
    ))
}

fn install(ops: Arc<dyn crate::fs::file::FileOps>, flags: u32, cloexec: bool) -> KResult<i32> {
    let file = OpenFile::new(ops, O_RDWR | flags);
    current().files.lock().insert(file, cloexec)
}

/// A `sockaddr` argument of `len` bytes.
fn read_sockaddr(addr: u64, len: u64) -> KResult<Vec<u8>> {
    let len = len as i32;
    if len < 0 || len as usize > SOCKADDR_STORAGE_LEN {
        return Err(Errno::EINVAL);
    }
    user::read_bytes(addr, len as usize)
}

/// Writes `name` to a (`addr`, `*len_addr`) result pair: as much as fits, and the real
/// length. Nothing when `addr` is null.
fn write_sockaddr(addr: u64, len_addr: u64, name: &[u8]) -> KResult<()> {
    if addr == 0 || len_addr == 0 {
        return Ok(());
    }
    let room = user::read_u32(len_addr)? as i32;
    if room < 0 {
        return Err(Errno::EINVAL);
    }
    let n = name.len().min(room as usize);
    user::write_bytes(addr, &name[..n])?;
    user::write_u32(len_addr, name.len() as u32)
}

pub fn socket_call(a: &Args) -> KResult<isize> {
    let (domain, kind, protocol) = (a[0] as u32, a[1] as u32, a[2] as u32);
    let (flags, cloexec) = type_flags(kind & !SOCK_TYPE_MASK)?;
    let kind = kind & SOCK_TYPE_MASK;
    let ops = match domain {
        AF_UNIX => net::new_unix_socket(kind, protocol)?,
        AF_INET if net::inet_available() => net::new_inet_socket(kind, protocol)?,
        _ => return Err(Errno::EAFNOSUPPORT),
    };
    install(ops, flags, cloexec).map(|fd| fd as isize)
}

pub fn socketpair(a: &Args) -> KResult<isize> {
    let (domain, kind, protocol) = (a[0] as u32, a[1] as u32, a[2] as u32);
    let (flags, cloexec) = type_flags(kind & !SOCK_TYPE_MASK)?;
    match domain {
        AF_UNIX => {}
        AF_INET => return Err(Errno::EOPNOTSUPP),
        _ => return Err(Errno::EAFNOSUPPORT),
    }
    let (x, y) = net::unix_socketpair(kind & SOCK_TYPE_MASK, protocol)?;
    // Check the result array before making descriptors that would leak on EFAULT.
    user::write_bytes(a[3], &[0u8; 8])?;
    let fx = install(x, flags, cloexec)?;
    let fy = match install(y, flags, cloexec) {
        Ok(fd) => fd,
        Err(e) => {
            let _ = current().files.lock().close(fx);
            return Err(e);
        }
    };
    user::write_u32(a[3], fx as u32)?;
    user::write_u32(a[3] + 4, fy as u32)?;
    Ok(0)
}

pub fn bind(a: &Args) -> KResult<isize> {
    let (_, s) = socket(a[0])?;
    s.bind(&read_sockaddr(a[1], a[2])?)?;
    Ok(0)
}

pub fn listen(a: &Args) -> KResult<isize> {
    let (_, s) = socket(a[0])?;
    s.listen(((a[1] as i32).max(0) as u32).min(SOMAXCONN))?;
    Ok(0)
}

pub fn accept(a: &Args) -> KResult<isize> {
    accept4(&[a[0], a[1], a[2], 0, 0, 0])
}

pub fn accept4(a: &Args) -> KResult<isize> {
    let (flags, cloexec) = type_flags(a[3] as u32)?;
    let (f, s) = socket(a[0])?;
    let (ops, peer) = s.accept(nonblock(&f))?;
    let fd = install(ops, flags, cloexec)?;
    if let Err(e) = write_sockaddr(a[1], a[2], &peer) {
        let _ = current().files.lock().close(fd);
        return Err(e);
    }
    Ok(fd as isize)
}

pub fn connect(a: &Args) -> KResult<isize> {
    let (f, s) = socket(a[0])?;
    s.connect(&read_sockaddr(a[1], a[2])?, nonblock(&f))?;
    Ok(0)
}

/// Sends `data` in full (blocking) or as much as goes (non-blocking): Linux's send.
fn send_all(
    f: &OpenFile,
    s: &dyn Socket,
    total: usize,
    read: &mut dyn FnMut(usize, usize) -> KResult<Vec<u8>>,
    to: Option<&[u8]>,
    flags: u32,
) -> KResult<usize> {
    let mut done = 0;
    loop {
        let chunk = read(done, (total - done).min(USER_CHUNK))?;
        match s.send(&chunk, to, flags, nonblock(f)) {
            Ok(n) => {
                done += n;
                if done >= total || n < chunk.len() && (nonblock(f) || flags & MSG_DONTWAIT != 0) {
                    return Ok(done);
                }
            }
            Err(e) if done == 0 => return Err(e),
            Err(_) => return Ok(done),
        }
    }
}

pub fn sendto(a: &Args) -> KResult<isize> {
    let (f, s) = socket(a[0])?;
    let (buf, len, flags) = (a[1], a[2] as usize, a[3] as u32);
    let to = if a[4] != 0 {
        Some(read_sockaddr(a[4], a[5])?)
    } else {
        None
    };
    let mut read = |at: usize, n: usize| user::read_bytes(buf + at as u64, n);
    send_all(&f, s.as_ref(), len, &mut read, to.as_deref(), flags).map(|n| n as isize)
}

pub fn recvfrom(a: &Args) -> KResult<isize> {
    let (f, s) = socket(a[0])?;
    let (buf, len, flags) = (a[1], a[2] as usize, a[3] as u32);
    let mut data = vec![0u8; len.min(USER_CHUNK)];
    let (n, from, full) = s.recv(&mut data, flags, nonblock(&f))?;
    user::write_bytes(buf, &data[..n])?;
    if let Some(from) = from {
        write_sockaddr(a[4], a[5], &from)?;
    } else if a[5] != 0 {
        user::write_u32(a[5], 0)?;
    }
    Ok(if flags & MSG_TRUNC != 0 { full } else { n } as isize)
}

/// The (base, len) pairs of a msghdr's iovec array (at most `MAX_RW_COUNT` bytes in all).
fn iovecs(msg: &[u8]) -> KResult<Vec<(u64, usize)>> {
    let field = |at: usize| u64::from_le_bytes(msg[at..at + 8].try_into().expect("8 bytes"));
    user::read_iovecs(field(16), field(24), Errno::EMSGSIZE)
}

pub fn sendmsg(a: &Args) -> KResult<isize> {
    let (f, s) = socket(a[0])?;
    let msg = user::read_bytes(a[1], MSGHDR_LEN)?;
    let name = u64::from_le_bytes(msg[..8].try_into().expect("8 bytes"));
    let name_len = u32::from_le_bytes(msg[8..12].try_into().expect("4 bytes"));
    let to = if name != 0 {
        Some(read_sockaddr(name, u64::from(name_len))?)
    } else {
        None
    };
    let iov = iovecs(&msg)?;
    let total: usize = iov.iter().map(|v| v.1).sum();
    // Gathers bytes [at, at + n) of the concatenated buffers.
    let mut read = |at: usize, n: usize| -> KResult<Vec<u8>> {
        let mut out = Vec::with_capacity(n);
        let mut skip = at;
        for &(base, len) in &iov {
            if out.len() == n {
                break;
            }
            if skip >= len {
                skip -= len;
                continue;
            }
            let take = (len - skip).min(n - out.len());
            out.extend(user::read_bytes(base + skip as u64, take)?);
            skip = 0;
        }
        Ok(out)
    };
    send_all(&f, s.as_ref(), total, &mut read, to.as_deref(), a[2] as u32).map(|n| n as isize)
}

pub fn recvmsg(a: &Args) -> KResult<isize> {
    let (f, s) = socket(a[0])?;
    let flags = a[2] as u32;
    let msg = user::read_bytes(a[1], MSGHDR_LEN)?;
    let iov = iovecs(&msg)?;
    let total: usize = iov.iter().map(|v| v.1).sum();
    let mut data = vec![0u8; total.min(USER_CHUNK)];
    let (n, from, full) = s.recv(&mut data, flags, nonblock(&f))?;
    let mut at = 0;
    for &(base, len) in &iov {
        if at >= n {
            break;
        }
        let take = len.min(n - at);
        user::write_bytes(base, &data[at..at + take])?;
        at += take;
    }
    let name = u64::from_le_bytes(msg[..8].try_into().expect("8 bytes"));
    match from {
        Some(from) if name != 0 => {
            let room = u32::from_le_bytes(msg[8..12].try_into().expect("4 bytes")) as usize;
            user::write_bytes(name, &from[..from.len().min(room)])?;
            user::write_u32(a[1] + 8, from.len() as u32)?;
        }
        _ => user::write_u32(a[1] + 8, 0)?,
    }
    // No ancillary data (SCM_RIGHTS and friends are not supported): controllen 0.
    user::write_u64(a[1] + 40, 0)?;
    let out_flags = if full > n { MSG_TRUNC } else { 0 };
    user::write_u32(a[1] + 48, out_flags)?;
    Ok(if flags & MSG_TRUNC != 0 { full } else { n } as isize)
}

pub fn shutdown(a: &Args) -> KResult<isize> {
    let (_, s) = socket(a[0])?;
    s.shutdown(a[1] as u32)?;
    Ok(0)
}

pub fn getsockname(a: &Args) -> KResult<isize> {
    let (_, s) = socket(a[0])?;
    write_sockaddr(a[1], a[2], &s.local_name()?)?;
    Ok(0)
}

pub fn getpeername(a: &Args) -> KResult<isize> {
    let (_, s) = socket(a[0])?;
    write_sockaddr(a[1], a[2], &s.peer_name()?)?;
    Ok(0)
}

pub fn setsockopt(a: &Args) -> KResult<isize> {
    let (_, s) = socket(a[0])?;
    let len = a[4] as i32;
    if len < 0 {
        return Err(Errno::EINVAL);
    }
    let value = user::read_bytes(a[3], (len as u64).min(OPTION_MAX) as usize)?;
    s.set_option(a[1] as u32, a[2] as u32, &value)?;
    Ok(0)
}

pub fn getsockopt(a: &Args) -> KResult<isize> {
    let (_, s) = socket(a[0])?;
    let room = user::read_u32(a[4])? as i32;
    if room < 0 {
        return Err(Errno::EINVAL);
    }
    let value = s.get_option(a[1] as u32, a[2] as u32)?;
    let n = value.len().min(room as usize);
    user::write_bytes(a[3], &value[..n])?;
    user::write_u32(a[4], n as u32)?;
    Ok(0)
}
