//! The task: everything the kernel keeps about one process.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, Ordering};

use tessera_abi::KResult;
use tessera_abi::process::{RLIM_INFINITY, RLIM_NLIMITS, RLIMIT_CORE, RLIMIT_NOFILE, RLIMIT_STACK};
use tessera_platform::fpu::FpuState;
use tessera_platform::usermode::KernelStack;
use tessera_sync::{IrqSave, SpinLock, SubsystemLock};

use super::sched::WaitQueue;
use super::signal::SignalState;
use crate::fs::{FdTable, FsContext};
use crate::mm::vm::Vm;

/// A process id (also its only thread's id).
pub type Pid = u32;

/// Where a task is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskState {
    /// On the run queue or running.
    Runnable,
    /// Waiting on a wait queue or a timer.
    Blocked,
    /// Exited; its parent has not reaped it yet.
    Zombie,
    /// Stopped by SIGSTOP/SIGTSTP/SIGTTIN/SIGTTOU until SIGCONT.
    Stopped,
}

/// One process.
pub struct Task {
    pub pid: Pid,
    /// Index of this task's saved context in the scheduler's table.
    pub slot: usize,
    pub state: SpinLock<TaskState, IrqSave>,
    /// Freed when the task is reaped (None from then on).
    pub kernel_stack: SubsystemLock<Option<KernelStack>>,
    pub vm: SubsystemLock<Option<Vm>>,
    pub files: SubsystemLock<FdTable>,
    pub fs: SubsystemLock<FsContext>,
    pub parent: SubsystemLock<Weak<Task>>,
    pub children: SubsystemLock<Vec<Arc<Task>>>,
    pub pgid: AtomicU32,
    pub sid: AtomicU32,
    pub signals: SpinLock<SignalState, IrqSave>,
    /// Set whenever a signal may have become deliverable (sent, or the mask changed); the
    /// return-to-user path looks at `signals` only when it is set.
    pub signal_hint: AtomicBool,
    /// Wait status as wait4 reports it, set at exit.
    pub exit_status: AtomicI32,
    /// Woken when a child changes state (exits).
    pub child_exited: WaitQueue,
    /// The user FPU/SIMD registers (x87, SSE, AVX) while the task is off the CPU: saved
    /// when it leaves, loaded when it enters; while it runs, the CPU holds the live state.
    pub fpu: SubsystemLock<FpuState>,
    pub fs_base: AtomicU64,
    pub clear_child_tid: AtomicU64,
    /// The robust list, the exit state the PI futexes see, an interrupted wait's restart.
    pub futex: super::futex::TaskFutex,
    pub name: SubsystemLock<String>,
    /// The program file the task runs (what `/proc/PID/exe` names); none before the first
    /// execve.
    pub exe: SubsystemLock<Option<crate::fs::DentryRef>>,
    /// The hold on `exe` that keeps it from being written while the task runs it.
    pub exe_deny: SubsystemLock<Option<crate::fs::write_access::DenyWrite>>,
    /// Set by vfork until the child execs or exits.
    pub vfork_done: WaitQueue,
    pub in_vfork: AtomicBool,
    /// A vfork child runs in its parent's address space, borrowed until exec or exit.
    pub vfork_parent: SubsystemLock<Option<Arc<Task>>>,
    /// Deadline (clock ns) of a timed sleep, 0 if none.
    pub wake_at: AtomicU64,
    /// The restart block of a sleep a signal interrupted (Linux's `restart_block`): its
    /// deadline (clock ns, 0 if none) and where to write the time left (0 for nowhere).
    /// Without a handler to run, the sleep goes on through `restart_syscall`.
    pub restart_sleep: SpinLock<(u64, u64), IrqSave>,
    /// ITIMER_REAL: (deadline in clock ns, 0 if off; interval in ns).
    pub real_timer: SpinLock<(u64, u64), IrqSave>,
    /// A stop or continue the parent has not collected with wait4 yet (its wait status).
    pub job_report: SpinLock<Option<i32>, IrqSave>,
    /// Resource limits (soft, hard) by RLIMIT_* number.
    pub rlimits: SubsystemLock<[(u64, u64); RLIM_NLIMITS]>,
    /// Timer ticks spent in user mode and in the kernel on this task's behalf.
    pub utime_ticks: AtomicU64,
    pub stime_ticks: AtomicU64,
    /// When the task was created (monotonic clock, ns since boot).
    #[allow(dead_code, reason = "for procfs, which a config may leave out")]
    pub start_ns: u64,
}

