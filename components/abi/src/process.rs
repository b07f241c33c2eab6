//! Process numbers: `clone` flags, `wait4`/`waitid` options and wait statuses, resource
//! limits, priorities, `arch_prctl` and `prctl` options, futex operations and the limits of
//! `execve`. Each constant names its header (`linux/sched.h`, `linux/wait.h`,
//! `asm-generic/resource.h`, `linux/resource.h`, `asm/prctl.h`, `linux/prctl.h`,
//! `linux/futex.h`, `linux/binfmts.h`).

/// `CLONE_VM` (`linux/sched.h`): the child shares the parent's address space.
pub const CLONE_VM: u64 = 0x100;
/// `CSIGNAL` (`linux/sched.h`): clone's low byte: the signal the parent gets at exit.
pub const CSIGNAL: u64 = 0xff;
/// `CLONE_FS` (`linux/sched.h`): the child shares cwd, root and umask.
pub const CLONE_FS: u64 = 0x200;
/// `CLONE_FILES` (`linux/sched.h`): the child shares the file descriptor table.
pub const CLONE_FILES: u64 = 0x400;
/// `CLONE_SIGHAND` (`linux/sched.h`): the child shares the signal actions.
pub const CLONE_SIGHAND: u64 = 0x800;
/// `CLONE_PIDFD` (`linux/sched.h`): a pidfd for the child (not supported here).
pub const CLONE_PIDFD: u64 = 0x1000;
/// `CLONE_PTRACE` (`linux/sched.h`): the child is traced too if the parent is.
pub const CLONE_PTRACE: u64 = 0x2000;
/// `CLONE_PARENT` (`linux/sched.h`): the child's parent is the caller's parent.
pub const CLONE_PARENT: u64 = 0x8000;
/// `CLONE_NEWNS` (`linux/sched.h`): a new mount namespace.
pub const CLONE_NEWNS: u64 = 0x2_0000;
/// `CLONE_SYSVSEM` (`linux/sched.h`): share System V semaphore undo lists.
pub const CLONE_SYSVSEM: u64 = 0x4_0000;
/// `CLONE_DETACHED` (`linux/sched.h`): ignored since Linux 2.6.
pub const CLONE_DETACHED: u64 = 0x40_0000;
/// `CLONE_UNTRACED` (`linux/sched.h`): a tracer cannot force CLONE_PTRACE.
pub const CLONE_UNTRACED: u64 = 0x80_0000;
/// `CLONE_NEWCGROUP`, `CLONE_NEWUTS`, `CLONE_NEWIPC`, `CLONE_NEWUSER`, `CLONE_NEWPID`,
/// `CLONE_NEWNET` (`linux/sched.h`) and `CLONE_NEWNS`: new namespaces (not supported here).
pub const CLONE_NEW_NAMESPACES: u64 =
    CLONE_NEWNS | 0x0200_0000 | 0x0400_0000 | 0x0800_0000 | 0x1000_0000 | 0x2000_0000 | 0x4000_0000;
/// `CLONE_NEWTIME` (`linux/sched.h`): a new time namespace; valid for unshare and clone3
/// only (for clone it is a bit of the exit signal's byte).
pub const CLONE_NEWTIME: u64 = 0x80;
/// `CLONE_NEWUSER` (`linux/sched.h`).
pub const CLONE_NEWUSER: u64 = 0x1000_0000;
/// `CLONE_IO` (`linux/sched.h`): share the I/O context.
pub const CLONE_IO: u64 = 0x8000_0000;
/// `CLONE_CLEAR_SIGHAND` (`linux/sched.h`, clone3 only): reset handled signals to default.
pub const CLONE_CLEAR_SIGHAND: u64 = 0x1_0000_0000;
/// `CLONE_INTO_CGROUP` (`linux/sched.h`, clone3 only).
pub const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;
/// `CLONE_ARGS_SIZE_VER0` (`linux/sched.h`): the smallest `struct clone_args` clone3 takes.
pub const CLONE_ARGS_SIZE_VER0: usize = 64;
/// Bytes of `struct clone_args` as this kernel knows it (`CLONE_ARGS_SIZE_VER2`).
pub const CLONE_ARGS_SIZE: usize = 88;
/// `CLONE_VFORK` (`linux/sched.h`): the parent waits until the child execs or exits.
pub const CLONE_VFORK: u64 = 0x4000;
/// `CLONE_THREAD` (`linux/sched.h`): the child is a thread of the parent's thread group.
pub const CLONE_THREAD: u64 = 0x1_0000;
/// `CLONE_SETTLS` (`linux/sched.h`): the child's TLS base (fs) is the `tls` argument.
pub const CLONE_SETTLS: u64 = 0x8_0000;
/// `CLONE_PARENT_SETTID` (`linux/sched.h`): store the child's tid at `parent_tid`.
pub const CLONE_PARENT_SETTID: u64 = 0x10_0000;
/// `CLONE_CHILD_CLEARTID` (`linux/sched.h`): clear `child_tid` (and wake it) when the child
/// exits.
pub const CLONE_CHILD_CLEARTID: u64 = 0x20_0000;
/// `CLONE_CHILD_SETTID` (`linux/sched.h`): store the child's tid at `child_tid` in the child.
pub const CLONE_CHILD_SETTID: u64 = 0x100_0000;

