//! Tasks and processes: a task is one thread; a process (Linux's thread group) is the set
//! of tasks that share a [`Process`].
//!
//! What threads of one process share is a shared object with its own lifetime, referenced
//! from each task, as on Linux: the address space (`vm`, shared with CLONE_VM), the file
//! descriptor table (`files`, CLONE_FILES), the file system context (`fs`: cwd, root,
//! umask; CLONE_FS), the signal handlers (`sighand`, CLONE_SIGHAND) and the process itself
//! (`process`, CLONE_THREAD: its id, parent, children, process group, session, signals sent
//! to the whole process, resource limits, timers). What each thread has of its own is the
//! rest: its id, state, kernel stack, registers (FPU, FS base), signal mask, pending
//! thread-directed signals, alternate signal stack and name.
//!
//! The process's id (tgid) is its first thread's id; that thread is the leader. The leader
//! task stays until the process is reaped (a zombie when it exits before the others), so
//! that the parent's `children` list always holds leaders. Other threads are released
//! when they exit.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use tessera_abi::process::{
    RLIM_INFINITY, RLIM_NLIMITS, RLIMIT_CORE, RLIMIT_MEMLOCK, RLIMIT_MSGQUEUE, RLIMIT_NICE,
    RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_RTPRIO, RLIMIT_SIGPENDING, RLIMIT_STACK,
};
use tessera_abi::{Errno, KResult};
use tessera_platform::current::SwapSlot;
use tessera_platform::fpu::FpuState;
use tessera_platform::usermode::KernelStack;
use tessera_sync::{IrqSave, SpinLock, SubsystemLock};

use super::pid::PidCursor;
use super::sched::WaitQueue;
use super::signal::{Pending, SigHand, SignalState};
use crate::fs::{FdTable, FsContext};
use crate::mm::vm::{Vm, VmCell};

/// A task (thread) id; a process id is its leader's task id.
pub type Pid = u32;

/// Where a task is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskState {
    /// On the run queue or running.
    Runnable,
    /// Waiting on a wait queue or a timer.
    Blocked,
    /// Exited: a leader waits for its parent to reap the process; another thread for the
    /// scheduler to release it.
    Zombie,
    /// Stopped by SIGSTOP/SIGTSTP/SIGTTIN/SIGTTOU until SIGCONT.
    Stopped,
}

/// A file descriptor table and how many tasks use it (CLONE_FILES shares it). The last
/// task to exit closes the files; the memory goes with the last reference.
pub struct Files {
    table: SubsystemLock<FdTable>,
    users: AtomicUsize,
}

impl Files {
    pub fn new(table: FdTable) -> Arc<Files> {
        Arc::new(Files {
            table: SubsystemLock::new(table),
            users: AtomicUsize::new(1),
        })
    }

    pub fn lock(&self) -> tessera_sync::SpinLockGuard<'_, FdTable, tessera_sync::SubsystemPolicy> {
        self.table.lock()
    }

    /// One more task uses the table.
    /// Whether another task uses this table too (CLONE_FILES).
    pub fn is_shared(&self) -> bool {
        self.users.load(Ordering::Relaxed) > 1
    }

    pub fn share(self: &Arc<Self>) -> Arc<Files> {
        self.users.fetch_add(1, Ordering::Relaxed);
        self.clone()
    }

    /// A task using the table exits: the last one closes every file.
    pub fn release(&self) {
        if self.users.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.table.lock().close_all();
        }
    }
}

