//! The scheduler: the run queue (the config's policy, `variants::Sched` over crate
//! `tessera-sched`), wait queues and timed sleeps.
//!
//! The boot context becomes the idle loop: it runs when no task is runnable, halting until an
//! interrupt wakes someone. Switching saves and restores each task's FPU registers, FS base,
//! kernel stack (TSS.RSP0) and address space.

use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tessera_abi::poll::PollEvents;
use tessera_abi::{Errno, KResult};
use tessera_platform::usermode::{self, TaskContext};
use tessera_platform::{clock, vm};
use tessera_sched::SchedPolicy;
use tessera_sync::{IrqSave, SpinLock};
use x86_64::instructions::interrupts;

use super::task::{Task, TaskState};
use crate::variants::Sched;

struct Scheduler {
    /// Runnable tasks but the running one, and the running task's time slice.
    run_queue: Sched<Arc<Task>>,
    sleepers: Vec<Weak<Task>>,
}

static SCHED: SpinLock<Scheduler, IrqSave> = SpinLock::new(Scheduler {
    run_queue: <Sched<Arc<Task>> as SchedPolicy<Arc<Task>>>::EMPTY,
    sleepers: Vec::new(),
});
/// The running task's pid and signal hint, kept beside the slot so that getpid and the
/// return-to-user check need no reference to the task.
static CURRENT_PID: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(0);
static CURRENT_HINT: AtomicBool = AtomicBool::new(false);

/// The running task's process id (0 in the idle loop).
pub fn current_pid() -> u32 {
    CURRENT_PID.load(Ordering::Relaxed)
}

/// The running task's thread id (0 in the idle loop).
pub fn current_tid() -> u32 {
    CURRENT.with(|t| t.tid).unwrap_or(0)
}

/// Whether the running task may have a deliverable signal.
pub fn current_signal_hint() -> bool {
    CURRENT_HINT.load(Ordering::Acquire)
}

/// Sets a task's signal hint (and the CPU's copy when it is the running task).
pub fn set_signal_hint(task: &Arc<Task>, value: bool) {
    task.signal_hint.store(value, Ordering::Release);
    if CURRENT.holds(task) {
        CURRENT_HINT.store(value, Ordering::Release);
    }
}

fn set_current(task: Option<Arc<Task>>) -> Option<Arc<Task>> {
    CURRENT_PID.store(task.as_ref().map_or(0, |t| t.tgid()), Ordering::Relaxed);
    CURRENT_HINT.store(
        task.as_ref()
            .is_some_and(|t| t.signal_hint.load(Ordering::Acquire)),
        Ordering::Release,
    );
    CURRENT.replace(task)
}

/// Makes `task` the running one in place of the caller, which handed it its stack (exec
/// from a thread other than the leader).
pub fn set_current_task(task: Arc<Task>) {
    drop(set_current(Some(task)));
}

/// The running task (none in the idle loop).
static CURRENT: tessera_platform::current::CurrentSlot<Task> =
    tessera_platform::current::CurrentSlot::new();
static NEED_RESCHED: AtomicBool = AtomicBool::new(false);

/// Most tasks alive at once (live and zombie).
pub const MAX_TASKS: usize = 1024;

/// Saved kernel stack pointers, by task slot; the last one belongs to the idle loop. A static
/// table, so that a switch never holds a reference to a task: a task that exits switches
/// away for good and leaves nothing of its own behind on its stack.
static CONTEXTS: [TaskContext; MAX_TASKS + 1] = [const { TaskContext::new() }; MAX_TASKS + 1];
const IDLE_SLOT: usize = MAX_TASKS;
static SLOTS: SpinLock<[bool; MAX_TASKS], IrqSave> = SpinLock::new([false; MAX_TASKS]);

/// Takes a free context slot for a new task.
pub fn alloc_slot() -> KResult<usize> {
    let mut slots = SLOTS.lock();
    let slot = slots.iter().position(|used| !used).ok_or(Errno::EAGAIN)?;
    slots[slot] = true;
    Ok(slot)
}

/// Frees the slot of a reaped task.
pub fn free_slot(slot: usize) {
    SLOTS.lock()[slot] = false;
}

/// The saved context of a task slot.
pub fn context(slot: usize) -> &'static TaskContext {
    &CONTEXTS[slot]
}

