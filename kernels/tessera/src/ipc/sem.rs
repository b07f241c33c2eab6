//! Semaphore sets: `semget`, `semop`/`semtimedop`, `semctl`, and `SEM_UNDO` at exit
//! (`ipc/sem.c`). The set's rules are `tessera_ipc::sem`; a blocked `semop` is queued in its
//! set and completed by whoever makes it possible (or fails with EIDRM when the set goes),
//! and otherwise ends with its deadline (EAGAIN) or a signal (EINTR, whatever `SA_RESTART`
//! says, as Linux).

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};

use tessera_abi::{Errno, KResult};
use tessera_ipc::ids::Ids;
use tessera_ipc::sem::*;
use tessera_ipc::{IPC_INFO, IPC_RMID, IPC_SET, IPC_STAT, layout};

use super::{CALLER, Slot, complete_all, now, pid, ticket};
use crate::process::sched::{self, Wakeup};
use crate::user;
use crate::variants::SubsystemLock;

type Waiter = Arc<Slot<Result<(), Errno>>>;

struct Sems {
    ids: Ids<SemSet<Waiter>>,
    /// Semaphores in all sets (`used_sems`).
    used: i64,
}

static SEMS: SubsystemLock<Sems> = SubsystemLock::new(Sems {
    ids: Ids::new(SEMMNI),
    used: 0,
});

/// Whether any `SEM_UNDO` operation ever ran: until then exit has nothing to undo and does
/// not look.
static UNDO_USED: AtomicBool = AtomicBool::new(false);

pub fn semget(key: i32, nsems: i32, flags: i32) -> KResult<isize> {
    if !(0..=SEMMSL).contains(&nsems) {
        return Err(Errno::EINVAL);
    }
    let mut sems = SEMS.lock();
    let used = sems.used;
    let id = sems.ids.get_or_create(
        key,
        flags,
        &CALLER,
        |set| {
            if nsems as usize > set.len() {
                Err(Errno::EINVAL)
            } else {
                Ok(())
            }
        },
        || {
            if nsems == 0 {
                return Err(Errno::EINVAL);
            }
            if used + i64::from(nsems) > SEMMNS {
                return Err(Errno::ENOSPC);
            }
            Ok(SemSet::new(nsems as usize, now()))
        },
    )?;
    let total: i64 = sems.ids.iter().map(|(_, e)| e.object.len() as i64).sum();
    sems.used = total;
    Ok(id as isize)
}

/// `semtimedop` (and `semop`, without a timeout): `ops` copied and counted by the caller
/// (1..=SEMOPM), `timeout` in ns, checked.
pub fn semtimedop(semid: i32, ops: Vec<SemBuf>, timeout: Option<u64>) -> KResult<isize> {
    let highest = ops.iter().map(|op| op.num).max().unwrap_or(0);
    let alter = ops.iter().any(|op| op.op != 0);
    if ops.iter().any(|op| op.flags & SEM_UNDO != 0) {
        UNDO_USED.store(true, Ordering::Relaxed);
    }
    let pid = pid();
    let (slot, ticket) = {
        let mut sems = SEMS.lock();
        let entry = sems.ids.get_mut(semid)?;
        if usize::from(highest) >= entry.object.len() {
            return Err(Errno::EFBIG);
        }
        if !entry
            .perm
            .permits(&CALLER, if alter { 0o222 } else { 0o444 })
        {
            return Err(Errno::EACCES);
        }
        match entry.object.semop(&ops, pid, now()) {
            Ok(woken) => {
                drop(sems);
                complete_all(woken);
                return Ok(0);
            }
            Err(Err(errno)) => return Err(errno),
            Err(Ok(blocked)) => {
                let (slot, ticket) = (Slot::new(), ticket());
                entry
                    .object
                    .enqueue(ticket, ops, pid, blocked, slot.clone());
                (slot, ticket)
            }
        }
    };
    let deadline = timeout.map_or(0, |ns| crate::time::deadline_in(ns).max(1));
    let wakeup = sched::block_until(deadline, || slot.is_done());
    if wakeup != Wakeup::Done {
        let mut sems = SEMS.lock();
        let queued = sems
            .ids
            .get_mut(semid)
            .is_ok_and(|entry| entry.object.cancel(ticket));
        if queued {
            return Err(if wakeup == Wakeup::TimedOut {
                Errno::EAGAIN
            } else {
                Errno::EINTR
            });
        }
    }
    slot.take().expect("a completed semop has its result")?;
    Ok(0)
}