/// What all threads of a process share (Linux's `signal_struct` and the process-wide parts
/// of `task_struct`).
pub struct Process {
    /// The process id: the leader's task id.
    pub tgid: Pid,
    /// The leader (weak: the task table and the parent hold it). IrqSave, as `threads`.
    pub leader: SpinLock<Weak<Task>, IrqSave>,
    /// Every thread that has not exited yet, the leader included while it runs. IrqSave:
    /// interrupt handlers send signals to processes (the tick's SIGALRM, the console's
    /// SIGINT), which picks a thread from this list.
    pub threads: SpinLock<Vec<Arc<Task>>, IrqSave>,
    /// Woken whenever a thread exits (execve waits for the others to go).
    pub thread_exited: WaitQueue,
    /// The parent process's leader.
    pub parent: SubsystemLock<Weak<Task>>,
    /// Leaders of the child processes.
    pub children: SubsystemLock<Vec<Arc<Task>>>,
    pub pgid: AtomicU32,
    pub sid: AtomicU32,
    /// Signals sent to the process as a whole (kill), taken by whichever thread does not
    /// block them.
    pub shared_pending: SpinLock<Pending, IrqSave>,
    /// Set when the whole process is exiting (exit_group, a fatal signal): every thread
    /// ends with `exit_status`.
    pub group_exit: AtomicBool,
    /// The thread whose execve is ending the others (0: none).
    pub exec_owner: AtomicU32,
    /// Set while a stop signal holds the process stopped: every thread stops on its way
    /// back to user mode.
    pub group_stop: AtomicBool,
    /// The signal the parent gets when the process ends (clone's exit signal; 0: none).
    pub exit_signal: AtomicU32,
    /// Wait status as wait4 reports it, set when the process exits.
    pub exit_status: AtomicI32,
    /// Woken when a child changes state (exits, stops, continues).
    pub child_exited: WaitQueue,
    /// Woken whenever a signal is posted to the process or one of its threads: signalfd
    /// and sigtimedwait wait here (Linux's `sighand->signalfd_wqh`).
    #[allow(
        dead_code,
        reason = "for signalfd and sigtimedwait, which a config may leave out"
    )]
    pub signalfd_wait: WaitQueue,
    /// Whether the process has run execve since its fork (Linux: `PF_FORKNOEXEC` clear):
    /// its parent may no longer change its process group then (setpgid's EACCES).
    pub did_exec: AtomicBool,
    /// The program file the process runs (what `/proc/PID/exe` names); none before the
    /// first execve.
    pub exe: SubsystemLock<Option<crate::fs::DentryRef>>,
    /// The holds on `exe` and its ELF interpreter that keep them from being written while
    /// the process runs them.
    pub exe_deny: SubsystemLock<Vec<crate::fs::write_access::DenyWrite>>,
    /// ITIMER_REAL: (deadline in clock ns, 0 if off; interval in ns).
    pub real_timer: SpinLock<(u64, u64), IrqSave>,
    /// A stop or continue the parent has not collected with wait4 yet (its wait status).
    pub job_report: SpinLock<Option<i32>, IrqSave>,
    /// Resource limits (soft, hard) by RLIMIT_* number.
    pub rlimits: SubsystemLock<[(u64, u64); RLIM_NLIMITS]>,
    /// Timer ticks of the reaped children and their reaped children (user, system).
    pub children_ticks: SpinLock<(u64, u64), IrqSave>,
    /// The membarrier registrations made (their command bits).
    pub membarrier_registered: AtomicU32,
    /// Timer ticks of the threads that have exited (user, system).
    pub dead_ticks: SpinLock<(u64, u64), IrqSave>,
    /// `/proc/PID/oom_score_adj`: -1000 (never chosen by the OOM killer) to 1000; inherited
    /// over fork, kept over exec, as Linux's `signal_struct`'s.
    pub oom_score_adj: AtomicI32,
    /// When the process was created (monotonic clock, ns since boot).
    #[allow(dead_code, reason = "for procfs, which a config may leave out")]
    pub start_ns: u64,
}

impl Process {
    fn new(tgid: Pid) -> Arc<Process> {
        Arc::new(Process {
            tgid,
            leader: SpinLock::new(Weak::new()),
            threads: SpinLock::new(Vec::new()),
            thread_exited: WaitQueue::new(),
            parent: SubsystemLock::new(Weak::new()),
            children: SubsystemLock::new(Vec::new()),
            pgid: AtomicU32::new(tgid),
            sid: AtomicU32::new(tgid),
            shared_pending: SpinLock::new(Pending::default()),
            group_exit: AtomicBool::new(false),
            group_stop: AtomicBool::new(false),
            exec_owner: AtomicU32::new(0),
            exit_signal: AtomicU32::new(super::signal::SIGCHLD),
            exit_status: AtomicI32::new(0),
            child_exited: WaitQueue::new(),
            signalfd_wait: WaitQueue::new(),
            did_exec: AtomicBool::new(false),
            exe: SubsystemLock::new(None),
            exe_deny: SubsystemLock::new(Vec::new()),
            real_timer: SpinLock::new((0, 0)),
            job_report: SpinLock::new(None),
            rlimits: SubsystemLock::new(default_rlimits()),
            children_ticks: SpinLock::new((0, 0)),
            membarrier_registered: AtomicU32::new(0),
            dead_ticks: SpinLock::new((0, 0)),
            oom_score_adj: AtomicI32::new(0),
            start_ns: tessera_platform::clock::now_ns(),
        })
    }