/// The running task, if any (none in the idle loop).
pub fn current() -> Option<Arc<Task>> {
    CURRENT.get()
}

/// Runs `f` with `task` as the current task, from the boot context (to exec PID 1 before
/// it ever ran: exec works on the current task).
pub fn with_current<T>(task: &Arc<Task>, f: impl FnOnce() -> T) -> T {
    set_current(Some(task.clone()));
    let result = f();
    set_current(None);
    tessera_platform::vm::activate_kernel();
    result
}

/// Runs `f` with the running task without taking a reference to it (panics in the idle
/// loop). Sound because every task stays in the task table until it is reaped, and only
/// exited tasks, which never run again, are reaped.
pub fn on_current<R>(f: impl FnOnce(&Task) -> R) -> R {
    CURRENT.with(f).expect("no current task")
}

/// Makes a blocked task runnable (from any context, including interrupt handlers).
pub fn wake(task: &Arc<Task>) {
    let mut state = task.state.lock();
    if *state == TaskState::Blocked {
        *state = TaskState::Runnable;
        drop(state);
        SCHED.lock().run_queue.enqueue(task.clone());
        NEED_RESCHED.store(true, Ordering::Relaxed);
    }
}

/// Adds a new task to the run queue.
pub fn spawn(task: Arc<Task>) {
    SCHED.lock().run_queue.enqueue(task);
}

/// Gives up the CPU: the current task (if still runnable) goes back to the run queue and the
/// policy picks the next. Returns when the task is chosen again. From the idle loop, runs
/// the first runnable task.
pub fn schedule() {
    let saved = interrupts::are_enabled();
    interrupts::disable();
    NEED_RESCHED.store(false, Ordering::Relaxed);
    let (from, to) = {
        let mut sched = SCHED.lock();
        let prev = set_current(None);
        if let Some(prev) = &prev
            && prev.state() == TaskState::Runnable
        {
            sched.run_queue.requeue(prev.clone());
        }
        let mut next = None;
        while let Some(task) = sched.run_queue.pick_next() {
            if task.state() == TaskState::Runnable {
                next = Some(task);
                break;
            }
        }
        set_current(next.clone());
        let same = matches!((&prev, &next), (Some(p), Some(n)) if Arc::ptr_eq(p, n));
        if same {
            (IDLE_SLOT, IDLE_SLOT)
        } else {
            if let Some(prev) = &prev {
                prev.fpu.lock().save();
                if let Some(stack) = prev.kernel_stack.lock().as_ref() {
                    stack.check();
                }
            }
            if let Some(next) = &next {
                enter(next);
            }
            (
                prev.map_or(IDLE_SLOT, |t| t.slot()),
                next.map_or(IDLE_SLOT, |t| t.slot()),
            )
        }
    };
    if from != to {
        // No spin lock is held across a switch (lock tracking checks: its record of held
        // locks is per CPU, not per task).
        tessera_sync::assert_no_locks_held("a context switch");
        CONTEXT_SWITCHES.fetch_add(1, Ordering::Relaxed);
        usermode::switch(&CONTEXTS[from], &CONTEXTS[to]);
        // Threads that exited ran on their own stacks until the switch away from them:
        // released here, on another task's stack.
        if DEAD_PENDING.load(Ordering::Relaxed) {
            release_dead();
        }
    }
    if saved {
        interrupts::enable();
    }
}

/// Loads what the CPU needs to run `task` in user mode.
fn enter(task: &Task) {
    match task.vm().lock().as_ref() {
        Some(vm) => vm.activate(),
        None => vm::activate_kernel(),
    }
    if let Some(stack) = task.kernel_stack.lock().as_ref() {
        usermode::set_kernel_stack(stack.top());
    }
    usermode::set_fs_base(task.fs_base.load(Ordering::Relaxed));
    task.fpu.lock().restore();
}

/// The idle loop: runs tasks while any exist, halting in between; returns when no task is
/// left at all (every process has exited and been reaped).
pub fn idle_loop(alive: impl Fn() -> bool) {
    while alive() {
        schedule();
        interrupts::enable_and_hlt();
    }
}

