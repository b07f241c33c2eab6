//! `net = "smoltcp"`: the `tessera-net` stack on the virtio-net card (10.0.2.15 on QEMU's
//! user network; without a card, loopback only), polled from the card's interrupt, the timer
//! and every socket call, and the AF_INET sockets on it (`inet`).

use core::sync::atomic::{AtomicU64, Ordering};

use tessera_abi::{Errno, KResult};
use tessera_net::{NetConfig, NetStack};
use tessera_platform::clock;
use tessera_sync::{IrqSave, SpinLock};

use super::WAITERS;
pub use super::inet::new_inet_socket;

/// The network card as the stack sees it: the virtio-net device, or none.
pub(super) struct Nic(Option<tessera_platform::virtio::NetDevice>);

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

/// The stack (None before [`init`]). IRQ-saving: the card's
/// interrupt and the timer poll it.
static STACK: SpinLock<Option<NetStack<Nic>>, IrqSave> = SpinLock::new(None);
/// Clock (ns) at which the stack wants a poll for its timers; u64::MAX for none.
static NEXT_POLL: AtomicU64 = AtomicU64::new(u64::MAX);
/// Whether the card interrupts (else the timer polls it on every tick).
static HAS_IRQ: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);

/// Starts networking as the config says: probes the card and starts the stack.
pub fn init() {
    let card = tessera_platform::virtio::probe_net(crate::mm::frame_source());
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
pub(super) fn with_stack<T>(f: impl FnOnce(&mut NetStack<Nic>) -> T) -> KResult<T> {
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
/// The card's interrupt: its own context for lock order checking (see
/// `tessera_sync::interrupt_context`).
fn on_irq() {
    tessera_sync::interrupt_context(on_irq_inner);
}

fn on_irq_inner() {
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
/// an interrupt, at least every [`MAX_POLL_GAP_NS`] otherwise).
pub fn on_tick(now: u64) {
    let due = now >= NEXT_POLL.load(Ordering::Relaxed)
        || now.saturating_sub(LAST_POLL.load(Ordering::Relaxed)) >= MAX_POLL_GAP_NS
        || !HAS_IRQ.load(Ordering::Relaxed);
    if due {
        let changed = STACK.lock().as_mut().is_some_and(poll_locked);
        if changed {
            WAITERS.wake_all();
        }
    }
}