pub fn semctl(semid: i32, semnum: i32, cmd: i32, arg: u64) -> KResult<isize> {
    if semid < 0 {
        return Err(Errno::EINVAL);
    }
    match cmd {
        IPC_INFO | SEM_INFO => info(cmd, arg),
        IPC_STAT | SEM_STAT | SEM_STAT_ANY => stat(semid, cmd, arg),
        GETALL | GETVAL | GETPID | GETNCNT | GETZCNT => get(semid, semnum, cmd, arg),
        SETVAL => {
            // The value is the int the union holds (the low half of the argument).
            let value = arg as u32 as i32;
            if !(0..=SEMVMX).contains(&value) {
                return Err(Errno::ERANGE);
            }
            change(semid, |set, pid, now| {
                let num = usize::try_from(semnum)
                    .ok()
                    .filter(|&n| n < set.len())
                    .ok_or(Errno::EINVAL)?;
                Ok(set.set_value(num, value, pid, now))
            })
        }
        SETALL => {
            let nsems = {
                let sems = SEMS.lock();
                let entry = sems.ids.get(semid)?;
                if !entry.perm.permits(&CALLER, 0o222) {
                    return Err(Errno::EACCES);
                }
                entry.object.len()
            };
            let bytes = user::read_bytes(arg, nsems * 2)?;
            let values: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]))
                .collect();
            if values.iter().any(|&v| i32::from(v) > SEMVMX) {
                return Err(Errno::ERANGE);
            }
            // The set may have gone (EIDRM on Linux, which holds a reference) or another
            // taken its id while the values were read.
            change(semid, |set, pid, now| {
                if set.len() != nsems {
                    return Err(Errno::EIDRM);
                }
                Ok(set.set_all(&values, pid, now))
            })
        }
        IPC_SET => {
            let mut buf = [0; layout::SEMID_DS_SIZE];
            user::read_into(arg, &mut buf)?;
            let (uid, gid, mode) = layout::perm_update(&buf);
            let mut sems = SEMS.lock();
            let entry = sems.ids.get_mut(semid)?;
            entry.perm.may_change(&CALLER)?;
            entry.perm.update(uid, gid, mode)?;
            entry.object.ctime = now();
            Ok(0)
        }
        IPC_RMID => {
            let woken = {
                let mut sems = SEMS.lock();
                sems.ids.get(semid)?.perm.may_change(&CALLER)?;
                let mut entry = sems.ids.remove(semid)?;
                sems.used -= entry.object.len() as i64;
                entry.object.remove()
            };
            complete_all(woken);
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

/// A change of values by `semctl` (SETVAL, SETALL): the set checked for writing, `f` run,
/// the waiters it let go woken.
fn change(
    semid: i32,
    f: impl FnOnce(&mut SemSet<Waiter>, i32, i64) -> KResult<Vec<(Waiter, Result<(), Errno>)>>,
) -> KResult<isize> {
    let woken = {
        let mut sems = SEMS.lock();
        let entry = sems.ids.get_mut(semid)?;
        if !entry.perm.permits(&CALLER, 0o222) {
            return Err(Errno::EACCES);
        }
        f(&mut entry.object, pid(), now())?
    };
    complete_all(woken);
    Ok(0)
}

fn info(cmd: i32, arg: u64) -> KResult<isize> {
    let (max, in_use, used) = {
        let sems = SEMS.lock();
        (sems.ids.max_index(), sems.ids.in_use(), sems.used)
    };
    let (usz, aem) = if cmd == SEM_INFO {
        (in_use as i32, used as i32)
    } else {
        (SEMUSZ, SEMAEM)
    };
    let record = layout::seminfo([
        SEMMAP as i32,
        SEMMNI as i32,
        SEMMNS as i32,
        SEMMNU as i32,
        SEMMSL,
        SEMOPM as i32,
        SEMUME,
        usz,
        SEMVMX,
        aem,
    ]);
    user::write_bytes(arg, &record)?;
    Ok(max.max(0) as isize)
}

fn stat(semid: i32, cmd: i32, arg: u64) -> KResult<isize> {
    let (id, record) = {
        let sems = SEMS.lock();
        let (id, entry) = if cmd == IPC_STAT {
            (0, sems.ids.get(semid)?)
        } else {
            sems.ids.get_by_index(semid)?
        };
        if cmd != SEM_STAT_ANY && !entry.perm.permits(&CALLER, 0o444) {
            return Err(Errno::EACCES);
        }
        let set = &entry.object;
        (
            id,
            layout::semid_ds(&entry.perm, set.otime, set.ctime, set.len() as u64),
        )
    };
    user::write_bytes(arg, &record)?;
    Ok(id as isize)
}

fn get(semid: i32, semnum: i32, cmd: i32, arg: u64) -> KResult<isize> {
    let sems = SEMS.lock();
    let entry = sems.ids.get(semid)?;
    if !entry.perm.permits(&CALLER, 0o444) {
        return Err(Errno::EACCES);
    }
    let set = &entry.object;
    if cmd == GETALL {
        let values: Vec<u8> = set
            .sems
            .iter()
            .flat_map(|s| (s.value as u16).to_le_bytes())
            .collect();
        drop(sems);
        user::write_bytes(arg, &values)?;
        return Ok(0);
    }
    let num = usize::try_from(semnum)
        .ok()
        .filter(|&n| n < set.len())
        .ok_or(Errno::EINVAL)?;
    Ok(match cmd {
        GETVAL => set.sems[num].value as isize,
        GETPID => set.sems[num].pid as isize,
        GETNCNT => set.waiting(num, false) as isize,
        _ => set.waiting(num, true) as isize,
    })
}

/// The last thread of process `tgid` exits: its `SEM_UNDO` adjustments are applied
/// (`exit_sem`), and the waiters that lets go are woken.
pub fn exit_process(tgid: u32) {
    if !UNDO_USED.load(Ordering::Relaxed) {
        return;
    }
    let pid = tgid as i32;
    let woken: Vec<_> = {
        let mut sems = SEMS.lock();
        let now = now();
        sems.ids
            .iter_mut()
            .filter(|(_, entry)| entry.object.has_undo(pid))
            .flat_map(|(_, entry)| entry.object.exit(pid, now))
            .collect()
    };
    complete_all(woken);
}