/// `WNOHANG` (`linux/wait.h`): return at once if no child has changed state.
pub const WNOHANG: u32 = 0x0000_0001;
/// `WUNTRACED` (`linux/wait.h`): also report stopped children (`WSTOPPED` for `waitid`).
pub const WUNTRACED: u32 = 0x0000_0002;
/// `WEXITED` (`linux/wait.h`): `waitid` reports children that exited.
pub const WEXITED: u32 = 0x0000_0004;
/// `WCONTINUED` (`linux/wait.h`): also report children continued by SIGCONT.
pub const WCONTINUED: u32 = 0x0000_0008;
/// `WNOWAIT` (`linux/wait.h`): leave the child waitable (`waitid`).
pub const WNOWAIT: u32 = 0x0100_0000;
/// `__WNOTHREAD` (`linux/wait.h`): wait for children of this thread only.
pub const __WNOTHREAD: u32 = 0x2000_0000;
/// `__WALL` (`linux/wait.h`): wait for every child, whatever its exit signal.
pub const __WALL: u32 = 0x4000_0000;
/// `__WCLONE` (`linux/wait.h`): wait only for children whose exit signal is not SIGCHLD.
pub const __WCLONE: u32 = 0x8000_0000;

/// `P_ALL` (`linux/wait.h`): `waitid` for any child.
pub const P_ALL: u32 = 0;
/// `P_PID` (`linux/wait.h`): `waitid` for the child with this pid.
pub const P_PID: u32 = 1;
/// `P_PGID` (`linux/wait.h`): `waitid` for a child in this process group.
pub const P_PGID: u32 = 2;

// Wait statuses, as `kernel/exit.c` and `kernel/signal.c` make them and glibc's
// `bits/waitstatus.h` takes them apart.

/// A wait status of a process that exited with `code`: its low 8 bits in bits 8-15
/// (`W_EXITCODE(code, 0)`).
#[inline]
pub const fn exited_status(code: i32) -> i32 {
    (code & 0xff) << 8
}

/// A wait status of a process stopped by signal `sig` (glibc's `W_STOPCODE`).
#[inline]
pub const fn stopped_status(sig: i32) -> i32 {
    (sig << 8) | 0x7f
}

/// The wait status `wait4` reports for a child continued by SIGCONT (`WIFCONTINUED`).
pub const CONTINUED_STATUS: i32 = 0xffff;

/// The signal that killed a process, from its wait status; 0 if it exited (`WTERMSIG`).
#[inline]
pub const fn term_sig(status: i32) -> i32 {
    status & 0x7f
}

/// The exit code of a process that exited, from its wait status (`WEXITSTATUS`).
#[inline]
pub const fn exit_code(status: i32) -> i32 {
    (status >> 8) & 0xff
}

/// Bit of a wait status saying that the killed process dumped core (`WCOREFLAG`).
pub const WCOREFLAG: i32 = 0x80;

/// `RLIMIT_STACK` (`asm-generic/resource.h`): stack size, in bytes.
pub const RLIMIT_STACK: usize = 3;
/// `RLIMIT_CORE` (`asm-generic/resource.h`): core file size, in bytes.
pub const RLIMIT_CORE: usize = 4;
/// `RLIMIT_NPROC` (`asm-generic/resource.h`): processes of the user.
pub const RLIMIT_NPROC: usize = 6;
/// `RLIMIT_NOFILE` (`asm-generic/resource.h`): one more than the highest descriptor number.
pub const RLIMIT_NOFILE: usize = 7;
/// `RLIMIT_MEMLOCK` (`asm-generic/resource.h`): locked memory, in bytes.
pub const RLIMIT_MEMLOCK: usize = 8;
/// `RLIMIT_SIGPENDING` (`asm-generic/resource.h`): queued signals of the user.
pub const RLIMIT_SIGPENDING: usize = 11;
/// `RLIMIT_MSGQUEUE` (`asm-generic/resource.h`): bytes in POSIX message queues.
pub const RLIMIT_MSGQUEUE: usize = 12;
/// `RLIMIT_NICE` (`asm-generic/resource.h`): the ceiling of the nice value, as 20 - nice.
pub const RLIMIT_NICE: usize = 13;
/// `RLIMIT_RTPRIO` (`asm-generic/resource.h`): the ceiling of the real-time priority.
pub const RLIMIT_RTPRIO: usize = 14;
/// `RLIM_NLIMITS` (`asm-generic/resource.h`): the number of resources, `RLIMIT_*` < this.
pub const RLIM_NLIMITS: usize = 16;
/// `RLIM_INFINITY` (`asm-generic/resource.h`): no limit.
pub const RLIM_INFINITY: u64 = u64::MAX;