/// Timer tick: charges the tick to the running task (user or system time) or to the idle
/// loop, wakes sleepers whose deadline passed, asks for a reschedule when the running task
/// used its slice, and every 5 s updates the load averages.
pub fn on_tick(ticks: u64, from_user: bool) {
    account_tick(from_user);
    let now = clock::now_ns();
    let sample_load = ticks.is_multiple_of(LOAD_FREQ_TICKS);
    let (due, queued, slice_over): (Vec<Arc<Task>>, usize, bool) = {
        let mut sched = SCHED.lock();
        let mut due = Vec::new();
        sched.sleepers.retain(|weak| match weak.upgrade() {
            Some(task) => {
                let at = task.wake_at.load(Ordering::Relaxed);
                if at != 0 && at <= now {
                    task.wake_at.store(0, Ordering::Relaxed);
                    due.push(task);
                    false
                } else {
                    at != 0
                }
            }
            None => false,
        });
        let queued = if sample_load {
            sched.run_queue.len()
        } else {
            0
        };
        (due, queued, sched.run_queue.tick())
    };
    for task in &due {
        wake(task);
    }
    if sample_load {
        let running = CURRENT.with(|_| 1).unwrap_or(0);
        update_load_averages(queued + running + due.len());
    }
    fire_real_timers(now);
    if slice_over {
        NEED_RESCHED.store(true, Ordering::Relaxed);
    }
}

/// CPU time since boot in timer ticks, as `/proc/stat`'s `cpu` line counts it.
static CPU_USER_TICKS: AtomicU64 = AtomicU64::new(0);
static CPU_SYSTEM_TICKS: AtomicU64 = AtomicU64::new(0);
static CPU_IDLE_TICKS: AtomicU64 = AtomicU64::new(0);
/// Switches from one task (or the idle loop) to another since boot.
static CONTEXT_SWITCHES: AtomicU64 = AtomicU64::new(0);

/// Tick-based accounting, as Linux's without `VIRT_CPU_ACCOUNTING`: the whole tick goes to
/// whatever it interrupted: the running task's user or system time (the kernel runs for the
/// task it entered for), or idle when no task was running.
fn account_tick(from_user: bool) {
    let charged = CURRENT.with(|task| {
        if from_user {
            task.utime_ticks.fetch_add(1, Ordering::Relaxed);
        } else {
            task.stime_ticks.fetch_add(1, Ordering::Relaxed);
        }
    });
    let counter = match (charged, from_user) {
        (None, _) => &CPU_IDLE_TICKS,
        (Some(()), true) => &CPU_USER_TICKS,
        (Some(()), false) => &CPU_SYSTEM_TICKS,
    };
    counter.fetch_add(1, Ordering::Relaxed);
}

/// CPU time since boot: (user, system, idle) in timer ticks.
#[allow(dead_code, reason = "for procfs, which a config may leave out")]
pub fn cpu_ticks() -> (u64, u64, u64) {
    (
        CPU_USER_TICKS.load(Ordering::Relaxed),
        CPU_SYSTEM_TICKS.load(Ordering::Relaxed),
        CPU_IDLE_TICKS.load(Ordering::Relaxed),
    )
}

/// Context switches since boot.
#[allow(dead_code, reason = "for procfs, which a config may leave out")]
pub fn context_switches() -> u64 {
    CONTEXT_SWITCHES.load(Ordering::Relaxed)
}

/// Timer ticks as `clock_t` (`USER_HZ`, 100 a second, what `/proc` and `times` count in).
#[allow(dead_code, reason = "for procfs, which a config may leave out")]
pub fn ticks_to_clock_t(ticks: u64) -> u64 {
    ticks * USER_HZ / u64::from(crate::config::TIMER_HZ)
}

/// `USER_HZ`: the unit of `clock_t` on x86_64 Linux.
#[allow(dead_code, reason = "for procfs, which a config may leave out")]
pub const USER_HZ: u64 = 100;

/// The load averages are sampled every 5 s and a tick (Linux's `LOAD_FREQ`).
const LOAD_FREQ_TICKS: u64 = 5 * crate::config::TIMER_HZ as u64 + 1;
/// Linux's fixed point for load averages: 11 fraction bits (`FSHIFT`).
pub const FSHIFT: u32 = 11;
const FIXED_1: u64 = 1 << FSHIFT;
/// 1/exp(5 s / 1 min), 1/exp(5 s / 5 min), 1/exp(5 s / 15 min) in that fixed point
/// (`EXP_1`, `EXP_5`, `EXP_15`).
const EXP: [u64; 3] = [1884, 2014, 2037];
static LOAD_AVERAGES: [AtomicU64; 3] = [const { AtomicU64::new(0) }; 3];

