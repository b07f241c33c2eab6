//! epoll: an interest list of (open file, fd) registrations and a ready list of those a
//! wake-up has touched, after Linux's `fs/eventpoll.c`.
//!
//! Each registration ([`EpItem`]) is a [`Watch`] on the wait queues of the file it watches
//! (what the file's [`FileOps::wait_queues`] names): a wake-up of one of those queues puts it
//! on the ready list and wakes the epoll's own queue (`epoll_wait`'s waiters, and whoever
//! polls the epoll file: poll, select, an epoll watching this one). `epoll_wait` then polls
//! each ready registration's file and reports what it wants of the answer; a level-triggered
//! registration goes back on the ready list (the next wait polls it again), an edge-triggered
//! one waits for the next wake-up, a one-shot one is disabled until `EPOLL_CTL_MOD`.
//!
//! Registrations go when the file's last reference does ([`file_closed`], from the open
//! file's drop through `FileOps::closed`; Linux's `eventpoll_release`): closing one of
//! several fds of a file keeps them. The epoll's queue and lists are the only shared state; wake-ups may come from
//! interrupt handlers (a timer, the network card), so the ready list is an `IrqSave` lock
//! and nothing waits with it held.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use tessera_abi::events::{
    EPOLL_MAX_NESTS, EPOLL_PRIVATE_BITS, EPOLLET, EPOLLEXCLUSIVE, EPOLLONESHOT,
};
use tessera_abi::poll::PollEvents;
use tessera_abi::{Errno, KResult};
use tessera_sync::{IrqSave, SpinLock, SubsystemLock};
use x86_64::instructions::interrupts;

use super::file::{FileOps, O_RDWR, OpenFile};
use super::stat::Stat;
use crate::process::sched::{self, ANY_EVENT, WaitQueue, Watch};

/// Where a registration is kept: the open file (by address) and the fd it was added by.
type Key = (usize, i32);

fn file_key(file: &OpenFile) -> usize {
    file as *const OpenFile as usize
}

/// An epoll instance (what an epoll fd's open file operates on).
pub struct Epoll {
    /// The registrations (Linux's red-black tree under `ep->mtx`).
    interest: SubsystemLock<BTreeMap<Key, Arc<EpItem>>>,
    /// Registrations a wake-up has touched since `epoll_wait` last looked at them (Linux's
    /// `rdllist`, under `ep->lock`), in the order they were touched.
    ready: SpinLock<VecDeque<Arc<EpItem>>, IrqSave>,
    /// `epoll_wait`'s waiters and the watches of whoever polls this file.
    wait: WaitQueue,
    me: Weak<Epoll>,
}

/// One registration: a file, the fd it was added by, what it wants and the data it reports.
pub struct EpItem {
    file: Weak<OpenFile>,
    key: Key,
    ep: Weak<Epoll>,
    /// The `events` word: readiness bits (with EPOLLERR and EPOLLHUP always) and flags.
    events: AtomicU32,
    data: AtomicU64,
    /// On the ready list, or on the list `epoll_wait` took from it (changed with the ready
    /// list's lock held, or with interrupts off).
    linked: AtomicBool,
    /// Removed from the interest list: wake-ups and `epoll_wait` leave it alone.
    removed: AtomicBool,
}

/// Registrations by the open file they watch (Linux's `file->f_ep`), so that a file's last
/// close finds them; kept aside from the open file, whose creation then costs nothing more,
/// and whose drop only looks at [`WATCHED_COUNT`], and only for a file that can poll.
static WATCHED: SubsystemLock<BTreeMap<usize, Vec<Weak<EpItem>>>> =
    SubsystemLock::new(BTreeMap::new());
/// How many registrations exist (the drop of an open file looks for its own only then).
static WATCHED_COUNT: AtomicUsize = AtomicUsize::new(0);

/// A file's last reference is going: its registrations in every epoll go with it.
#[inline]
pub fn file_closed(file: &OpenFile) {
    if WATCHED_COUNT.load(Ordering::Relaxed) != 0 {
        forget_file(file_key(file));
    }
}

#[cold]
fn forget_file(key: usize) {
    let Some(items) = WATCHED.lock().remove(&key) else {
        return;
    };
    WATCHED_COUNT.fetch_sub(items.len(), Ordering::Relaxed);
    for item in items.iter().filter_map(Weak::upgrade) {
        if let Some(ep) = item.ep.upgrade() {
            ep.interest.lock().remove(&item.key);
            ep.unready(&item);
        }
        item.removed.store(true, Ordering::Relaxed);
    }
}

