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

use tessera_abi::fs::MAX_RW_COUNT;
use tessera_abi::net::*;
use tessera_abi::{Errno, KResult};

use super::args::{Args, Decode, UserPtr, user_range};
use crate::fs::OpenFile;
use crate::fs::file::{O_NONBLOCK, O_RDWR, USER_CHUNK};
use crate::net::{self, Socket};
use crate::process::current;
use crate::user;

/// Longest option value read from user memory.
const OPTION_MAX: usize = 256;

fn file(fd: i32) -> KResult<Arc<OpenFile>> {
    current().files.lock().get(fd)
}

fn socket(fd: i32) -> KResult<(Arc<OpenFile>, Arc<dyn Socket>)> {
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

/// A `sockaddr` argument of `len` bytes (an `int`): Linux's `move_addr_to_kernel`.
fn read_sockaddr(addr: UserPtr, len: i32) -> KResult<Vec<u8>> {
    if len < 0 || len as usize > SOCKADDR_STORAGE_LEN {
        return Err(Errno::EINVAL);
    }
    addr.read_bytes(len as usize)
}

/// Writes `name` to a (`addr`, `*len_addr`) result pair as Linux's `move_addr_to_user`:
/// the room is read from `*len_addr` (EFAULT, EINVAL when negative), as much of the name
/// as fits is copied, and the name's real length stored. Each call says when it makes one.
fn write_sockaddr(addr: UserPtr, len_addr: UserPtr, name: &[u8]) -> KResult<()> {
    let room = user::read_u32(len_addr.addr())? as i32;
    let n = name
        .len()
        .min(usize::try_from(room).map_err(|_| Errno::EINVAL)?);
    if n > 0 {
        addr.write_bytes(&name[..n])?;
    }
    len_addr.write_u32(name.len() as u32)
}

/// socket(int family, int type, int protocol): the `int`s compared as bits.
pub fn socket_call(a: &Args) -> KResult<isize> {
    let (domain, kind, protocol) = (a.uint(0), a.uint(1), a.uint(2));
    let (flags, cloexec) = type_flags(kind & !SOCK_TYPE_MASK)?;
    let kind = kind & SOCK_TYPE_MASK;
    let ops = match domain {
        AF_UNIX => net::new_unix_socket(kind, protocol)?,
        AF_INET if net::inet_available() => net::new_inet_socket(kind, protocol)?,
        _ => return Err(Errno::EAFNOSUPPORT),
    };
    install(ops, flags, cloexec).map(|fd| fd as isize)
}

/// socketpair(int family, int type, int protocol, int *usockvec).
pub fn socketpair(a: &Args) -> KResult<isize> {
    let (domain, kind, protocol, fds) = (a.uint(0), a.uint(1), a.uint(2), a.ptr(3));
    let (flags, cloexec) = type_flags(kind & !SOCK_TYPE_MASK)?;
    match domain {
        AF_UNIX => {}
        AF_INET => return Err(Errno::EOPNOTSUPP),
        _ => return Err(Errno::EAFNOSUPPORT),
    }
    let (x, y) = net::unix_socketpair(kind & SOCK_TYPE_MASK, protocol)?;
    // Check the result array before making descriptors that would leak on EFAULT.
    fds.write_bytes(&[0u8; 8])?;
    let fx = install(x, flags, cloexec)?;
    let fy = match install(y, flags, cloexec) {
        Ok(fd) => fd,
        Err(e) => {
            let _ = current().files.lock().close(fx);
            return Err(e);
        }
    };
    fds.write_u32(fx as u32)?;
    fds.at(4).write_u32(fy as u32)?;
    Ok(0)
}

/// bind(int fd, struct sockaddr *umyaddr, int addrlen).
pub fn bind(a: &Args) -> KResult<isize> {
    let (_, s) = socket(a.fd(0))?;
    s.bind(&read_sockaddr(a.ptr(1), a.int(2))?)?;
    Ok(0)
}

/// listen(int fd, int backlog): a backlog above `SOMAXCONN` as an `unsigned int` is
/// `SOMAXCONN`, so a negative one is too (Linux's `__sys_listen`).
pub fn listen(a: &Args) -> KResult<isize> {
    let (_, s) = socket(a.fd(0))?;
    s.listen(a.uint(1).min(SOMAXCONN))?;
    Ok(0)
}

/// accept(int fd, struct sockaddr *upeer_sockaddr, int *upeer_addrlen).
pub fn accept(a: &Args) -> KResult<isize> {
    do_accept(a.fd(0), a.ptr(1), a.ptr(2), 0)
}

/// accept4(int fd, struct sockaddr *upeer_sockaddr, int *upeer_addrlen, int flags).
pub fn accept4(a: &Args) -> KResult<isize> {
    do_accept(a.fd(0), a.ptr(1), a.ptr(2), a.uint(3))
}

/// The peer's address is stored only when `addr` is not NULL.
fn do_accept(fd: i32, addr: UserPtr, len_addr: UserPtr, flags: u32) -> KResult<isize> {
    let (flags, cloexec) = type_flags(flags)?;
    let (f, s) = socket(fd)?;
    let (ops, peer) = s.accept(nonblock(&f))?;
    let fd = install(ops, flags, cloexec)?;
    if !addr.is_null()
        && let Err(e) = write_sockaddr(addr, len_addr, &peer)
    {
        let _ = current().files.lock().close(fd);
        return Err(e);
    }
    Ok(fd as isize)
}

/// connect(int fd, struct sockaddr *uservaddr, int addrlen).
pub fn connect(a: &Args) -> KResult<isize> {
    let (f, s) = socket(a.fd(0))?;
    s.connect(&read_sockaddr(a.ptr(1), a.int(2))?, nonblock(&f))?;
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

/// The buffer of sendto or recvfrom, as Linux's `import_single_range` takes it before the
/// fd is looked up: at most `MAX_RW_COUNT` bytes, which must lie in user memory (EFAULT).
fn user_buffer(a: &Args) -> KResult<(UserPtr, usize)> {
    let len = a.size(2).min(MAX_RW_COUNT);
    Ok((user_range(a.ptr(1), len as u64)?, len))
}

/// sendto(int fd, void *buff, size_t len, unsigned int flags, struct sockaddr *addr, int
/// addr_len).
pub fn sendto(a: &Args) -> KResult<isize> {
    let (buf, len) = user_buffer(a)?;
    let (f, s) = socket(a.fd(0))?;
    let flags = a.uint(3);
    let to = match a.ptr(4).nonnull() {
        Some(addr) => Some(read_sockaddr(addr, a.int(5))?),
        None => None,
    };
    let mut read = |at: usize, n: usize| buf.at(at as u64).read_bytes(n);
    send_all(&f, s.as_ref(), len, &mut read, to.as_deref(), flags).map(|n| n as isize)
}

/// recvfrom(int fd, void *ubuf, size_t size, unsigned int flags, struct sockaddr *addr, int
/// *addr_len): the sender's address (none: length 0) is stored only when `addr` is not
/// NULL.
pub fn recvfrom(a: &Args) -> KResult<isize> {
    let (buf, len) = user_buffer(a)?;
    let (f, s) = socket(a.fd(0))?;
    let flags = a.uint(3);
    let mut data = vec![0u8; len.min(USER_CHUNK)];
    let (n, from, full) = s.recv(&mut data, flags, nonblock(&f))?;
    buf.write_bytes(&data[..n])?;
    if let Some(addr) = a.ptr(4).nonnull() {
        write_sockaddr(addr, a.ptr(5), from.as_deref().unwrap_or_default())?;
    }
    Ok(if flags & MSG_TRUNC != 0 { full } else { n } as isize)
}

/// The (base, len) pairs of a msghdr's iovec array (at most `MAX_RW_COUNT` bytes in all).
fn iovecs(msg: &[u8]) -> KResult<Vec<(u64, usize)>> {
    let field = |at: usize| u64::from_le_bytes(msg[at..at + 8].try_into().expect("8 bytes"));
    user::read_iovecs(field(16), field(24), Errno::EMSGSIZE)
}

/// sendmsg(int fd, struct user_msghdr *msg, unsigned int flags).
pub fn sendmsg(a: &Args) -> KResult<isize> {
    let (f, s) = socket(a.fd(0))?;
    let msg = a.ptr(1).read_bytes(MSGHDR_LEN)?;
    let name = UserPtr::new(u64::from_le_bytes(msg[..8].try_into().expect("8 bytes")));
    let name_len = i32::from_le_bytes(msg[8..12].try_into().expect("4 bytes"));
    let to = match name.nonnull() {
        Some(name) => Some(read_sockaddr(name, name_len)?),
        None => None,
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
    send_all(&f, s.as_ref(), total, &mut read, to.as_deref(), a.uint(2)).map(|n| n as isize)
}

/// recvmsg(int fd, struct user_msghdr *msg, unsigned int flags).
pub fn recvmsg(a: &Args) -> KResult<isize> {
    let (f, s) = socket(a.fd(0))?;
    let (msg_addr, flags) = (a.ptr(1), a.uint(2));
    let msg = msg_addr.read_bytes(MSGHDR_LEN)?;
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
            msg_addr.at(8).write_u32(from.len() as u32)?;
        }
        _ => msg_addr.at(8).write_u32(0)?,
    }
    // No ancillary data (SCM_RIGHTS and friends are not supported): controllen 0.
    msg_addr.at(40).write_u64(0)?;
    let out_flags = if full > n { MSG_TRUNC } else { 0 };
    msg_addr.at(48).write_u32(out_flags)?;
    Ok(if flags & MSG_TRUNC != 0 { full } else { n } as isize)
}

/// shutdown(int fd, int how): `how` passed on as bits (the socket refuses all but 0 to 2).
pub fn shutdown(a: &Args) -> KResult<isize> {
    let (_, s) = socket(a.fd(0))?;
    s.shutdown(a.uint(1))?;
    Ok(0)
}

/// getsockname(int fd, struct sockaddr *usockaddr, int *usockaddr_len).
pub fn getsockname(a: &Args) -> KResult<isize> {
    let (_, s) = socket(a.fd(0))?;
    write_sockaddr(a.ptr(1), a.ptr(2), &s.local_name()?)?;
    Ok(0)
}

/// getpeername(int fd, struct sockaddr *usockaddr, int *usockaddr_len).
pub fn getpeername(a: &Args) -> KResult<isize> {
    let (_, s) = socket(a.fd(0))?;
    write_sockaddr(a.ptr(1), a.ptr(2), &s.peer_name()?)?;
    Ok(0)
}

/// setsockopt(int fd, int level, int optname, char *optval, int optlen).
pub fn setsockopt(a: &Args) -> KResult<isize> {
    let (_, s) = socket(a.fd(0))?;
    let len = usize::try_from(a.int(4)).map_err(|_| Errno::EINVAL)?;
    let value = a.ptr(3).read_bytes(len.min(OPTION_MAX))?;
    s.set_option(a.uint(1), a.uint(2), &value)?;
    Ok(0)
}

/// getsockopt(int fd, int level, int optname, char *optval, int *optlen).
pub fn getsockopt(a: &Args) -> KResult<isize> {
    let (_, s) = socket(a.fd(0))?;
    let len_addr = a.ptr(4);
    let room =
        usize::try_from(user::read_u32(len_addr.addr())? as i32).map_err(|_| Errno::EINVAL)?;
    let value = s.get_option(a.uint(1), a.uint(2))?;
    let n = value.len().min(room);
    a.ptr(3).write_bytes(&value[..n])?;
    len_addr.write_u32(n as u32)?;
    Ok(0)
}