/// Folds one sample of the number of runnable tasks into the three averages, as Linux's
/// `calc_load` does (rounding up while the load grows).
fn update_load_averages(active_tasks: usize) {
    let active = active_tasks as u64 * FIXED_1;
    for (average, exp) in LOAD_AVERAGES.iter().zip(EXP) {
        let load = average.load(Ordering::Relaxed);
        let mut new = load * exp + active * (FIXED_1 - exp);
        if active >= load {
            new += FIXED_1 - 1;
        }
        average.store(new / FIXED_1, Ordering::Relaxed);
    }
}

/// The 1, 5 and 15 minute load averages, in fixed point with [`FSHIFT`] fraction bits.
pub fn load_averages() -> [u64; 3] {
    core::array::from_fn(|i| LOAD_AVERAGES[i].load(Ordering::Relaxed))
}

/// Whether the running task should give up the CPU on its way back to user mode.
pub fn need_resched() -> bool {
    NEED_RESCHED.load(Ordering::Relaxed)
}

/// A point in a kernel loop that runs as long as its caller asks (bytes from a device that
/// never runs dry into one that takes everything): lets the others run once the time slice
/// is over (the kernel is not preemptible; Linux's `cond_resched`), and says whether to go
/// on: not once the task is being killed (Linux's `fatal_signal_pending`). Without it such a
/// loop held the CPU for minutes and SIGKILL could not end it. No spin lock may be held.
pub fn keep_going() -> bool {
    if need_resched() {
        schedule();
    }
    !super::signal::fatal_pending(&super::current())
}

/// What a wait queue wakes besides tasks: an object told of every wake-up, which stays on
/// the queue until it goes away (the queue holds it weakly and forgets it then). Epoll's
/// registrations are watches (Linux's wait queue entries with a callback, `ep_poll_callback`),
/// and so is a task waiting in poll or select on several queues at once ([`TaskWaker`]).
///
/// `notify` runs with the queue's lock held and interrupts off, possibly in an interrupt
/// handler: it may take only `IrqSave` locks and wake other queues, never this one.
pub trait Watch: Send + Sync {
    /// A wake-up, with the readiness it announces (`key`, Linux's wake-up key: the poll bits
    /// that may have become true; all bits when the waker does not say).
    fn notify(self: Arc<Self>, key: PollEvents);
}

/// The key of a wake-up that does not say what changed: every watch takes it.
pub const ANY_EVENT: PollEvents = PollEvents::all();

/// Who waits on a queue: tasks blocked on it, removed when woken (or when they stop
/// waiting), and watches, kept until they go away.
struct Waiters {
    tasks: Vec<Weak<Task>>,
    watches: Vec<Weak<dyn Watch>>,
}

/// A list of blocked tasks waiting for something, and of the watches told of its wake-ups.
pub struct WaitQueue {
    waiters: SpinLock<Waiters, IrqSave>,
    /// How many tasks and watches are queued, readable without the lock (see
    /// [`WaitQueue::wake_waiters`]).
    count: core::sync::atomic::AtomicUsize,
}

impl WaitQueue {
    pub const fn new() -> Self {
        WaitQueue {
            waiters: SpinLock::new(Waiters {
                tasks: Vec::new(),
                watches: Vec::new(),
            }),
            count: core::sync::atomic::AtomicUsize::new(0),
        }
    }

    fn update_count(&self, waiters: &Waiters) {
        self.count.store(
            waiters.tasks.len() + waiters.watches.len(),
            Ordering::Relaxed,
        );
    }

    /// Queues `task` until the next wake-up (or [`WaitQueue::dequeue`]).
    pub fn enqueue(&self, task: &Arc<Task>) {
        let mut waiters = self.waiters.lock();
        waiters.tasks.push(Arc::downgrade(task));
        self.update_count(&waiters);
    }

    /// Takes `task` off the queue (it stopped waiting before a wake-up).
    pub fn dequeue(&self, task: &Arc<Task>) {
        let mut waiters = self.waiters.lock();
        waiters
            .tasks
            .retain(|w| !w.upgrade().is_some_and(|t| Arc::ptr_eq(&t, task)));
        self.update_count(&waiters);
    }

