//! Message queues: `msgget`, `msgsnd`, `msgrcv`, `msgctl` (`ipc/msg.c`). The queue's rules are
//! `tessera_ipc::msg`. A receiver that finds nothing waits in its queue and is handed a
//! message by the sender (or E2BIG, or EIDRM when the queue goes); a sender that does not fit
//! waits on [`SENDERS`] and looks again after every receive, `IPC_SET` and removal. Both
//! end with EINTR on a signal, whatever `SA_RESTART` says (Linux's ERESTARTNOHAND).

use alloc::sync::Arc;

use tessera_abi::{Errno, KResult};
use tessera_ipc::ids::Ids;
use tessera_ipc::msg::*;
use tessera_ipc::{IPC_INFO, IPC_NOWAIT, IPC_RMID, IPC_SET, IPC_STAT, layout};

use super::{CALLER, Slot, complete_all, now, pid, ticket};
use crate::process::sched::{self, WaitQueue, Wakeup};
use crate::user;
use crate::variants::SubsystemLock;

type Waiter = Arc<Slot<Result<Message, Errno>>>;

static QUEUES: SubsystemLock<Ids<MsgQueue<Waiter>>> = SubsystemLock::new(Ids::new(MSGMNI));

/// Senders waiting for room, in any queue.
static SENDERS: WaitQueue = WaitQueue::new();

pub fn msgget(key: i32, flags: i32) -> KResult<isize> {
    let id = QUEUES.lock().get_or_create(
        key,
        flags,
        &CALLER,
        |_| Ok(()),
        || Ok(MsgQueue::new(now())),
    )?;
    Ok(id as isize)
}

/// `msgsnd`: `mtype` already read from the buffer at `text - 8`.
pub fn msgsnd(msqid: i32, mtype: i64, text: u64, size: u64, flags: i32) -> KResult<isize> {
    if size > MSGMAX as u64 || msqid < 0 {
        return Err(Errno::EINVAL);
    }
    if mtype < 1 {
        return Err(Errno::EINVAL);
    }
    let text = user::read_bytes(text, size as usize)?;
    let size = text.len();
    let mut msg = Some(Message { mtype, text });
    let mut waited = false;
    let handed = SENDERS.wait_until(true, || {
        let mut queues = QUEUES.lock();
        let entry = match queues.get_mut(msqid) {
            Ok(entry) => entry,
            // Gone while this sender waited: Linux's sender sees its queue removed.
            Err(_) if waited => return Some(Err(Errno::EIDRM)),
            Err(errno) => return Some(Err(errno)),
        };
        waited = true;
        if !entry.perm.permits(&CALLER, 0o222) {
            return Some(Err(Errno::EACCES));
        }
        if entry.object.fits(size) {
            let msg = msg.take().expect("sent once");
            Some(Ok(entry.object.send(msg, pid(), now())))
        } else if flags & IPC_NOWAIT != 0 {
            Some(Err(Errno::EAGAIN))
        } else {
            None
        }
    })??;
    complete_all(handed);
    Ok(0)
}

/// `msgrcv`: the message's type is stored at `buf`, its text after it.
pub fn msgrcv(msqid: i32, buf: u64, size: u64, msgtyp: i64, flags: i32) -> KResult<isize> {
    if msqid < 0 || size > i64::MAX as u64 {
        return Err(Errno::EINVAL);
    }
    if flags & MSG_COPY != 0 && (flags & MSG_EXCEPT != 0 || flags & IPC_NOWAIT == 0) {
        return Err(Errno::EINVAL);
    }
    let max = if flags & MSG_COPY != 0 {
        size.min(MSGMAX as u64)
    } else {
        size
    } as usize;
    let search = Search::new(msgtyp, flags);
    let noerror = flags & MSG_NOERROR != 0;
    let msg = loop {
        let (slot, ticket) = {
            let mut queues = QUEUES.lock();
            let entry = queues.get_mut(msqid)?;
            if !entry.perm.permits(&CALLER, 0o444) {
                return Err(Errno::EACCES);
            }
            if let Some(msg) = entry.object.receive(search, max, noerror, pid(), now())? {
                drop(queues);
                SENDERS.wake_waiters();
                break msg;
            }
            if flags & IPC_NOWAIT != 0 {
                return Err(Errno::ENOMSG);
            }
            let (slot, ticket) = (Slot::new(), ticket());
            entry
                .object
                .wait(ticket, search, max, noerror, pid(), slot.clone());
            (slot, ticket)
        };
        if sched::block_until(0, || slot.is_done()) != Wakeup::Done {
            let mut queues = QUEUES.lock();
            let queued = queues
                .get_mut(msqid)
                .is_ok_and(|entry| entry.object.cancel(ticket));
            if queued {
                return Err(Errno::EINTR);
            }
        }
        match slot.take().expect("a receiver woken has its result") {
            Ok(msg) => break msg,
            // IPC_SET changed the queue: look again.
            Err(Errno::EAGAIN) => continue,
            Err(errno) => return Err(errno),
        }
    };
    let len = msg.text.len().min(max);
    user::write_u64(buf, msg.mtype as u64)?;
    user::write_bytes(buf + 8, &msg.text[..len])?;
    Ok(len as isize)
}