/// `PRIO_PROCESS` (`linux/resource.h`): `getpriority`/`setpriority` of a process.
pub const PRIO_PROCESS: u32 = 0;
/// `PRIO_PGRP` (`linux/resource.h`): of a process group.
pub const PRIO_PGRP: u32 = 1;
/// `PRIO_USER` (`linux/resource.h`): of a user's processes.
pub const PRIO_USER: u32 = 2;

/// `ARCH_SET_FS` (`asm/prctl.h`): set the fs base (the TLS pointer).
pub const ARCH_SET_FS: u32 = 0x1002;
/// `ARCH_GET_FS` (`asm/prctl.h`): store the fs base at the address given.
pub const ARCH_GET_FS: u32 = 0x1003;

/// `PR_SET_NAME` (`linux/prctl.h`): set the calling thread's name (`comm`).
pub const PR_SET_NAME: u32 = 15;
/// `PR_GET_NAME` (`linux/prctl.h`): read it, [`TASK_COMM_LEN`] bytes.
pub const PR_GET_NAME: u32 = 16;
/// `TASK_COMM_LEN` (`linux/sched.h`): bytes of a thread's name with its NUL.
pub const TASK_COMM_LEN: usize = 16;

/// `MAX_ARG_STRLEN` (`linux/binfmts.h`): longest single argument or environment string of
/// `execve`, NUL included: 32 pages.
pub const MAX_ARG_STRLEN: usize = 32 * 4096;
/// `BINPRM_BUF_SIZE` (`linux/binfmts.h`): how many bytes of a file `execve` looks at to
/// recognise its format (the ELF magic, a `#!` line).
pub const BINPRM_BUF_SIZE: usize = 256;

/// `RUSAGE_SELF` (`linux/resource.h`): getrusage of the calling process (all its threads).
pub const RUSAGE_SELF: i32 = 0;
/// `RUSAGE_CHILDREN` (`linux/resource.h`): of its reaped children (and theirs).
pub const RUSAGE_CHILDREN: i32 = -1;
/// `RUSAGE_THREAD` (`linux/resource.h`): of the calling thread.
pub const RUSAGE_THREAD: i32 = 1;
/// Bytes of `struct rusage` (two timevals, then 14 longs).
pub const RUSAGE_SIZE: usize = 144;
/// Bytes of `struct tms` (four `clock_t`).
pub const TMS_SIZE: usize = 32;

/// `MEMBARRIER_CMD_QUERY` (`linux/membarrier.h`): which commands are supported.
pub const MEMBARRIER_CMD_QUERY: u32 = 0;
/// `MEMBARRIER_CMD_GLOBAL` (`linux/membarrier.h`).
pub const MEMBARRIER_CMD_GLOBAL: u32 = 1 << 0;
/// `MEMBARRIER_CMD_GLOBAL_EXPEDITED` (`linux/membarrier.h`).
pub const MEMBARRIER_CMD_GLOBAL_EXPEDITED: u32 = 1 << 1;
/// `MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED` (`linux/membarrier.h`).
pub const MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED: u32 = 1 << 2;
/// `MEMBARRIER_CMD_PRIVATE_EXPEDITED` (`linux/membarrier.h`).
pub const MEMBARRIER_CMD_PRIVATE_EXPEDITED: u32 = 1 << 3;
/// `MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED` (`linux/membarrier.h`).
pub const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: u32 = 1 << 4;
/// `MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE` (`linux/membarrier.h`).
pub const MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE: u32 = 1 << 5;
/// `MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE` (`linux/membarrier.h`).
pub const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE: u32 = 1 << 6;
/// `MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ` (`linux/membarrier.h`).
pub const MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ: u32 = 1 << 7;
/// `MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ` (`linux/membarrier.h`).
pub const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ: u32 = 1 << 8;
/// `MEMBARRIER_CMD_FLAG_CPU` (`linux/membarrier.h`): for the RSEQ command, one CPU only.
pub const MEMBARRIER_CMD_FLAG_CPU: u32 = 1 << 0;