    /// Adds a watch, told of every wake-up until it is dropped (watches already dropped
    /// are forgotten here and at wake-ups).
    pub fn add_watch(&self, watch: Weak<dyn Watch>) {
        let mut waiters = self.waiters.lock();
        waiters.watches.retain(|w| w.strong_count() > 0);
        waiters.watches.push(watch);
        self.update_count(&waiters);
    }

    /// Wakes every waiting task and tells every watch (always takes the queue lock).
    pub fn wake_all(&self) {
        self.wake_poll(ANY_EVENT);
    }

    /// Wakes every waiting task and tells the watches that `key` may have become ready (a
    /// watch that wants none of it ignores the wake-up, as Linux's keyed wake-ups).
    pub fn wake_poll(&self, key: PollEvents) {
        let tasks = {
            let mut waiters = self.waiters.lock();
            if !waiters.watches.is_empty() {
                waiters.watches.retain(|w| match w.upgrade() {
                    Some(watch) => {
                        watch.notify(key);
                        true
                    }
                    None => false,
                });
            }
            let tasks = core::mem::take(&mut waiters.tasks);
            self.update_count(&waiters);
            tasks
        };
        for task in tasks.iter().filter_map(Weak::upgrade) {
            wake(&task);
        }
    }

    /// Wakes the waiting tasks only, not the watches: nothing became ready, but a timed
    /// wait's deadline passed (the sockets' timeouts).
    #[allow(dead_code, reason = "for the sockets, which a config may leave out")]
    pub fn wake_tasks(&self) {
        let tasks = {
            let mut waiters = self.waiters.lock();
            let tasks = core::mem::take(&mut waiters.tasks);
            self.update_count(&waiters);
            tasks
        };
        for task in tasks.iter().filter_map(Weak::upgrade) {
            wake(&task);
        }
    }

    /// Wakes every waiter, skipping the lock when the waiter count says nobody waits. Sound
    /// on one CPU: waiters enqueue with interrupts off, before they block, so a zero count
    /// seen here means nobody can be between checking the condition and sleeping.
    pub fn wake_waiters(&self) {
        if self.count.load(Ordering::Relaxed) != 0 {
            self.wake_all();
        }
    }

    /// [`WaitQueue::wake_waiters`] with a key (see [`WaitQueue::wake_poll`]).
    pub fn wake_waiters_poll(&self, key: PollEvents) {
        if self.count.load(Ordering::Relaxed) != 0 {
            self.wake_poll(key);
        }
    }

    /// Whether any task or watch is on the queue (without the lock).
    pub fn has_waiters(&self) -> bool {
        self.count.load(Ordering::Relaxed) != 0
    }

    /// Like [`WaitQueue::wait_until`], but enqueues before every check and dequeues after:
    /// the lock traffic a "sleep until" loop pays when it never tries the operation first
    /// (the `pipe = "simple"` variant).
    pub fn wait_until_enqueued<T>(
        &self,
        interruptible: bool,
        mut ready: impl FnMut() -> Option<T>,
    ) -> KResult<T> {
        let task = super::current();
        loop {
            let saved = interrupts::are_enabled();
            interrupts::disable();
            self.enqueue(&task);
            let outcome = if interruptible && super::signal::has_deliverable(&task) {
                Some(Err(Errno::EINTR))
            } else {
                ready().map(Ok)
            };
            if let Some(outcome) = outcome {
                self.dequeue(&task);
                if saved {
                    interrupts::enable();
                }
                return outcome;
            }
            *task.state.lock() = TaskState::Blocked;
            schedule();
            if saved {
                interrupts::enable();
            }
        }
    }

    /// Blocks the current task until `ready()` returns Some, re-checking after every wake-up.
    /// A pending unblocked signal interrupts the wait with EINTR (when `interruptible`).
    pub fn wait_until<T>(
        &self,
        interruptible: bool,
        mut ready: impl FnMut() -> Option<T>,
    ) -> KResult<T> {
        let task = super::current();
        loop {
            // Interrupts off between the check and blocking: a wake-up from an interrupt
            // handler cannot slip in between and be lost.
            let saved = interrupts::are_enabled();
            interrupts::disable();
            if let Some(value) = ready() {
                if saved {
                    interrupts::enable();
                }
                return Ok(value);
            }
            if interruptible && super::signal::has_deliverable(&task) {
                // Woken by the signal, not by the queue: still on it.
                self.dequeue(&task);
                if saved {
                    interrupts::enable();
                }
                return Err(Errno::EINTR);
            }
            self.enqueue(&task);
            *task.state.lock() = TaskState::Blocked;
            schedule();
            if saved {
                interrupts::enable();
            }
        }
    }

