//! CPUs and CPU time: sched_getaffinity/sched_setaffinity, membarrier, getrusage, times.
//!
//! One CPU: every affinity mask is CPU 0, and a memory barrier on every running thread of
//! the process is the barrier the system call itself is (no other CPU runs one of them).

use core::sync::atomic::Ordering;

use tessera_abi::process::{
    MEMBARRIER_CMD_FLAG_CPU, MEMBARRIER_CMD_GLOBAL, MEMBARRIER_CMD_GLOBAL_EXPEDITED,
    MEMBARRIER_CMD_PRIVATE_EXPEDITED, MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ,
    MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, MEMBARRIER_CMD_QUERY,
    MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
    MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ,
    MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, RUSAGE_CHILDREN, RUSAGE_SELF, RUSAGE_SIZE,
    RUSAGE_THREAD, TMS_SIZE,
};
use tessera_abi::{Errno, KResult};

use super::args::{Args, Decode};
use crate::process::task::{self, Task};
use crate::process::{current, sched};
use crate::user::StructWriter;

/// Bytes of the CPU masks this kernel reports: one `unsigned long` (Linux's
/// `cpumask_size()` for up to 64 CPUs).
const MASK_BYTES: usize = 8;

/// The CPUs (Linux's `nr_cpu_ids`).
const CPUS: u32 = 1;

/// The task `pid` names for the sched_* calls (0: the caller); ESRCH if none.
fn sched_target(pid: i32) -> KResult<alloc::sync::Arc<Task>> {
    match pid {
        0 => Ok(current()),
        p if p < 0 => Err(Errno::EINVAL),
        p => task::find(p as u32)
            .filter(|t| t.state() != task::TaskState::Zombie)
            .ok_or(Errno::ESRCH),
    }
}

/// sched_getaffinity(pid_t pid, unsigned int len, unsigned long *mask): returns the bytes
/// written. Linux (`kernel/sched/core.c`): EINVAL when `len` in bits (an `unsigned int`
/// product, which wraps) is below the number of CPUs, or `len` is not a multiple of a long.
pub fn sched_getaffinity(a: &Args) -> KResult<isize> {
    let len = a.uint(1);
    if len.wrapping_mul(8) < CPUS || !len.is_multiple_of(8) {
        return Err(Errno::EINVAL);
    }
    sched_target(a.pid(0))?;
    a.ptr(2).write_u64(1)?;
    Ok(MASK_BYTES as isize)
}

/// sched_setaffinity(pid_t pid, unsigned int len, const unsigned long *mask): the mask is
/// read first (EFAULT), then the task found (ESRCH), then the mask must include an online
/// CPU (CPU 0), else EINVAL; the thread runs on CPU 0 either way.
pub fn sched_setaffinity(a: &Args) -> KResult<isize> {
    // Linux reads what fits in its mask and ignores the rest; a short mask is zero-extended
    // (`get_user_cpu_mask`).
    let len = a.uint(1) as usize;
    let bytes = a.ptr(2).read_bytes(len.min(MASK_BYTES))?;
    sched_target(a.pid(0))?;
    if bytes.first().is_none_or(|b| b & 1 == 0) {
        return Err(Errno::EINVAL);
    }
    Ok(0)
}

/// The commands membarrier(2) reports and accepts (Linux 6.1 on x86_64 with
/// `CONFIG_RSEQ`: `MEMBARRIER_CMD_BITMASK`).
const MEMBARRIER_SUPPORTED: u32 = MEMBARRIER_CMD_GLOBAL
    | MEMBARRIER_CMD_GLOBAL_EXPEDITED
    | MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED
    | MEMBARRIER_CMD_PRIVATE_EXPEDITED
    | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED
    | MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE
    | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE
    | MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ
    | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ;

/// membarrier(int cmd, unsigned int flags, int cpu_id): as Linux's `kernel/sched/membarrier.c`
/// decides what is valid: flags only with the RSEQ command (MEMBARRIER_CMD_FLAG_CPU), a
/// private expedited command only after its registration (EPERM), an unknown command
/// EINVAL. With one CPU, the barrier itself is the system call's entry and exit.
pub fn membarrier(a: &Args) -> KResult<isize> {
    // `cmd` is an `int`, compared here with the (non-negative) command bits.
    let (cmd, flags) = (a.int(0) as u32, a.uint(1));
    let allowed_flags = if cmd == MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ {
        MEMBARRIER_CMD_FLAG_CPU
    } else {
        0
    };
    if flags & !allowed_flags != 0 {
        return Err(Errno::EINVAL);
    }
    let task = current();
    let registered = &task.process.membarrier_registered;
    match cmd {
        MEMBARRIER_CMD_QUERY => Ok(MEMBARRIER_SUPPORTED as isize),
        MEMBARRIER_CMD_GLOBAL | MEMBARRIER_CMD_GLOBAL_EXPEDITED => Ok(0),
        MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED
        | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED
        | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE
        | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ => {
            registered.fetch_or(cmd, Ordering::Relaxed);
            Ok(0)
        }
        MEMBARRIER_CMD_PRIVATE_EXPEDITED
        | MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE
        | MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ => {
            // Each command's registration is the next bit up.
            if registered.load(Ordering::Relaxed) & (cmd << 1) == 0 {
                return Err(Errno::EPERM);
            }
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// Timer ticks as a `struct timeval` (seconds, microseconds).
fn timeval(ticks: u64) -> (u64, u64) {
    let us = ticks.saturating_mul(1_000_000) / u64::from(crate::config::TIMER_HZ);
    (us / 1_000_000, us % 1_000_000)
}

/// The (user, system) ticks of the reaped children of `task`'s process.
fn children_ticks(task: &Task) -> (u64, u64) {
    *task.process.children_ticks.lock()
}

/// getrusage(int who, struct rusage *usage): user and system time of the process, its
/// reaped children or the calling thread; the other fields stay 0 (no page fault or context
/// switch counts yet).
pub fn getrusage(a: &Args) -> KResult<isize> {
    let task = current();
    let (user_ticks, system_ticks) = match a.int(0) {
        RUSAGE_SELF => task.process_ticks(),
        RUSAGE_CHILDREN => children_ticks(&task),
        RUSAGE_THREAD => (
            task.utime_ticks.load(Ordering::Relaxed),
            task.stime_ticks.load(Ordering::Relaxed),
        ),
        _ => return Err(Errno::EINVAL),
    };
    let mut w = StructWriter::new(RUSAGE_SIZE);
    let (us, uu) = timeval(user_ticks);
    let (ss, su) = timeval(system_ticks);
    w.u64(0, us).u64(8, uu).u64(16, ss).u64(24, su);
    a.ptr(1).write_bytes(&w.bytes)?;
    Ok(0)
}

/// times(struct tms *buf): the process's and its reaped children's CPU time in clock ticks;
/// returns the ticks since boot.
pub fn times(a: &Args) -> KResult<isize> {
    let task = current();
    let (user_ticks, system_ticks) = task.process_ticks();
    let (child_user, child_system) = children_ticks(&task);
    if let Some(buf) = a.ptr(0).nonnull() {
        let mut w = StructWriter::new(TMS_SIZE);
        w.u64(0, sched::ticks_to_clock_t(user_ticks))
            .u64(8, sched::ticks_to_clock_t(system_ticks))
            .u64(16, sched::ticks_to_clock_t(child_user))
            .u64(24, sched::ticks_to_clock_t(child_system));
        buf.write_bytes(&w.bytes)?;
    }
    let uptime_ticks = tessera_platform::clock::now_ns() / (1_000_000_000 / sched::USER_HZ);
    Ok(uptime_ticks as isize)
}