fn watch(item: &Arc<EpItem>) {
    WATCHED
        .lock()
        .entry(item.key.0)
        .or_default()
        .push(Arc::downgrade(item));
    WATCHED_COUNT.fetch_add(1, Ordering::Relaxed);
}

fn unwatch(item: &Arc<EpItem>) {
    let mut watched = WATCHED.lock();
    if let Some(items) = watched.get_mut(&item.key.0) {
        let before = items.len();
        items.retain(|w| !core::ptr::eq(w.as_ptr(), Arc::as_ptr(item)));
        WATCHED_COUNT.fetch_sub(before - items.len(), Ordering::Relaxed);
        if items.is_empty() {
            watched.remove(&item.key.0);
        }
    }
}

impl EpItem {
    /// What the file reports of what the registration wants (Linux's `ep_item_poll`); none
    /// for a file on its way out.
    fn poll(&self) -> PollEvents {
        let Some(file) = self.file.upgrade() else {
            return PollEvents::empty();
        };
        let events = self.events.load(Ordering::Relaxed);
        file.ops.poll() & PollEvents::from_bits_truncate(events as u16)
    }
}

impl Watch for EpItem {
    /// Linux's `ep_poll_callback`: onto the ready list (once), and wake the epoll's waiters.
    fn notify(self: Arc<Self>, key: PollEvents) {
        let events = self.events.load(Ordering::Relaxed);
        // Disabled (a one-shot that fired), or a wake-up for readiness it does not want.
        if self.removed.load(Ordering::Relaxed)
            || events & !EPOLL_PRIVATE_BITS == 0
            || u32::from(key.bits()) & events == 0
        {
            return;
        }
        let Some(ep) = self.ep.upgrade() else {
            return;
        };
        ep.make_ready(self);
        ep.wait.wake_poll(PollEvents::IN);
    }
}

/// An epoll_wait timeout: how long it may block.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Timeout {
    /// Until an event or a signal.
    Never,
    /// Not at all: report what is ready now.
    Now,
    /// Until this clock time (ns).
    At(u64),
}

impl Epoll {
    /// A new epoll instance.
    pub fn new() -> Arc<Epoll> {
        Arc::new_cyclic(|me| Epoll {
            interest: SubsystemLock::new(BTreeMap::new()),
            ready: SpinLock::new(VecDeque::new()),
            wait: WaitQueue::new(),
            me: me.clone(),
        })
    }

    /// The epoll instance an open file is, if it is one.
    pub fn of(file: &OpenFile) -> Option<&Epoll> {
        file.ops.as_any()?.downcast_ref::<Epoll>()
    }

    /// Puts `item` on the ready list unless it is there.
    fn make_ready(&self, item: Arc<EpItem>) {
        let mut ready = self.ready.lock();
        if !item.linked.swap(true, Ordering::Relaxed) {
            ready.push_back(item);
        }
    }

    /// Takes `item` off the ready list.
    fn unready(&self, item: &Arc<EpItem>) {
        let mut ready = self.ready.lock();
        if item.linked.swap(false, Ordering::Relaxed) {
            ready.retain(|i| !Arc::ptr_eq(i, item));
        }
    }

    /// Puts back, in front and in order, what a scan of the ready list did not get to and
    /// the level-triggered items it reported (behind those).
    fn requeue_front(&self, mut rest: VecDeque<Arc<EpItem>>) {
        if rest.is_empty() {
            return;
        }
        let mut ready = self.ready.lock();
        if ready.is_empty() {
            // The common case: nothing woke meanwhile; the list (and its buffer) goes back.
            core::mem::swap(&mut *ready, &mut rest);
            return;
        }
        for item in rest.into_iter().rev() {
            ready.push_front(item);
        }
    }

    fn has_ready(&self) -> bool {
        !self.ready.lock().is_empty()
    }

    /// Whether adding the epoll `target` here would make a loop, or a chain deeper than
    /// Linux allows: some epoll that `target` watches (directly or through others) is this
    /// one, or sits more than [`EPOLL_MAX_NESTS`] levels down (Linux's `ep_loop_check`).
    fn reaches(&self, target: &Epoll, depth: usize) -> bool {
        let files: Vec<Arc<OpenFile>> = target
            .interest
            .lock()
            .values()
            .filter_map(|item| item.file.upgrade())
            .collect();
        files
            .iter()
            .filter_map(|file| Epoll::of(file))
            .any(|inner| {
                core::ptr::eq(inner, self)
                    || depth > EPOLL_MAX_NESTS
                    || self.reaches(inner, depth + 1)
            })
    }