    /// [`WaitQueue::wait_until`] with a deadline (clock ns): `Ok(None)` once the clock
    /// reaches it with `ready()` still None.
    #[allow(dead_code, reason = "for sigtimedwait, which a config may leave out")]
    pub fn wait_until_deadline<T>(
        &self,
        interruptible: bool,
        deadline: Option<u64>,
        mut ready: impl FnMut() -> Option<T>,
    ) -> KResult<Option<T>> {
        let task = super::current();
        loop {
            // Interrupts off between the check and blocking: a wake-up from an interrupt
            // handler cannot slip in between and be lost.
            let saved = interrupts::are_enabled();
            interrupts::disable();
            let outcome = if let Some(value) = ready() {
                Some(Ok(Some(value)))
            } else if interruptible && super::signal::has_deliverable(&task) {
                // Woken by the signal, not by the queue: still on it.
                self.dequeue(&task);
                Some(Err(Errno::EINTR))
            } else if deadline.is_some_and(|d| clock::now_ns() >= d) {
                Some(Ok(None))
            } else {
                None
            };
            if let Some(outcome) = outcome {
                if saved {
                    interrupts::enable();
                }
                return outcome;
            }
            self.enqueue(&task);
            block_current(&task, deadline);
            if deadline.is_some() {
                // Woken by the deadline rather than the queue: still on it.
                self.dequeue(&task);
            }
            if saved {
                interrupts::enable();
            }
        }
    }
}

/// A watch that wakes one task: what a task waiting on several queues at once (poll,
/// select, epoll on another epoll's readiness) puts on each of them (Linux's `pollwake`).
/// Dropped when the wait ends, which takes it off every queue.
pub struct TaskWaker(Weak<Task>);

impl TaskWaker {
    /// A waker for the current task.
    pub fn for_current() -> Arc<TaskWaker> {
        Arc::new(TaskWaker(Arc::downgrade(&super::current())))
    }
}

impl Watch for TaskWaker {
    fn notify(self: Arc<Self>, _key: PollEvents) {
        if let Some(task) = self.0.upgrade() {
            wake(&task);
        }
    }
}

/// Blocks the current task until a wake-up, or until the clock reaches `deadline`. Called
/// with interrupts off, once the task is where its wake-up will come from (a wait queue, a
/// watch) and has found that it must wait; returns with interrupts still off.
pub fn block_current(task: &Arc<Task>, deadline: Option<u64>) {
    if let Some(deadline) = deadline {
        task.wake_at.store(deadline, Ordering::Relaxed);
        SCHED.lock().sleepers.push(Arc::downgrade(task));
    }
    *task.state.lock() = TaskState::Blocked;
    schedule();
    if deadline.is_some() {
        task.wake_at.store(0, Ordering::Relaxed);
    }
}

impl Default for WaitQueue {
    fn default() -> Self {
        Self::new()
    }
}

/// Sleeps until the clock reaches `deadline_ns` or a signal arrives (EINTR).
pub fn sleep_until(deadline_ns: u64) -> KResult<()> {
    let task = super::current();
    loop {
        interrupts::disable();
        if clock::now_ns() >= deadline_ns {
            interrupts::enable();
            return Ok(());
        }
        if super::signal::has_deliverable(&task) {
            interrupts::enable();
            return Err(Errno::EINTR);
        }
        task.wake_at.store(deadline_ns, Ordering::Relaxed);
        SCHED.lock().sleepers.push(Arc::downgrade(&task));
        *task.state.lock() = TaskState::Blocked;
        schedule();
        task.wake_at.store(0, Ordering::Relaxed);
        interrupts::enable();
    }
}

/// Why [`block_until`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wakeup {
    /// `done()` held.
    Done,
    /// The deadline passed first.
    TimedOut,
    /// A signal became deliverable first.
    Interrupted,
}