/// Linux's defaults: unlimited, but for the stack (8 MiB soft), core files (0) and open files
/// (1024 soft).
fn default_rlimits() -> [(u64, u64); RLIM_NLIMITS] {
    let mut limits = [(RLIM_INFINITY, RLIM_INFINITY); RLIM_NLIMITS];
    limits[RLIMIT_STACK] = (crate::mm::vm::STACK_SIZE, RLIM_INFINITY);
    limits[RLIMIT_CORE] = (0, RLIM_INFINITY);
    limits[RLIMIT_NOFILE] = (
        crate::fs::file::DEFAULT_FD_LIMIT as u64,
        crate::fs::file::MAX_FDS as u64,
    );
    limits
}

/// Every task until it is reaped (strong references: a blocked task lives here).
static TASKS: SpinLock<BTreeMap<Pid, Arc<Task>>, IrqSave> = SpinLock::new(BTreeMap::new());
static NEXT_PID: AtomicU32 = AtomicU32::new(1);

impl Task {
    /// A new task with fresh state; the caller fills in what it inherits.
    pub fn new(name: &str, vm: Option<Vm>, files: FdTable, fs: FsContext) -> KResult<Arc<Task>> {
        let slot = super::sched::alloc_slot()?;
        let pid = NEXT_PID.fetch_add(1, Ordering::Relaxed);
        let task = Arc::new(Task {
            pid,
            slot,
            state: SpinLock::new(TaskState::Runnable),
            kernel_stack: SubsystemLock::new(Some(KernelStack::new())),
            vm: SubsystemLock::new(vm),
            files: SubsystemLock::new(files),
            fs: SubsystemLock::new(fs),
            parent: SubsystemLock::new(Weak::new()),
            children: SubsystemLock::new(Vec::new()),
            pgid: AtomicU32::new(pid),
            sid: AtomicU32::new(pid),
            signals: SpinLock::new(SignalState::default()),
            signal_hint: AtomicBool::new(false),
            exit_status: AtomicI32::new(0),
            child_exited: WaitQueue::new(),
            fpu: SubsystemLock::new(FpuState::default()),
            fs_base: AtomicU64::new(0),
            clear_child_tid: AtomicU64::new(0),
            futex: super::futex::TaskFutex::new(),
            name: SubsystemLock::new(String::from(name)),
            exe: SubsystemLock::new(None),
            exe_deny: SubsystemLock::new(None),
            vfork_done: WaitQueue::new(),
            in_vfork: AtomicBool::new(false),
            vfork_parent: SubsystemLock::new(None),
            wake_at: AtomicU64::new(0),
            restart_sleep: SpinLock::new((0, 0)),
            job_report: SpinLock::new(None),
            real_timer: SpinLock::new((0, 0)),
            rlimits: SubsystemLock::new(default_rlimits()),
            utime_ticks: AtomicU64::new(0),
            stime_ticks: AtomicU64::new(0),
            start_ns: tessera_platform::clock::now_ns(),
        });
        TASKS.lock().insert(pid, task.clone());
        Ok(task)
    }

    pub fn state(&self) -> TaskState {
        *self.state.lock()
    }

    pub fn parent(&self) -> Option<Arc<Task>> {
        self.parent.lock().upgrade()
    }

    pub fn ppid(&self) -> Pid {
        self.parent().map_or(0, |p| p.pid)
    }

    /// Ends a vfork: gives the borrowed address space back to the parent and wakes it.
    /// `vm` is the address space the child was running in (its parent's).
    pub fn end_vfork(&self, vm: Option<Vm>) -> Option<Vm> {
        let parent = self.vfork_parent.lock().take();
        let rest = match parent {
            Some(parent) => {
                *parent.vm.lock() = vm;
                None
            }
            None => vm,
        };
        if self.in_vfork.swap(false, Ordering::Relaxed) {
            self.vfork_done.wake_all();
        }
        rest
    }

    /// Forgets a reaped task: its slot and its entry in the task table.
    pub fn unregister(&self) {
        drop(self.kernel_stack.lock().take());
        TASKS.lock().remove(&self.pid);
        super::sched::free_slot(self.slot);
    }
}

/// Tasks created since boot (Linux's `total_forks`: every pid handed out).
#[allow(dead_code, reason = "for procfs, which a config may leave out")]
pub fn created() -> u64 {
    u64::from(NEXT_PID.load(Ordering::Relaxed) - 1)
}

/// The pid most recently handed out.
#[allow(dead_code, reason = "for procfs, which a config may leave out")]
pub fn last_pid() -> Pid {
    NEXT_PID.load(Ordering::Relaxed) - 1
}

/// The task with this pid, if it exists (zombies included).
pub fn find(pid: Pid) -> Option<Arc<Task>> {
    TASKS.lock().get(&pid).cloned()
}

/// Every live task, in pid order.
pub fn all() -> Vec<Arc<Task>> {
    TASKS.lock().values().cloned().collect()
}

/// The task running on this CPU (panics in the boot/idle context).
pub fn current() -> Arc<Task> {
    super::sched::current().expect("no current task")
}