    /// EPOLL_CTL_ADD of `file` (open as `fd`), with `events` (EPOLLERR and EPOLLHUP added)
    /// and `data`. The caller has checked the file kinds and the flags.
    pub fn add(&self, fd: i32, file: &Arc<OpenFile>, events: u32, data: u64) -> KResult<()> {
        if let Some(inner) = Epoll::of(file)
            && self.reaches(inner, 0)
        {
            return Err(Errno::ELOOP);
        }
        let key = (file_key(file), fd);
        let item = {
            let mut interest = self.interest.lock();
            if interest.contains_key(&key) {
                return Err(Errno::EEXIST);
            }
            let item = Arc::new(EpItem {
                file: Arc::downgrade(file),
                key,
                ep: self.me.clone(),
                events: AtomicU32::new(
                    events | u32::from((PollEvents::ERR | PollEvents::HUP).bits()),
                ),
                data: AtomicU64::new(data),
                linked: AtomicBool::new(false),
                removed: AtomicBool::new(false),
            });
            interest.insert(key, item.clone());
            item
        };
        watch(&item);
        let as_watch: Arc<dyn Watch> = item.clone();
        let weak = Arc::downgrade(&as_watch);
        file.ops
            .wait_queues(&mut |queue| queue.add_watch(weak.clone()));
        self.check_now(item);
        Ok(())
    }

    /// After an add or a change: if the file is ready now, onto the ready list, and wake.
    fn check_now(&self, item: Arc<EpItem>) {
        if !item.poll().is_empty() {
            self.make_ready(item);
            self.wait.wake_poll(PollEvents::IN);
        }
    }

    /// EPOLL_CTL_MOD: new events (EPOLLERR and EPOLLHUP added) and data; ENOENT if `file`
    /// is not registered by `fd`, EINVAL for a registration made with EPOLLEXCLUSIVE.
    pub fn modify(&self, fd: i32, file: &OpenFile, events: u32, data: u64) -> KResult<()> {
        let item = self
            .interest
            .lock()
            .get(&(file_key(file), fd))
            .cloned()
            .ok_or(Errno::ENOENT)?;
        if item.events.load(Ordering::Relaxed) & EPOLLEXCLUSIVE != 0 {
            return Err(Errno::EINVAL);
        }
        item.data.store(data, Ordering::Relaxed);
        item.events.store(
            events | u32::from((PollEvents::ERR | PollEvents::HUP).bits()),
            Ordering::Relaxed,
        );
        self.check_now(item);
        Ok(())
    }

    /// EPOLL_CTL_DEL; ENOENT if `file` is not registered by `fd`.
    pub fn delete(&self, fd: i32, file: &OpenFile) -> KResult<()> {
        let item = self
            .interest
            .lock()
            .remove(&(file_key(file), fd))
            .ok_or(Errno::ENOENT)?;
        item.removed.store(true, Ordering::Relaxed);
        unwatch(&item);
        self.unready(&item);
        Ok(())
    }

    /// Reports up to `max` ready registrations through `put` (events, data) and returns how
    /// many (Linux's `ep_send_events`). A `put` that fails (EFAULT) leaves its registration
    /// ready, and fails the call if it was the first.
    fn send_events(
        &self,
        max: usize,
        put: &mut dyn FnMut(usize, u32, u64) -> KResult<()>,
    ) -> KResult<usize> {
        let mut list = core::mem::take(&mut *self.ready.lock());
        let mut sent = 0;
        let mut failed = None;
        // Each item is looked at once; a level-triggered one that reported goes to the back
        // of the same list (its buffer reused: no allocation), which goes back to the ready
        // list at the end (Linux's `ep_send_events` and `ep_done_scan`).
        let mut unseen = list.len();
        while sent < max && unseen > 0 {
            let Some(item) = list.pop_front() else {
                break;
            };
            unseen -= 1;
            // Off the list before looking: a wake-up from now on puts it back.
            item.linked.store(false, Ordering::Relaxed);
            if item.removed.load(Ordering::Relaxed) {
                continue;
            }
            let revents = item.poll();
            if revents.is_empty() {
                continue;
            }
            let events = item.events.load(Ordering::Relaxed);
            if let Err(e) = put(
                sent,
                u32::from(revents.bits()),
                item.data.load(Ordering::Relaxed),
            ) {
                if !item.linked.swap(true, Ordering::Relaxed) {
                    list.push_front(item);
                }
                failed = Some(e);
                break;
            }
            sent += 1;
            if events & EPOLLONESHOT != 0 {
                item.events
                    .store(events & EPOLL_PRIVATE_BITS, Ordering::Relaxed);
            } else if events & EPOLLET == 0 && !item.linked.swap(true, Ordering::Relaxed) {
                // Level-triggered: the next wait looks at it again (unless a wake-up
                // meanwhile put it on the ready list already).
                list.push_back(item);
            }
        }
        self.requeue_front(list);
        match failed {
            Some(e) if sent == 0 => Err(e),
            _ => Ok(sent),
        }
    }