/// Blocks the current task until `done()` holds, the clock reaches `deadline_ns` (0: no
/// deadline) or a signal is deliverable, checked in that order on every wake-up (so a
/// wake-up that came with the deadline still counts as done). Whoever makes `done()` true
/// calls [`wake`]; the timer tick wakes the task at the deadline (as [`sleep_until`]). For
/// waits whose queue is not a [`WaitQueue`] (the futex table keeps its own).
pub fn block_until(deadline_ns: u64, mut done: impl FnMut() -> bool) -> Wakeup {
    let task = super::current();
    let saved = interrupts::are_enabled();
    loop {
        // Interrupts off between the checks and blocking: the tick cannot slip in between.
        interrupts::disable();
        let outcome = if done() {
            Some(Wakeup::Done)
        } else if deadline_ns != 0 && clock::now_ns() >= deadline_ns {
            Some(Wakeup::TimedOut)
        } else if super::signal::has_deliverable(&task) {
            Some(Wakeup::Interrupted)
        } else {
            None
        };
        if let Some(outcome) = outcome {
            if saved {
                interrupts::enable();
            }
            return outcome;
        }
        if deadline_ns != 0 {
            task.wake_at.store(deadline_ns, Ordering::Relaxed);
            SCHED.lock().sleepers.push(Arc::downgrade(&task));
        }
        *task.state.lock() = TaskState::Blocked;
        schedule();
        task.wake_at.store(0, Ordering::Relaxed);
        if saved {
            interrupts::enable();
        }
    }
}

/// Marks the current task a zombie and switches away for good. With `release` (a thread
/// other than a leader: nobody waits for it), the task is forgotten once another one runs.
pub fn exit_current(release: bool) -> ! {
    let task = super::current();
    *task.state.lock() = TaskState::Zombie;
    if release {
        DEAD.lock().push(task);
        DEAD_PENDING.store(true, Ordering::Relaxed);
    } else {
        drop(task);
    }
    schedule();
    unreachable!("a zombie was scheduled");
}

/// Exited threads whose stacks and slots are released at the next switch.
static DEAD: SpinLock<Vec<Arc<Task>>, IrqSave> = SpinLock::new(Vec::new());
static DEAD_PENDING: AtomicBool = AtomicBool::new(false);

fn release_dead() {
    let dead = {
        let mut dead = DEAD.lock();
        DEAD_PENDING.store(false, Ordering::Relaxed);
        core::mem::take(&mut *dead)
    };
    for task in dead {
        task.unregister();
    }
}

/// Releases `task` (the current task, which just handed its stack to its leader in an
/// exec) once another one runs.
pub fn release_later(task: Arc<Task>) {
    DEAD.lock().push(task);
    DEAD_PENDING.store(true, Ordering::Relaxed);
}

/// Processes with an armed ITIMER_REAL (alarm, setitimer).
static TIMERS: SpinLock<Vec<Weak<super::task::Process>>, IrqSave> = SpinLock::new(Vec::new());

/// Arms (or with `deadline` 0, disarms) the real-time timer of `task`'s process; returns the
/// previous (remaining ns, interval ns).
pub fn set_real_timer(task: &Arc<Task>, deadline: u64, interval: u64) -> (u64, u64) {
    let now = clock::now_ns();
    let process = &task.process;
    let old = core::mem::replace(&mut *process.real_timer.lock(), (deadline, interval));
    if deadline != 0 {
        let mut timers = TIMERS.lock();
        if !timers
            .iter()
            .any(|t| t.upgrade().is_some_and(|t| Arc::ptr_eq(&t, process)))
        {
            timers.push(Arc::downgrade(process));
        }
    }
    (
        if old.0 == 0 {
            0
        } else {
            old.0.saturating_sub(now).max(1)
        },
        old.1,
    )
}

fn fire_real_timers(now: u64) {
    let mut fired = Vec::new();
    TIMERS.lock().retain(|weak| {
        let Some(process) = weak.upgrade() else {
            return false;
        };
        let mut timer = process.real_timer.lock();
        if timer.0 == 0 {
            return false;
        }
        if timer.0 <= now {
            timer.0 = if timer.1 == 0 {
                0
            } else {
                now.saturating_add(timer.1)
            };
            drop(timer);
            fired.push(process);
        }
        true
    });
    for process in fired {
        if let Some(leader) = process.leader() {
            super::signal::send(&leader, super::signal::SIGALRM);
        }
    }
}