    /// The parent process's leader, if it still exists.
    pub fn parent(&self) -> Option<Arc<Task>> {
        self.parent.lock().upgrade()
    }

    pub fn ppid(&self) -> Pid {
        self.parent().map_or(0, |p| p.tid)
    }

    /// The leader task (gone only once the process is reaped).
    pub fn leader(&self) -> Option<Arc<Task>> {
        self.leader.lock().upgrade()
    }

    /// The threads that have not exited.
    pub fn live_threads(&self) -> Vec<Arc<Task>> {
        self.threads.lock().clone()
    }

    /// Whether every thread has exited (the process is a zombie or reaped).
    pub fn exited(&self) -> bool {
        self.threads.lock().is_empty()
    }
}

/// One thread.
pub struct Task {
    /// The thread id (`gettid`); the leader's is the process id.
    pub tid: Pid,
    /// Index of this task's saved context in the scheduler's table (exchanged with the
    /// leader's when a non-leader thread execs).
    slot: AtomicUsize,
    pub state: SpinLock<TaskState, IrqSave>,
    /// Freed when the task is released (None from then on).
    pub kernel_stack: SubsystemLock<Option<KernelStack>>,
    /// The address space: shared by the tasks cloned with CLONE_VM (threads, vfork
    /// children); execve puts a new one here, exit an empty one.
    vm: SubsystemLock<Arc<VmCell>>,
    /// The descriptor table: shared by the tasks cloned with CLONE_FILES; replaced by a
    /// private copy by [`Task::unshare_files`]. Read as a plain field (`task.files.lock()`):
    /// the slot's contract (`SwapSlot`) is that only this task replaces it.
    pub files: SwapSlot<Files>,
    /// Working directory, root and umask: shared by the tasks cloned with CLONE_FS;
    /// replaced by a private copy by [`Task::unshare_fs`], under the same contract.
    pub fs: SwapSlot<SubsystemLock<FsContext>>,
    /// Signal actions: shared by the tasks cloned with CLONE_SIGHAND.
    pub sighand: Arc<SpinLock<SigHand, IrqSave>>,
    pub process: Arc<Process>,
    /// This thread's mask, pending thread-directed signals and alternate stack.
    pub signals: SpinLock<SignalState, IrqSave>,
    /// Set whenever a signal may have become deliverable (sent, or the mask changed); the
    /// return-to-user path looks at `signals` only when it is set.
    pub signal_hint: AtomicBool,
    /// The user FPU/SIMD registers (x87, SSE, AVX) while the task is off the CPU: saved
    /// when it leaves, loaded when it enters; while it runs, the CPU holds the live state.
    pub fpu: SubsystemLock<FpuState>,
    pub fs_base: AtomicU64,
    /// set_tid_address / CLONE_CHILD_CLEARTID: zeroed and futex-woken at exit.
    pub clear_child_tid: AtomicU64,
    /// The robust list, the exit state the PI futexes see, an interrupted wait's restart.
    pub futex: super::futex::TaskFutex,
    /// The thread's name (`comm`: prctl PR_SET_NAME, `/proc/PID/task/TID/comm`).
    pub name: SubsystemLock<String>,
    /// Set by vfork until the child execs or exits; the parent waits on `vfork_done`.
    pub vfork_done: WaitQueue,
    pub in_vfork: AtomicBool,
    /// Deadline (clock ns) of a timed sleep, 0 if none.
    pub wake_at: AtomicU64,
    /// The restart block of a sleep a signal interrupted (Linux's `restart_block`): its
    /// deadline (clock ns, 0 if none) and where to write the time left (0 for nowhere).
    /// Without a handler to run, the sleep goes on through `restart_syscall`.
    pub restart_sleep: SpinLock<(u64, u64), IrqSave>,
    /// Timer ticks spent in user mode and in the kernel on this task's behalf.
    pub utime_ticks: AtomicU64,
    pub stime_ticks: AtomicU64,
    /// When the task was created (monotonic clock, ns since boot).
    #[allow(dead_code, reason = "for procfs, which a config may leave out")]
    pub start_ns: u64,
}

