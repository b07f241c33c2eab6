//! A message queue (Linux's `struct msg_queue`, `ipc/msg.c`).
//!
//! A message fits while the queue's bytes plus its size stay within `msg_qbytes` (MSGMNB by
//! default) and the message count stays below `msg_qbytes` too (Linux's `msg_fits_inqueue`).
//! `msgrcv`'s `msgtyp`: 0 takes the first message; > 0 the first of that type, or with
//! `MSG_EXCEPT` the first of any other type; < 0 the first of the lowest type at most
//! `|msgtyp|`; with `MSG_COPY` it is a position, and the message is copied, not taken. A
//! message longer than the buffer is E2BIG and stays queued, unless `MSG_NOERROR`
//! truncates it. A message sent while receivers wait goes straight to the first one it
//! suits (`pipelined_send`); one whose buffer is too small (without `MSG_NOERROR`) gets
//! E2BIG instead and the message goes on to the next.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use crate::Errno;

/// Largest message.
pub const MSGMAX: usize = 8192;
/// Default byte limit of a queue.
pub const MSGMNB: usize = 16384;
/// Most queues.
pub const MSGMNI: usize = 32000;
/// `msginfo`'s other figures (the defaults Linux reports).
pub const MSGSSZ: i32 = 16;
pub const MSGPOOL: i32 = (MSGMNI * MSGMNB / 1024) as i32;
pub const MSGTQL: i32 = MSGMNB as i32;
pub const MSGMAP: i32 = MSGMNB as i32;
pub const MSGSEG: u16 = 0xffff;

/// msgrcv's flags.
pub const MSG_NOERROR: i32 = 0o10000;
pub const MSG_EXCEPT: i32 = 0o20000;
pub const MSG_COPY: i32 = 0o40000;

/// msgctl's commands beyond `IPC_*`.
pub const MSG_STAT: i32 = 11;
pub const MSG_INFO: i32 = 12;
pub const MSG_STAT_ANY: i32 = 13;

/// One message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub mtype: i64,
    pub text: Vec<u8>,
}

/// Which messages a `msgrcv` takes (`convert_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Search {
    Any,
    Equal(i64),
    NotEqual(i64),
    /// The lowest type at most this.
    LessEqual(i64),
    /// `MSG_COPY`: the message at this position.
    Number(i64),
}

impl Search {
    pub fn new(msgtyp: i64, flags: i32) -> Search {
        if flags & MSG_COPY != 0 {
            Search::Number(msgtyp)
        } else if msgtyp == 0 {
            Search::Any
        } else if msgtyp < 0 {
            // -LONG_MIN does not exist: Linux takes LONG_MAX.
            Search::LessEqual(msgtyp.checked_neg().unwrap_or(i64::MAX))
        } else if flags & MSG_EXCEPT != 0 {
            Search::NotEqual(msgtyp)
        } else {
            Search::Equal(msgtyp)
        }
    }

    fn matches(&self, mtype: i64) -> bool {
        match *self {
            Search::Any | Search::Number(_) => true,
            Search::Equal(t) => mtype == t,
            Search::NotEqual(t) => mtype != t,
            Search::LessEqual(t) => mtype <= t,
        }
    }
}

/// A receiver waiting for a message.
struct Receiver<W> {
    ticket: u64,
    search: Search,
    /// Longest message it takes (any, with `MSG_NOERROR`).
    max: usize,
    pid: i32,
    waiter: W,
}

/// Receivers handed a message (or E2BIG, EIDRM, or EAGAIN: look again), to wake.
pub type Handed<W> = Vec<(W, Result<Message, Errno>)>;

/// A message queue.
pub struct MsgQueue<W> {
    messages: VecDeque<Message>,
    /// Bytes queued (`msg_cbytes`).
    pub bytes: usize,
    /// The byte limit (`msg_qbytes`).
    pub qbytes: usize,
    pub stime: i64,
    pub rtime: i64,
    pub ctime: i64,
    /// The last sender's and receiver's tgids.
    pub lspid: i32,
    pub lrpid: i32,
    receivers: VecDeque<Receiver<W>>,
}

