//! Sending signals (kill, tkill, tgkill) and pause: in every kernel with processes, with
//! handlers (`signals = true`) or with the default actions only.

use tessera_abi::{Errno, KResult};

use super::args::{Args, Decode};
use crate::process::signal::{self as sig, NSIG};
use crate::process::{current, sched, task};

/// kill(pid_t pid, int sig). -INT_MIN has no pid_t: ESRCH, as Linux's kill_something_info.
pub fn kill(a: &Args) -> KResult<isize> {
    let pid = a.pid(0);
    if pid == i32::MIN {
        return Err(Errno::ESRCH);
    }
    send_from_user(pid, a.int(1), sig::SI_USER)
}

fn send_from_user(pid: i32, signal: i32, code: i32) -> KResult<isize> {
    let signal = u32::try_from(signal).map_err(|_| Errno::EINVAL)?;
    if signal > NSIG {
        return Err(Errno::EINVAL);
    }
    let me = current();
    let targets: alloc::vec::Vec<_> = match pid {
        p if p > 0 => alloc::vec![task::find_process(p as u32).ok_or(Errno::ESRCH)?],
        0 => group(me.process.pgid.load(core::sync::atomic::Ordering::Relaxed)),
        -1 => task::all_processes()
            .into_iter()
            .filter(|t| t.tgid() != 1 && t.tgid() != me.tgid())
            .collect(),
        p => group(p.unsigned_abs()),
    };
    if targets.is_empty() {
        return Err(Errno::ESRCH);
    }
    for target in targets {
        if !target.process.exited() {
            sig::send_info(&target, signal, sig::SigInfo::user(code, me.tgid()));
        }
    }
    Ok(0)
}

/// Live processes of a process group (their leaders).
pub fn group(pgid: u32) -> alloc::vec::Vec<alloc::sync::Arc<task::Task>> {
    task::all_processes()
        .into_iter()
        .filter(|t| t.process.pgid.load(core::sync::atomic::Ordering::Relaxed) == pgid)
        .collect()
}

/// Sends `signal` to thread `tid` (of process `tgid` when given): tkill, tgkill.
fn send_to_thread(tgid: Option<u32>, tid: u32, signal: i32) -> KResult<isize> {
    let signal = u32::try_from(signal).map_err(|_| Errno::EINVAL)?;
    if signal > NSIG {
        return Err(Errno::EINVAL);
    }
    let target = task::find(tid)
        .filter(|t| tgid.is_none_or(|g| t.tgid() == g))
        .filter(|t| t.state() != task::TaskState::Zombie)
        .ok_or(Errno::ESRCH)?;
    let me = current();
    sig::send_thread(
        &target,
        signal,
        sig::SigInfo::user(sig::SI_TKILL, me.tgid()),
    );
    Ok(0)
}

/// tkill(pid_t tid, int sig).
pub fn tkill(a: &Args) -> KResult<isize> {
    let tid = a.pid(0);
    if tid <= 0 {
        return Err(Errno::EINVAL);
    }
    send_to_thread(None, tid as u32, a.int(1))
}

/// tgkill(pid_t tgid, pid_t tid, int sig).
pub fn tgkill(a: &Args) -> KResult<isize> {
    let (tgid, tid) = (a.pid(0), a.pid(1));
    if tgid <= 0 || tid <= 0 {
        return Err(Errno::EINVAL);
    }
    send_to_thread(Some(tgid as u32), tid as u32, a.int(2))
}

/// pause: waits for a signal; always EINTR.
pub fn pause() -> KResult<isize> {
    let queue = sched::WaitQueue::new();
    let _ = queue.wait_until(true, || None::<()>);
    Err(Errno::EINTR)
}
