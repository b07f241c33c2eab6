//! Networking: the socket files the socket syscalls create (`unix` for Unix domain sockets,
//! `inet` for TCP/UDP) and the stack under the AF_INET ones.
//!
//! Config key `net`: `smoltcp` compiles the virtio-net driver and the `tessera-net` IP stack
//! ([`stack`]), probes the card at boot and serves AF_INET sockets; `none` compiles neither
//! (`no_stack.rs`), and `socket(AF_INET, ...)` fails with EAFNOSUPPORT. Unix sockets exist in
//! both.
//!
//! Every task blocked on a socket waits on one queue ([`wait`]), woken whenever a poll of
//! the stack reports progress, a Unix socket changes, or a timed wait's deadline passes.

#[cfg(feature = "net-smoltcp")]
mod inet;
mod sockopt;
#[cfg(feature = "net-smoltcp")]
mod stack;
#[cfg(not(feature = "net-smoltcp"))]
#[path = "no_stack.rs"]
mod stack;
mod unix;

use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use tessera_abi::{Errno, KResult};
use tessera_platform::clock;
use tessera_sync::SpinLock;

use crate::fs::file::{FileOps, OpenFile};
use crate::process::sched::WaitQueue;

pub use stack::{inet_available, new_inet_socket};
pub use unix::{new_unix_socket, unix_socketpair};

/// Every task blocked on a socket.
static WAITERS: WaitQueue = WaitQueue::new();
/// The earliest deadline of a timed socket wait; u64::MAX for none.
static NEXT_DEADLINE: AtomicU64 = AtomicU64::new(u64::MAX);

/// Starts networking as the config says (see [`stack::init`]).
pub fn init() {
    stack::init();
}

/// The timer tick: the stack's timers, then timed waits whose deadline passed.
pub fn on_tick() {
    let now = clock::now_ns();
    stack::on_tick(now);
    if now >= NEXT_DEADLINE.load(Ordering::Relaxed) {
        NEXT_DEADLINE.store(u64::MAX, Ordering::Relaxed);
        // Nothing became ready: only the timed waits look again.
        WAITERS.wake_tasks();
    }
}

/// Where socket files announce readiness changes ([`FileOps::wait_queues`]).
fn waiters() -> &'static WaitQueue {
    &WAITERS
}

/// Wakes every task blocked on a socket (a Unix socket changed).
pub fn wake_all() {
    WAITERS.wake_waiters();
}

/// Blocks until `op` stops saying EAGAIN: returns its result, EAGAIN at once when
/// `nonblock`, EAGAIN at `deadline` (clock ns), EINTR on a signal.
pub fn wait<T>(
    nonblock: bool,
    deadline: Option<u64>,
    mut op: impl FnMut() -> KResult<T>,
) -> KResult<T> {
    WAITERS.wait_until(true, || match op() {
        Err(Errno::EAGAIN) if !nonblock => match deadline {
            Some(at) if clock::now_ns() >= at => Some(Err(Errno::EAGAIN)),
            Some(at) => {
                NEXT_DEADLINE.fetch_min(at, Ordering::Relaxed);
                None
            }
            None => None,
        },
        other => Some(other),
    })?
}

/// What the socket syscalls need from a socket file besides read/write/poll.
pub trait Socket: Send + Sync {
    /// bind(2) with a raw `sockaddr`.
    fn bind(&self, addr: &[u8]) -> KResult<()>;
    /// listen(2).
    fn listen(&self, backlog: u32) -> KResult<()>;
    /// accept(2): the new connection as an open-file operations object, and its peer's
    /// raw `sockaddr`.
    fn accept(&self, nonblock: bool) -> KResult<(Arc<dyn FileOps>, Vec<u8>)>;
    /// connect(2) with a raw `sockaddr`.
    fn connect(&self, addr: &[u8], nonblock: bool) -> KResult<()>;
    /// sendto/sendmsg: `to` is a raw `sockaddr` or none; `flags` are MSG_*.
    fn send(&self, data: &[u8], to: Option<&[u8]>, flags: u32, nonblock: bool) -> KResult<usize>;
    /// recvfrom/recvmsg: (bytes, the sender's raw `sockaddr` if it has one, full length).
    fn recv(
        &self,
        buf: &mut [u8],
        flags: u32,
        nonblock: bool,
    ) -> KResult<(usize, Option<Vec<u8>>, usize)>;
    /// shutdown(2).
    fn shutdown(&self, how: u32) -> KResult<()>;
    /// getsockname(2) as a raw `sockaddr`.
    fn local_name(&self) -> KResult<Vec<u8>>;
    /// getpeername(2) as a raw `sockaddr`.
    fn peer_name(&self) -> KResult<Vec<u8>>;
    /// setsockopt(2).
    fn set_option(&self, level: u32, name: u32, value: &[u8]) -> KResult<()>;
    /// getsockopt(2): the option's value bytes.
    fn get_option(&self, level: u32, name: u32) -> KResult<Vec<u8>>;
}

/// Socket files by the address of their operations object, so that a syscall given an fd
/// finds the socket behind it (`FileOps` has no downcast).
static REGISTRY: SpinLock<BTreeMap<usize, Weak<dyn Socket>>> = SpinLock::new(BTreeMap::new());

fn key_of<T: ?Sized>(ptr: *const T) -> usize {
    ptr as *const () as usize
}

/// Registers a new socket and returns it as file operations.
fn register<S: Socket + FileOps + 'static>(socket: Arc<S>) -> Arc<dyn FileOps> {
    let weak: Weak<dyn Socket> = Arc::downgrade(&socket) as Weak<dyn Socket>;
    REGISTRY.lock().insert(key_of(Arc::as_ptr(&socket)), weak);
    socket
}

/// Forgets a socket (from its `release`).
fn unregister<S>(socket: &S) {
    REGISTRY.lock().remove(&key_of(socket as *const S));
}

/// The socket an open file is, or ENOTSOCK.
pub fn socket_of(file: &OpenFile) -> KResult<Arc<dyn Socket>> {
    REGISTRY
        .lock()
        .get(&key_of(Arc::as_ptr(&file.ops)))
        .and_then(Weak::upgrade)
        .ok_or(Errno::ENOTSOCK)
}