    /// epoll_wait: waits for ready registrations as `timeout` allows, reports up to `max`
    /// of them through `put` and returns how many (0 at the timeout); EINTR for a signal
    /// that arrives first (Linux's `ep_poll`).
    pub fn wait(
        &self,
        max: usize,
        timeout: Timeout,
        put: &mut dyn FnMut(usize, u32, u64) -> KResult<()>,
    ) -> KResult<usize> {
        let task = crate::process::current();
        let deadline = match timeout {
            Timeout::At(at) => Some(at),
            _ => None,
        };
        let mut timed_out = timeout == Timeout::Now;
        let mut available = self.has_ready();
        loop {
            if available {
                let sent = self.send_events(max, put)?;
                if sent > 0 {
                    return Ok(sent);
                }
            }
            if timed_out {
                return Ok(0);
            }
            let saved = interrupts::are_enabled();
            interrupts::disable();
            available = self.has_ready();
            let outcome = if available {
                None
            } else if crate::process::signal::has_deliverable(&task) {
                Some(Err(Errno::EINTR))
            } else if deadline.is_some_and(|d| tessera_platform::clock::now_ns() >= d) {
                timed_out = true;
                available = true;
                None
            } else {
                self.wait.enqueue(&task);
                sched::block_current(&task, deadline);
                self.wait.dequeue(&task);
                available = true;
                timed_out = deadline.is_some_and(|d| tessera_platform::clock::now_ns() >= d);
                None
            };
            if saved {
                interrupts::enable();
            }
            if let Some(outcome) = outcome {
                return outcome;
            }
        }
    }

    /// Forgets every registration (the epoll file's last close).
    fn clear(&self) {
        let items = core::mem::take(&mut *self.interest.lock());
        for item in items.values() {
            item.removed.store(true, Ordering::Relaxed);
            unwatch(item);
        }
        for item in core::mem::take(&mut *self.ready.lock()) {
            item.linked.store(false, Ordering::Relaxed);
        }
    }
}

/// epoll_create1: a new epoll file (O_RDWR, as Linux's).
pub fn new_epoll_file() -> Arc<OpenFile> {
    OpenFile::new(Epoll::new(), O_RDWR)
}

impl FileOps for Epoll {
    fn read(&self, _offset: u64, _buf: &mut [u8], _nonblock: bool) -> KResult<usize> {
        Err(Errno::EINVAL)
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

    /// Readable when a registration on the ready list is really ready; the others leave
    /// the list (Linux's `__ep_eventpoll_poll`).
    fn poll(&self) -> PollEvents {
        let mut list = core::mem::take(&mut *self.ready.lock());
        let mut result = PollEvents::empty();
        while let Some(item) = list.pop_front() {
            item.linked.store(false, Ordering::Relaxed);
            if !item.removed.load(Ordering::Relaxed) && !item.poll().is_empty() {
                if !item.linked.swap(true, Ordering::Relaxed) {
                    list.push_front(item);
                }
                result = PollEvents::IN | PollEvents::RDNORM;
                break;
            }
        }
        self.requeue_front(list);
        result
    }

    fn as_any(&self) -> Option<&dyn core::any::Any> {
        Some(self)
    }

    fn link_name(&self) -> Vec<u8> {
        b"anon_inode:[eventpoll]".to_vec()
    }

    fn release(&self) {
        self.clear();
        // Pollers of this file look again (Linux's `ep_clear_and_put`).
        self.wait.wake_poll(ANY_EVENT);
    }
}
