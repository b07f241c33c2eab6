//! timerfd: a timer whose expirations are read as a count, after Linux's `fs/timerfd.c`.
//!
//! An armed timer is on [`ARMED`], which the timer tick looks at ([`on_tick`]): at its
//! deadline (on its own clock: realtime, monotonic or boottime) it counts one expiration,
//! stops, and wakes its queue. A periodic timer is moved on by whole intervals (each one
//! missed counted) when the count is read or the timer is looked at, and then armed again,
//! as Linux's `hrtimer_forward_now` does at those points. Reads wait for a non-zero count
//! and take it (8 bytes); the timer's resolution is the tick's.

use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;

use tessera_abi::events::{TFD_NONBLOCK, TFD_TIMER_ABSTIME};
use tessera_abi::poll::PollEvents;
use tessera_abi::{Errno, KResult};
use tessera_sync::{IrqSave, SpinLock};

use super::file::{FileOps, O_RDWR, OpenFile};
use super::stat::Stat;
use crate::process::sched::WaitQueue;

/// A timer's state (all times in ns on its clock).
#[derive(Default)]
struct State {
    /// The next expiration, or the last one when `expired` (0: disarmed).
    deadline: u64,
    /// The period (0: one-shot).
    interval: u64,
    /// Expirations not read yet.
    ticks: u64,
    /// Expired and stopped; a periodic timer is moved on when next looked at.
    expired: bool,
}

impl State {
    /// On its way: counts towards an expiration (Linux's `hrtimer_active`).
    fn running(&self) -> bool {
        self.deadline != 0 && !self.expired
    }

    /// A periodic timer that expired is moved on past `now` by whole intervals (each one
    /// counted as a further expiration) and runs again (Linux's `hrtimer_forward_now`).
    /// Returns whether it runs again.
    fn forward(&mut self, now: u64) -> bool {
        if !self.expired || self.interval == 0 {
            return false;
        }
        self.expired = false;
        let overruns = if now < self.deadline {
            0
        } else {
            (now - self.deadline) / self.interval + 1
        };
        self.ticks = self.ticks.saturating_add(overruns.saturating_sub(1));
        self.deadline = self
            .deadline
            .saturating_add(overruns.saturating_mul(self.interval));
        true
    }

    /// Counts an expiration the tick has not seen yet (the deadline passed since the last
    /// tick), as Linux's timer would have fired at the deadline; returns whether it did.
    fn catch_up(&mut self, now: u64) -> bool {
        if self.running() && self.deadline <= now {
            self.expired = true;
            self.ticks = self.ticks.saturating_add(1);
            true
        } else {
            false
        }
    }

    /// Time left to the next expiration (0 when disarmed or past).
    fn remaining(&self, now: u64) -> u64 {
        if self.deadline == 0 || self.expired {
            0
        } else {
            self.deadline.saturating_sub(now)
        }
    }
}

/// A timerfd.
pub struct TimerFd {
    clock: u64,
    state: SpinLock<State, IrqSave>,
    wait: WaitQueue,
    me: Weak<TimerFd>,
}

/// Timers that are running, for the tick.
static ARMED: SpinLock<Vec<Weak<TimerFd>>, IrqSave> = SpinLock::new(Vec::new());

/// timerfd_create: a disarmed timer on `clock` (checked by the caller).
pub fn new_timerfd(clock: u64, flags: u32) -> Arc<OpenFile> {
    let ops = Arc::new_cyclic(|me| TimerFd {
        clock,
        state: SpinLock::new(State::default()),
        wait: WaitQueue::new(),
        me: me.clone(),
    });
    OpenFile::new(ops, O_RDWR | (flags & TFD_NONBLOCK))
}

/// The timer tick: expires the running timers whose deadline has passed and wakes their
/// readers and watchers.
pub fn on_tick() {
    let mut fired = Vec::new();
    {
        let mut armed = ARMED.lock();
        if armed.is_empty() {
            return;
        }
        armed.retain(|weak| {
            let Some(timer) = weak.upgrade() else {
                return false;
            };
            let Ok(now) = crate::time::now(timer.clock) else {
                return false;
            };
            let mut state = timer.state.lock();
            if !state.running() {
                return false;
            }
            if state.deadline > now {
                return true;
            }
            state.expired = true;
            state.ticks = state.ticks.saturating_add(1);
            drop(state);
            fired.push(timer);
            false
        });
    }
    for timer in fired {
        timer.wait.wake_poll(PollEvents::IN);
    }
}