pub fn msgctl(msqid: i32, cmd: i32, buf: u64) -> KResult<isize> {
    if msqid < 0 || cmd < 0 {
        return Err(Errno::EINVAL);
    }
    match cmd {
        IPC_INFO | MSG_INFO => {
            let (max, in_use, headers, bytes) = {
                let queues = QUEUES.lock();
                let (headers, bytes) = queues.iter().fold((0, 0), |(h, b), (_, e)| {
                    (h + e.object.count(), b + e.object.bytes)
                });
                (queues.max_index(), queues.in_use(), headers, bytes)
            };
            let (pool, map, tql) = if cmd == MSG_INFO {
                (in_use as i32, headers as i32, bytes as i32)
            } else {
                (MSGPOOL, MSGMAP, MSGTQL)
            };
            let record = layout::msginfo(
                [
                    pool,
                    map,
                    MSGMAX as i32,
                    MSGMNB as i32,
                    MSGMNI as i32,
                    MSGSSZ,
                    tql,
                ],
                MSGSEG,
            );
            user::write_bytes(buf, &record)?;
            Ok(max.max(0) as isize)
        }
        IPC_STAT | MSG_STAT | MSG_STAT_ANY => {
            let (id, record) = {
                let queues = QUEUES.lock();
                let (id, entry) = if cmd == IPC_STAT {
                    (0, queues.get(msqid)?)
                } else {
                    queues.get_by_index(msqid)?
                };
                if cmd != MSG_STAT_ANY && !entry.perm.permits(&CALLER, 0o444) {
                    return Err(Errno::EACCES);
                }
                let q = &entry.object;
                let ds = layout::MsqidDs {
                    stime: q.stime,
                    rtime: q.rtime,
                    ctime: q.ctime,
                    cbytes: q.bytes as u64,
                    qnum: q.count() as u64,
                    qbytes: q.qbytes as u64,
                    lspid: q.lspid,
                    lrpid: q.lrpid,
                };
                (id, layout::msqid_ds(&entry.perm, &ds))
            };
            user::write_bytes(buf, &record)?;
            Ok(id as isize)
        }
        IPC_SET => {
            let mut ds = [0; layout::MSQID_DS_SIZE];
            user::read_into(buf, &mut ds)?;
            let (uid, gid, mode) = layout::perm_update(&ds);
            let qbytes = layout::msqid_qbytes(&ds);
            let expunged = {
                let mut queues = QUEUES.lock();
                let entry = queues.get_mut(msqid)?;
                entry.perm.may_change(&CALLER)?;
                // Past MSGMNB needs CAP_SYS_RESOURCE, which every process has here.
                entry.perm.update(uid, gid, mode)?;
                entry.object.qbytes = usize::try_from(qbytes).map_err(|_| Errno::EINVAL)?;
                entry.object.ctime = now();
                entry.object.expunge(Errno::EAGAIN)
            };
            complete_all(expunged);
            SENDERS.wake_waiters();
            Ok(0)
        }
        IPC_RMID => {
            let expunged = {
                let mut queues = QUEUES.lock();
                queues.get(msqid)?.perm.may_change(&CALLER)?;
                queues.remove(msqid)?.object.expunge(Errno::EIDRM)
            };
            complete_all(expunged);
            SENDERS.wake_waiters();
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}
