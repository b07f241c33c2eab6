//! Process and thread ids: handed out in increasing order below `pid_max`, then again from
//! [`RESERVED_PIDS`] up, skipping every id still in use, as Linux's `alloc_pid` does
//! (Linux 6.1, `kernel/pid.c`: `idr_alloc_cyclic` from the last id handed out plus one,
//! between `pid_min` and `pid_max`).
//!
//! An id is in use while a task has it (a zombie included, until it is reaped) or a
//! process has it as its process group or session: Linux frees a `struct pid` only when no
//! task refers to it in any role, so a group whose leader is gone keeps its id.
//!
//! `pid_max` is `/proc/sys/kernel/pid_max`: 32,768 by default (`PID_MAX_DEFAULT`; Linux
//! raises it to 1,024 per possible CPU above 32 CPUs), settable by root between
//! `RESERVED_PIDS + 1` and `PID_MAX_LIMIT` (4,194,304 on 64-bit machines). With every id
//! of the range in use, creating a task fails with EAGAIN, as fork does on Linux.

use core::sync::atomic::{AtomicU32, Ordering};

use tessera_abi::{Errno, KResult};

use super::task::Pid;

/// `pid_max` at boot (Linux's `PID_MAX_DEFAULT`).
pub const PID_MAX_DEFAULT: Pid = 0x8000;
/// The largest `pid_max` (Linux's `PID_MAX_LIMIT` on 64-bit machines).
#[allow(dead_code, reason = "for procfs, which a config may leave out")]
pub const PID_MAX_LIMIT: Pid = 4 * 1024 * 1024;
/// Ids below this are given once only, at boot: after the first wrap the search starts here
/// (Linux's `RESERVED_PIDS`), so daemons started early keep ids no later process takes.
pub const RESERVED_PIDS: Pid = 300;

/// Ids are below this (`/proc/sys/kernel/pid_max`).
static PID_MAX: AtomicU32 = AtomicU32::new(PID_MAX_DEFAULT);

/// The current `pid_max`.
pub fn max() -> Pid {
    PID_MAX.load(Ordering::Relaxed)
}

/// Sets `pid_max` (a write of `/proc/sys/kernel/pid_max`): EINVAL outside Linux's range.
/// Ids already handed out above the new limit stay valid.
#[allow(dead_code, reason = "for procfs, which a config may leave out")]
pub fn set_max(value: i64) -> KResult<()> {
    let value = Pid::try_from(value).map_err(|_| Errno::EINVAL)?;
    if !(RESERVED_PIDS + 1..=PID_MAX_LIMIT).contains(&value) {
        return Err(Errno::EINVAL);
    }
    PID_MAX.store(value, Ordering::Relaxed);
    Ok(())
}

/// Where the next search for a free id starts, and the highest id ever handed out (every
/// id above it is free without looking: before the first wrap that is every candidate, so
/// creating a task costs a compare).
pub struct PidCursor {
    next: Pid,
    highest: Pid,
    /// Ids handed out since boot (Linux's `total_forks`).
    created: u64,
}

impl PidCursor {
    pub const fn new() -> PidCursor {
        PidCursor {
            next: 1,
            highest: 0,
            created: 0,
        }
    }

    /// A free id: the first one from the cursor up to `pid_max`, else the first from the
    /// bottom of the range; EAGAIN when none is. `in_use` is asked only about ids handed
    /// out before.
    pub fn alloc(&mut self, in_use: impl Fn(Pid) -> bool) -> KResult<Pid> {
        let max = max();
        let min = if self.next > RESERVED_PIDS {
            RESERVED_PIDS
        } else {
            1
        };
        let free = |pid: &Pid| *pid > self.highest || !in_use(*pid);
        let pid = (self.next.max(min)..max)
            .find(free)
            .or_else(|| (min..max).find(free))
            .ok_or(Errno::EAGAIN)?;
        self.next = pid + 1;
        self.highest = self.highest.max(pid);
        self.created += 1;
        Ok(pid)
    }

    /// The id most recently handed out (the last field of `/proc/loadavg`).
    pub fn last(&self) -> Pid {
        self.next - 1
    }

    /// Ids handed out since boot.
    pub fn created(&self) -> u64 {
        self.created
    }
}