impl TimerFd {
    /// The timerfd an open file is, if it is one.
    pub fn of(file: &OpenFile) -> Option<&TimerFd> {
        file.ops.as_any()?.downcast_ref::<TimerFd>()
    }

    fn now(&self) -> u64 {
        crate::time::now(self.clock).unwrap_or(0)
    }

    fn arm(&self) {
        let me = self.me.clone();
        let mut armed = ARMED.lock();
        if !armed.iter().any(|w| w.ptr_eq(&me)) {
            armed.push(me);
        }
    }

    /// timerfd_gettime: (time left, interval) in ns. An expiration due since the last tick
    /// is counted (and announced) first, so that a periodic timer never shows 0 left.
    pub fn get(&self) -> (u64, u64) {
        let now = self.now();
        let mut state = self.state.lock();
        let fired = state.catch_up(now);
        let rearm = state.forward(now);
        let result = (state.remaining(now), state.interval);
        drop(state);
        if rearm {
            self.arm();
        }
        if fired {
            self.wait.wake_waiters_poll(PollEvents::IN);
        }
        result
    }

    /// timerfd_settime: `value` (a time on the timer's clock with TFD_TIMER_ABSTIME, else
    /// from now; 0 disarms) and `interval`, both in ns; returns the old (time left,
    /// interval). Pending expirations are dropped.
    pub fn set(&self, flags: u32, value: u64, interval: u64) -> (u64, u64) {
        let now = self.now();
        let old = {
            let mut state = self.state.lock();
            state.forward(now);
            let old = (state.remaining(now), state.interval);
            *state = State {
                deadline: match value {
                    0 => 0,
                    _ if flags & TFD_TIMER_ABSTIME != 0 => value.max(1),
                    _ => now.saturating_add(value),
                },
                interval,
                ticks: 0,
                expired: false,
            };
            old
        };
        if value != 0 {
            self.arm();
        }
        old
    }
}

impl FileOps for TimerFd {
    fn read(&self, _offset: u64, buf: &mut [u8], nonblock: bool) -> KResult<usize> {
        if buf.len() < 8 {
            return Err(Errno::EINVAL);
        }
        let mut rearm = false;
        let ticks = self.wait.wait_until(true, || {
            let mut state = self.state.lock();
            if state.ticks == 0 {
                return nonblock.then_some(Err(Errno::EAGAIN));
            }
            rearm = state.forward(self.now());
            Some(Ok(core::mem::take(&mut state.ticks)))
        })??;
        if rearm {
            self.arm();
        }
        buf[..8].copy_from_slice(&ticks.to_le_bytes());
        Ok(8)
    }

    fn read_user(&self, offset: u64, addr: u64, len: usize, nonblock: bool) -> KResult<usize> {
        let mut buf = [0u8; 8];
        if len < 8 {
            return Err(Errno::EINVAL);
        }
        let n = self.read(offset, &mut buf, nonblock)?;
        crate::user::write_bytes(addr, &buf[..n])?;
        Ok(n)
    }

    fn write(&self, _offset: u64, _buf: &[u8], _nonblock: bool) -> KResult<usize> {
        Err(Errno::EINVAL)
    }

    fn stat(&self) -> KResult<Stat> {
        Ok(super::anon_inode_stat())
    }

    fn can_poll(&self) -> bool {
        true
    }

    fn wait_queues(&self, add: &mut dyn FnMut(&WaitQueue)) {
        add(&self.wait);
    }

    fn poll(&self) -> PollEvents {
        if self.state.lock().ticks > 0 {
            PollEvents::IN
        } else {
            PollEvents::empty()
        }
    }

    fn as_any(&self) -> Option<&dyn core::any::Any> {
        Some(self)
    }

    fn link_name(&self) -> Vec<u8> {
        b"anon_inode:[timerfd]".to_vec()
    }
}