impl<W> MsgQueue<W> {
    pub fn new(now: i64) -> Self {
        MsgQueue {
            messages: VecDeque::new(),
            bytes: 0,
            qbytes: MSGMNB,
            stime: 0,
            rtime: 0,
            ctime: now,
            lspid: 0,
            lrpid: 0,
            receivers: VecDeque::new(),
        }
    }

    /// Messages queued (`msg_qnum`).
    pub fn count(&self) -> usize {
        self.messages.len()
    }

    /// Whether a message of `len` bytes fits now.
    pub fn fits(&self, len: usize) -> bool {
        self.bytes + len <= self.qbytes && self.messages.len() < self.qbytes
    }

    /// Sends a message that fits (the caller waited for [`MsgQueue::fits`]): to the first
    /// waiting receiver it suits, else to the end of the queue.
    pub fn send(&mut self, msg: Message, pid: i32, now: i64) -> Handed<W> {
        self.lspid = pid;
        self.stime = now;
        let mut handed = Vec::new();
        let mut i = 0;
        while i < self.receivers.len() {
            if !self.receivers[i].search.matches(msg.mtype) {
                i += 1;
                continue;
            }
            let r = self.receivers.remove(i).expect("in range");
            if r.max < msg.text.len() {
                handed.push((r.waiter, Err(Errno::E2BIG)));
                continue;
            }
            self.lrpid = r.pid;
            self.rtime = now;
            handed.push((r.waiter, Ok(msg)));
            return handed;
        }
        self.bytes += msg.text.len();
        self.messages.push_back(msg);
        handed
    }

    /// The position of the message `search` takes (`find_msg`).
    fn find(&self, search: Search) -> Option<usize> {
        if let Search::Number(n) = search {
            return usize::try_from(n).ok().filter(|&n| n < self.messages.len());
        }
        let mut found = None;
        let mut search = search;
        for (i, msg) in self.messages.iter().enumerate() {
            if !search.matches(msg.mtype) {
                continue;
            }
            match search {
                // A lower type may come later: keep looking below this one.
                Search::LessEqual(_) if msg.mtype != 1 => {
                    search = Search::LessEqual(msg.mtype - 1);
                    found = Some(i);
                }
                _ => return Some(i),
            }
        }
        found
    }

    /// `msgrcv` without waiting: `Ok(Some)` the message taken (its text cut to `max` with
    /// `noerror`; with `Search::Number` a copy), `Ok(None)` when none matches (wait, or
    /// ENOMSG), E2BIG when the one that matches is longer than `max`.
    pub fn receive(
        &mut self,
        search: Search,
        max: usize,
        noerror: bool,
        pid: i32,
        now: i64,
    ) -> Result<Option<Message>, Errno> {
        let Some(i) = self.find(search) else {
            return Ok(None);
        };
        if self.messages[i].text.len() > max && !noerror {
            return Err(Errno::E2BIG);
        }
        let mut msg = if let Search::Number(_) = search {
            self.messages[i].clone()
        } else {
            let msg = self.messages.remove(i).expect("found");
            self.bytes -= msg.text.len();
            self.rtime = now;
            self.lrpid = pid;
            msg
        };
        msg.text.truncate(max);
        Ok(Some(msg))
    }

    /// Queues a receiver that found nothing; `max` is its buffer (ignored with `noerror`).
    pub fn wait(
        &mut self,
        ticket: u64,
        search: Search,
        max: usize,
        noerror: bool,
        pid: i32,
        waiter: W,
    ) {
        let max = if noerror { usize::MAX } else { max };
        self.receivers.push_back(Receiver {
            ticket,
            search,
            max,
            pid,
            waiter,
        });
    }

    /// Takes a receiver off the queue; false when it was handed something already.
    pub fn cancel(&mut self, ticket: u64) -> bool {
        let before = self.receivers.len();
        self.receivers.retain(|r| r.ticket != ticket);
        before != self.receivers.len()
    }