/// Linux 6.1's defaults (`INIT_RLIMITS`, `include/asm-generic/resource.h`, and
/// `fork_init`): unlimited, but for the stack (8 MiB soft), core files (0), open files (1024
/// soft), locked memory (8 MiB, `MLOCK_LIMIT`), POSIX message queues (819,200 bytes,
/// `MQ_BYTES_MAX`), nice and real-time priority ceilings (0), and processes and queued
/// signals: half of `max_threads`, which is a thread per 32 pages of RAM (a 16 KiB stack
/// taking an eighth of its memory), at least 20.
fn default_rlimits() -> [(u64, u64); RLIM_NLIMITS] {
    const MLOCK_LIMIT: u64 = 8 << 20;
    const MQ_BYTES_MAX: u64 = 819_200;
    let mut limits = [(RLIM_INFINITY, RLIM_INFINITY); RLIM_NLIMITS];
    limits[RLIMIT_STACK] = (crate::mm::vm::STACK_SIZE, RLIM_INFINITY);
    limits[RLIMIT_CORE] = (0, RLIM_INFINITY);
    limits[RLIMIT_NOFILE] = (
        crate::fs::file::DEFAULT_FD_LIMIT as u64,
        crate::fs::file::MAX_FDS as u64,
    );
    limits[RLIMIT_MEMLOCK] = (MLOCK_LIMIT, MLOCK_LIMIT);
    limits[RLIMIT_MSGQUEUE] = (MQ_BYTES_MAX, MQ_BYTES_MAX);
    limits[RLIMIT_NICE] = (0, 0);
    limits[RLIMIT_RTPRIO] = (0, 0);
    // Counted once: RAM does not change, and fork need not take the frame allocator's lock.
    static THREADS: AtomicU64 = AtomicU64::new(0);
    let mut threads = THREADS.load(Ordering::Relaxed);
    if threads == 0 {
        threads = (crate::mm::page_counts().0 as u64 / 32).max(20) / 2;
        THREADS.store(threads, Ordering::Relaxed);
    }
    limits[RLIMIT_NPROC] = (threads, threads);
    limits[RLIMIT_SIGPENDING] = (threads, threads);
    limits
}

/// Every task until it is released (strong references: a blocked task lives here), and
/// the id allocator, which asks the table which ids are in use.
static TASKS: SpinLock<TaskTable, IrqSave> = SpinLock::new(TaskTable {
    tasks: BTreeMap::new(),
    pids: PidCursor::new(),
});

struct TaskTable {
    tasks: BTreeMap<Pid, Arc<Task>>,
    pids: PidCursor,
}

impl TaskTable {
    /// A free id. Between this and the task's insertion the id is in no table, but the
    /// cursor has moved past it: only `pid_max` allocations in between could hand it out
    /// again, and creating a task does not wait.
    fn alloc_pid(&mut self) -> KResult<Pid> {
        let tasks = &self.tasks;
        self.pids.alloc(|pid| {
            tasks.contains_key(&pid)
                || tasks.values().any(|t| {
                    t.process.pgid.load(Ordering::Relaxed) == pid
                        || t.process.sid.load(Ordering::Relaxed) == pid
                })
        })
    }
}
/// Task objects alive (released or not): what the leak accounting counts (`live`).
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// What a new task shares with the one that creates it and what it gets afresh.
pub struct Shares {
    pub vm: Arc<VmCell>,
    pub files: Arc<Files>,
    pub fs: Arc<SubsystemLock<FsContext>>,
    pub sighand: Arc<SpinLock<SigHand, IrqSave>>,
    /// The process to join (CLONE_THREAD), or None for a new process.
    pub process: Option<Arc<Process>>,
}

