//! Networking: the `tessera-net` stack on the virtio-net card, polled from the card's
//! interrupt, the timer and every socket call; and the socket files the socket syscalls
//! create (`inet` for TCP/UDP, `unix` for Unix domain sockets).
//!
//! Config key `net`: `smoltcp` probes the card at boot and serves AF_INET sockets (10.0.2.15
//! on QEMU's user network; without a card, loopback only); `none` leaves the card alone and
//! `socket(AF_INET, ...)` fails with EAFNOSUPPORT. Unix sockets exist in both.
//!
//! Every task blocked on a socket waits on one queue ([`wait`]), woken whenever a poll of
//! the stack reports progress, a Unix socket changes, or a timed wait's deadline passes.

mod inet;
mod sockopt;
mod unix;

use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use tessera_abi::{Errno, KResult};
use tessera_net::{NetConfig, NetStack};
use tessera_platform::clock;
use tessera_sync::{IrqSave, SpinLock};

use crate::fs::file::{FileOps, OpenFile};
use crate::process::sched::WaitQueue;

pub use inet::new_inet_socket;
pub use unix::{new_unix_socket, unix_socketpair};

/// The network card as the stack sees it: the virtio-net device, or none.
struct Nic(Option<tessera_platform::virtio::NetDevice>);

impl tessera_net::Device for Nic {
    fn mac(&self) -> [u8; 6] {
        self.0
            .as_ref()
            .map_or_else(|| tessera_net::NoDevice.mac(), |card| card.mac())
    }

    fn receive(&mut self, buf: &mut [u8]) -> Option<usize> {
        self.0.as_mut()?.receive(buf)
    }

    fn can_transmit(&mut self) -> bool {
        self.0.as_mut().is_none_or(|card| card.can_transmit())
    }

    fn transmit(&mut self, frame: &[u8]) {
        if let Some(card) = self.0.as_mut() {
            card.transmit(frame);
        }
    }
}

/// The stack (None with `net = "none"`, or before [`init`]). IRQ-saving: the card's
/// interrupt and the timer poll it.
static STACK: SpinLock<Option<NetStack<Nic>>, IrqSave> = SpinLock::new(None);
/// Every task blocked on a socket.
static WAITERS: WaitQueue = WaitQueue::new();
/// Clock (ns) at which the stack wants a poll for its timers; u64::MAX for none.
static NEXT_POLL: AtomicU64 = AtomicU64::new(u64::MAX);
/// The earliest deadline of a timed socket wait; u64::MAX for none.
static NEXT_DEADLINE: AtomicU64 = AtomicU64::new(u64::MAX);
/// Whether the card interrupts (else the timer polls it on every tick).
static HAS_IRQ: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Starts networking as the config says: probes the card and starts the stack.
pub fn init() {
    if !cfg!(feature = "net-smoltcp") {
        return;
    }
    let card = tessera_platform::virtio::probe_net(crate::memory::frame_source());
    let irq = card.as_ref().and_then(|c| c.irq());
    match &card {
        Some(c) => {
            let m = c.mac();
            log::info!(
                "net: virtio-net {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}, irq {irq:?}, 10.0.2.15/24 via 10.0.2.2",
                m[0],
                m[1],
                m[2],
                m[3],
                m[4],
                m[5]
            );
        }
        None => log::info!("net: no network card, loopback only"),
    }
    let mut seed = [0u8; 8];
    crate::random::fill(&mut seed);
    let stack = NetStack::new(
        Nic(card),
        NetConfig::qemu_user(u64::from_le_bytes(seed)),
        now_ms(),
    );
    *STACK.lock() = Some(stack);
    if let Some(irq) = irq {
        HAS_IRQ.store(true, Ordering::Relaxed);
        tessera_platform::trap::set_irq_hook(irq, on_irq);
    }
}

fn now_ms() -> u64 {
    clock::now_ns() / 1_000_000
}

/// Whether AF_INET sockets are available.
pub fn inet_available() -> bool {
    STACK.lock().is_some()
}

/// Polls the stack and records when it next needs a poll; wakes waiters on progress.
fn poll_locked(stack: &mut NetStack<Nic>) -> bool {
    LAST_POLL.store(clock::now_ns(), Ordering::Relaxed);
    let now = now_ms();
    let changed = stack.poll(now);
    let next = stack
        .poll_delay_ms(now)
        .map_or(u64::MAX, |ms| (now + ms).saturating_mul(1_000_000));
    NEXT_POLL.store(next, Ordering::Relaxed);
    changed
}

/// Runs `f` on the stack between two polls (what arrived before, what `f` queued after),
/// and wakes socket waiters if anything moved. EAFNOSUPPORT without a stack.
fn with_stack<T>(f: impl FnOnce(&mut NetStack<Nic>) -> T) -> KResult<T> {
    let (result, changed) = {
        let mut guard = STACK.lock();
        let stack = guard.as_mut().ok_or(Errno::EAFNOSUPPORT)?;
        let before = poll_locked(stack);
        let result = f(stack);
        let after = poll_locked(stack);
        (result, before || after)
    };
    if changed {
        WAITERS.wake_waiters();
    }
    Ok(result)
}

/// The card's interrupt: acknowledge, move packets, wake waiters.
fn on_irq() {
    let changed = {
        let mut guard = STACK.lock();
        let Some(stack) = guard.as_mut() else { return };
        if let Some(card) = stack.device().0.as_mut() {
            card.ack_interrupt();
        }
        poll_locked(stack)
    };
    if changed {
        WAITERS.wake_all();
    }
}

/// Longest time between two polls: a safety net should the card's interrupt go missing
/// (ten cheap polls a second; the idle machine still does no network work in between).
const MAX_POLL_GAP_NS: u64 = 100_000_000;
/// Clock (ns) of the last poll.
static LAST_POLL: AtomicU64 = AtomicU64::new(0);

/// The timer tick: polls the stack when its timers are due (every tick for a card without
/// an interrupt, at least every [`MAX_POLL_GAP_NS`] otherwise), and wakes timed waits whose
/// deadline passed.
pub fn on_tick() {
    let now = clock::now_ns();
    let due = now >= NEXT_POLL.load(Ordering::Relaxed)
        || now.saturating_sub(LAST_POLL.load(Ordering::Relaxed)) >= MAX_POLL_GAP_NS
        || !HAS_IRQ.load(Ordering::Relaxed);
    if due {
        let changed = STACK.lock().as_mut().is_some_and(poll_locked);
        if changed {
            WAITERS.wake_all();
        }
    }
    if now >= NEXT_DEADLINE.load(Ordering::Relaxed) {
        NEXT_DEADLINE.store(u64::MAX, Ordering::Relaxed);
        WAITERS.wake_all();
    }
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