    /// Every receiver gets `errno` (`expunge_all`): EIDRM at removal, EAGAIN (look again)
    /// after `IPC_SET`.
    pub fn expunge(&mut self, errno: Errno) -> Handed<W> {
        self.receivers
            .drain(..)
            .map(|r| (r.waiter, Err(errno)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(mtype: i64, len: usize) -> Message {
        Message {
            mtype,
            text: alloc::vec![mtype as u8; len],
        }
    }

    fn queue(types: &[i64]) -> MsgQueue<u32> {
        let mut q = MsgQueue::new(1);
        for &t in types {
            assert!(q.send(msg(t, 4), 1, 1).is_empty());
        }
        q
    }

    fn take(q: &mut MsgQueue<u32>, msgtyp: i64, flags: i32) -> Option<i64> {
        q.receive(Search::new(msgtyp, flags), 100, false, 2, 2)
            .unwrap()
            .map(|m| m.mtype)
    }

    #[test]
    fn type_rules() {
        let mut q = queue(&[3, 1, 2, 1, 5]);
        assert_eq!(take(&mut q, 2, 0), Some(2));
        assert_eq!(take(&mut q, 3, MSG_EXCEPT), Some(1));
        assert_eq!(take(&mut q, -4, 0), Some(1));
        assert_eq!(take(&mut q, -4, 0), Some(3));
        assert_eq!(take(&mut q, -4, 0), None);
        assert_eq!(take(&mut q, 0, 0), Some(5));
        assert_eq!(q.count(), 0);
        assert_eq!(q.bytes, 0);
        assert_eq!(Search::new(i64::MIN, 0), Search::LessEqual(i64::MAX));
    }

    #[test]
    fn copy_takes_a_position() {
        let mut q = queue(&[7, 8]);
        assert_eq!(take(&mut q, 1, MSG_COPY), Some(8));
        assert_eq!(take(&mut q, 2, MSG_COPY), None);
        assert_eq!(q.count(), 2);
    }

    #[test]
    fn too_long_is_e2big_unless_noerror() {
        let mut q: MsgQueue<u32> = MsgQueue::new(1);
        q.send(msg(1, 10), 1, 1);
        assert_eq!(q.receive(Search::Any, 4, false, 2, 2), Err(Errno::E2BIG));
        assert_eq!(q.count(), 1);
        let m = q.receive(Search::Any, 4, true, 2, 2).unwrap().unwrap();
        assert_eq!(m.text.len(), 4);
        assert_eq!((q.count(), q.bytes, q.lrpid), (0, 0, 2));
    }

    #[test]
    fn byte_limit() {
        let mut q: MsgQueue<u32> = MsgQueue::new(1);
        assert!(q.fits(MSGMNB));
        q.send(msg(1, MSGMAX), 1, 1);
        q.send(msg(1, MSGMAX), 1, 1);
        assert!(!q.fits(1));
        assert!(q.fits(0));
        let mut small: MsgQueue<u32> = MsgQueue::new(1);
        small.qbytes = 2;
        small.send(msg(1, 0), 1, 1);
        small.send(msg(1, 0), 1, 1);
        // Empty messages count against msg_qbytes too.
        assert!(!small.fits(0));
    }

    #[test]
    fn send_hands_over_to_waiting_receivers() {
        let mut q: MsgQueue<u32> = MsgQueue::new(1);
        q.wait(1, Search::Equal(2), 100, false, 10, 100);
        q.wait(2, Search::Any, 2, false, 11, 101);
        q.wait(3, Search::Any, 2, true, 12, 102);
        // Type 1 skips the first receiver; the second's buffer is too small (E2BIG), the
        // third takes it whole (MSG_NOERROR cuts when copying).
        let handed = q.send(msg(1, 8), 5, 3);
        assert_eq!(handed, vec![(101, Err(Errno::E2BIG)), (102, Ok(msg(1, 8)))]);
        assert_eq!((q.count(), q.lrpid, q.lspid), (0, 12, 5));
        assert!(q.cancel(1));
        assert!(!q.cancel(2));
        q.wait(4, Search::Any, 8, false, 10, 103);
        assert_eq!(q.expunge(Errno::EIDRM), vec![(103, Err(Errno::EIDRM))]);
    }
}