impl Shares {
    /// Nothing shared: a new process with these fresh objects.
    pub fn new(vm: Option<Vm>, files: FdTable, fs: FsContext) -> Shares {
        Shares {
            vm: Arc::new(SubsystemLock::new(vm)),
            files: Files::new(files),
            fs: Arc::new(SubsystemLock::new(fs)),
            sighand: Arc::new(SpinLock::new(SigHand::default())),
            process: None,
        }
    }
}

impl Task {
    /// A new task: a thread of `shares.process`, or the leader of a new process. The
    /// caller fills in what it inherits and makes it runnable.
    pub fn new(name: &str, shares: Shares) -> KResult<Arc<Task>> {
        // The kernel stack (64 KiB) must not dig into the kernel's reserve, and may not be had
        // at all: ENOMEM, as Linux's fork when `dup_task_struct` finds no memory.
        crate::mm::user_frames::headroom(16)
            .then_some(())
            .ok_or(Errno::ENOMEM)?;
        let stack = KernelStack::try_new().ok_or(Errno::ENOMEM)?;
        let tid = TASKS.lock().alloc_pid()?;
        let slot = super::sched::alloc_slot()?;
        let process = shares.process.unwrap_or_else(|| Process::new(tid));
        LIVE.fetch_add(1, Ordering::Relaxed);
        let task = Arc::new(Task {
            tid,
            slot: AtomicUsize::new(slot),
            state: SpinLock::new(TaskState::Runnable),
            kernel_stack: SubsystemLock::new(Some(stack)),
            vm: SubsystemLock::new(shares.vm),
            files: SwapSlot::new(shares.files),
            fs: SwapSlot::new(shares.fs),
            sighand: shares.sighand,
            process,
            signals: SpinLock::new(SignalState::default()),
            signal_hint: AtomicBool::new(false),
            fpu: SubsystemLock::new(FpuState::default()),
            fs_base: AtomicU64::new(0),
            clear_child_tid: AtomicU64::new(0),
            futex: super::futex::TaskFutex::new(),
            name: SubsystemLock::new(String::from(name)),
            vfork_done: WaitQueue::new(),
            in_vfork: AtomicBool::new(false),
            wake_at: AtomicU64::new(0),
            restart_sleep: SpinLock::new((0, 0)),
            utime_ticks: AtomicU64::new(0),
            stime_ticks: AtomicU64::new(0),
            start_ns: tessera_platform::clock::now_ns(),
        });
        if task.process.tgid == tid {
            *task.process.leader.lock() = Arc::downgrade(&task);
        }
        task.process.threads.lock().push(task.clone());
        TASKS.lock().tasks.insert(tid, task.clone());
        Ok(task)
    }

    pub fn state(&self) -> TaskState {
        *self.state.lock()
    }

    /// The process id.
    pub fn tgid(&self) -> Pid {
        self.process.tgid
    }

    /// Whether this task is its process's leader.
    pub fn is_leader(&self) -> bool {
        self.tid == self.process.tgid
    }

    pub fn ppid(&self) -> Pid {
        self.process.ppid()
    }

    pub fn slot(&self) -> usize {
        self.slot.load(Ordering::Relaxed)
    }

    /// The address space this task runs in.
    pub fn vm(&self) -> Arc<VmCell> {
        self.vm.lock().clone()
    }

    /// Runs in `vm` from now on (execve); returns the one it ran in.
    pub fn replace_vm(&self, vm: Arc<VmCell>) -> Arc<VmCell> {
        core::mem::replace(&mut *self.vm.lock(), vm)
    }

    /// Gives this task a private copy of its descriptor table when another task shares it
    /// (Linux's `unshare_fd`, for unshare, close_range and execve); the files stay open in
    /// both tables. Only the task itself calls this (the slot's contract).
    pub fn unshare_files(&self) {
        if self.files.is_shared() {
            let copy = Files::new(self.files.lock().clone());
            self.files.replace(copy).release();
        }
    }

    /// Gives this task a private copy of its working directory, root and umask when
    /// another task shares them (CLONE_FS; Linux's `unshare_fs`). Only the task itself
    /// calls this.
    pub fn unshare_fs(&self) {
        // Two references: the slot's and the one `arc` just made.
        if Arc::strong_count(&self.fs.arc()) > 2 {
            let copy = self.fs.lock().clone();
            self.fs.replace(Arc::new(SubsystemLock::new(copy)));
        }
    }

    /// Ends a vfork: wakes the parent waiting for the child to exec or exit.
    pub fn end_vfork(&self) {
        if self.in_vfork.swap(false, Ordering::Relaxed) {
            self.vfork_done.wake_all();
        }
    }

    /// CPU time of the process: its live threads' and its dead threads' (user, system)
    /// ticks.
    pub fn process_ticks(&self) -> (u64, u64) {
        let (mut user, mut system) = *self.process.dead_ticks.lock();
        for thread in self.process.live_threads() {
            user += thread.utime_ticks.load(Ordering::Relaxed);
            system += thread.stime_ticks.load(Ordering::Relaxed);
        }
        (user, system)
    }

    /// Forgets a released task: its stack, its slot and its entry in the task table.
    pub fn unregister(&self) {
        drop(self.kernel_stack.lock().take());
        TASKS.lock().tasks.remove(&self.tid);
        super::sched::free_slot(self.slot());
    }

    /// execve from a thread other than the leader, once every other thread has exited:
    /// `self` (the running task) hands its kernel stack and context slot to the leader
    /// task, which goes on running the exec from here (so the process keeps its id, as
    /// on Linux), and takes the leader's old ones, to be released with it.
    pub fn become_leader(self: &Arc<Task>, leader: &Arc<Task>) {
        let mine = self.kernel_stack.lock().take();
        let theirs = leader.kernel_stack.lock().take();
        *leader.kernel_stack.lock() = mine;
        *self.kernel_stack.lock() = theirs;
        let slot = self.slot.load(Ordering::Relaxed);
        self.slot
            .store(leader.slot.swap(slot, Ordering::Relaxed), Ordering::Relaxed);
        leader.replace_vm(self.vm());
        *leader.fpu.lock() = self.fpu.lock().clone();
        // The leader was killed for the exec: it starts clean, with this thread's mask.
        let signals = SignalState::with_mask_of(&self.signals.lock());
        *leader.signals.lock() = signals;
        *leader.name.lock() = self.name.lock().clone();
        *leader.state.lock() = TaskState::Runnable;
        *self.state.lock() = TaskState::Zombie;
        let mut threads = self.process.threads.lock();
        threads.retain(|t| !Arc::ptr_eq(t, self));
        threads.push(leader.clone());
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Task objects alive: every task until its last reference goes, zombies and tasks
/// released but still referenced included (a count that stays up is a leak).
pub fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// Tasks created since boot (Linux's `total_forks`: every pid handed out).
#[allow(dead_code, reason = "for procfs, which a config may leave out")]
pub fn created() -> u64 {
    TASKS.lock().pids.created()
}

/// The pid most recently handed out.
#[allow(dead_code, reason = "for procfs, which a config may leave out")]
pub fn last_pid() -> Pid {
    TASKS.lock().pids.last()
}

/// The task with this id, if it exists (zombies included).
pub fn find(tid: Pid) -> Option<Arc<Task>> {
    TASKS.lock().tasks.get(&tid).cloned()
}

/// The leader of the process with this id (`kill(pid)`, `/proc/PID`): a thread id finds
/// its process too, as on Linux.
pub fn find_process(pid: Pid) -> Option<Arc<Task>> {
    let task = find(pid)?;
    if task.is_leader() {
        Some(task)
    } else {
        task.process.leader()
    }
}

/// Every task, in id order.
pub fn all() -> Vec<Arc<Task>> {
    TASKS.lock().tasks.values().cloned().collect()
}

/// Every process's leader, in pid order.
pub fn all_processes() -> Vec<Arc<Task>> {
    TASKS
        .lock()
        .tasks
        .values()
        .filter(|t| t.is_leader())
        .cloned()
        .collect()
}

/// The task running on this CPU (panics in the boot/idle context).
pub fn current() -> Arc<Task> {
    super::sched::current().expect("no current task")
}
