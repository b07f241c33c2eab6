//! Signals with handlers (`[subsystems] signals = true`): actions, masks, pending sets with
//! each sender's siginfo, alternate stacks, delivery on the way back to user mode, and the
//! Linux x86_64 `rt_sigframe` that handlers run on and `rt_sigreturn` restores. A kernel
//! without them compiles `no_signal.rs` in its place, with the same API; what both share is
//! in `sigcommon.rs`.

use alloc::sync::Arc;

use tessera_abi::{Errno, KResult};
use tessera_platform::fpu::{self, FpuState};
use tessera_platform::trap::TrapFrame;
use tessera_platform::usercopy::{copy_from_user, copy_to_user};

use core::sync::atomic::Ordering;

use super::task::Task;

pub use super::sigcommon::*;
pub use tessera_abi::signal::*;

/// `struct k_sigaction` as rt_sigaction passes it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigAction {
    pub handler: u64,
    pub flags: u64,
    pub restorer: u64,
    pub mask: u64,
}

impl SigAction {
    pub fn from_bytes(b: &[u8; 32]) -> Self {
        let word = |i: usize| u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
        SigAction {
            handler: word(0),
            flags: word(1),
            restorer: word(2),
            mask: word(3),
        }
    }

    pub fn to_bytes(self) -> [u8; 32] {
        let mut b = [0u8; 32];
        for (i, w) in [self.handler, self.flags, self.restorer, self.mask]
            .into_iter()
            .enumerate()
        {
            b[i * 8..i * 8 + 8].copy_from_slice(&w.to_le_bytes());
        }
        b
    }
}

/// Pending signals: a set, with the siginfo of each (one per standard signal, one per
/// instance of a real-time signal). A thread has one for signals sent to it (tkill, faults),
/// its process one for signals sent to the process (kill).
#[derive(Clone)]
pub struct Pending {
    /// A bit per pending signal (real-time ones also sit in `queue`, once per instance).
    pub bits: u64,
    /// siginfo of the pending standard signals (they merge: the first sender is kept).
    info: [SigInfo; SIGRTMIN as usize],
    /// Pending real-time signals, in arrival order.
    queue: alloc::collections::VecDeque<(u32, SigInfo)>,
}

impl Default for Pending {
    fn default() -> Self {
        Pending {
            bits: 0,
            info: [SigInfo::default(); SIGRTMIN as usize],
            queue: alloc::collections::VecDeque::new(),
        }
    }
}

impl Pending {
    /// Makes `sig` pending with its sender's information.
    pub fn post(&mut self, sig: u32, info: SigInfo) {
        if sig >= SIGRTMIN {
            self.queue.push_back((sig, info));
        } else if self.bits & bit(sig) == 0 {
            self.info[sig as usize] = info;
        }
        self.bits |= bit(sig);
    }

    /// Takes one instance of pending `sig`.
    fn take(&mut self, sig: u32) -> SigInfo {
        if sig >= SIGRTMIN {
            let index = self.queue.iter().position(|(s, _)| *s == sig);
            let info = index
                .and_then(|i| self.queue.remove(i))
                .map_or(SigInfo::default(), |(_, info)| info);
            if !self.queue.iter().any(|(s, _)| *s == sig) {
                self.bits &= !bit(sig);
            }
            info
        } else {
            self.bits &= !bit(sig);
            self.info[sig as usize]
        }
    }

    /// Takes the lowest pending signal in `mask` with its siginfo.
    fn take_in(&mut self, mask: u64) -> Option<(u32, SigInfo)> {
        let ready = self.bits & mask;
        if ready == 0 {
            return None;
        }
        let sig = ready.trailing_zeros() + 1;
        Some((sig, self.take(sig)))
    }

    /// Drops every pending instance of `sig` (e.g. when its action becomes SIG_IGN).
    pub fn discard(&mut self, sig: u32) {
        self.bits &= !bit(sig);
        self.queue.retain(|(s, _)| *s != sig);
    }
}

/// The signal actions (Linux's `sighand_struct`): shared by the threads of a process, and by
/// tasks cloned with CLONE_SIGHAND.
#[derive(Clone)]
pub struct SigHand {
    pub actions: [SigAction; NSIG as usize],
}

impl Default for SigHand {
    fn default() -> Self {
        SigHand {
            actions: [SigAction::default(); NSIG as usize],
        }
    }
}

impl SigHand {
    /// The action of `sig` (1..=NSIG).
    pub fn action(&self, sig: u32) -> SigAction {
        self.actions[sig as usize - 1]
    }

    /// What exec keeps (and clone3's CLONE_CLEAR_SIGHAND): ignored signals stay ignored,
    /// handlers go back to default.
    pub fn clear_handlers(&mut self) {
        for action in &mut self.actions {
            if action.handler != SIG_IGN {
                *action = SigAction::default();
            }
        }
    }

    /// Whether a pending signal would be ignored anyway (so it need not wake anyone).
    fn ignored(&self, sig: u32) -> bool {
        let action = self.action(sig);
        action.handler == SIG_IGN
            || (action.handler == SIG_DFL && default_action(sig) == DefaultAction::Ignore)
    }

    /// Whether `sig` kills the process when delivered (default action terminate or core).
    fn fatal(&self, sig: u32) -> bool {
        sig == SIGKILL || (self.action(sig).handler == SIG_DFL && fatal_by_default(sig))
    }
}

/// An alternate signal stack (`sigaltstack`): where handlers installed with SA_ONSTACK run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AltStack {
    pub sp: u64,
    pub size: u64,
    /// SS_DISABLE, or 0 / SS_AUTODISARM for an armed stack.
    pub flags: u32,
}

impl Default for AltStack {
    fn default() -> Self {
        AltStack {
            sp: 0,
            size: 0,
            flags: SS_DISABLE,
        }
    }
}

impl AltStack {
    /// Whether `rsp` is on this stack (the handler running there was interrupted).
    pub fn on(&self, rsp: u64) -> bool {
        self.flags & SS_DISABLE == 0 && rsp.wrapping_sub(self.sp) < self.size
    }

    /// The `stack_t` sigaltstack reports for a task at `rsp`.
    pub fn to_bytes(self, rsp: u64) -> [u8; STACK_T_SIZE] {
        let flags = if self.on(rsp) {
            SS_ONSTACK
        } else if self.flags & SS_DISABLE != 0 {
            SS_DISABLE
        } else {
            self.flags
        };
        let mut b = [0u8; STACK_T_SIZE];
        b[0..8].copy_from_slice(&self.sp.to_le_bytes());
        b[8..12].copy_from_slice(&flags.to_le_bytes());
        b[16..24].copy_from_slice(&self.size.to_le_bytes());
        b
    }

    /// A `stack_t` as sigaltstack and rt_sigreturn take it, checked as Linux's
    /// `do_sigaltstack`: flags 0 or SS_DISABLE (either with SS_AUTODISARM), else EINVAL; an
    /// armed stack smaller than MINSIGSTKSZ is ENOMEM.
    pub fn from_bytes(b: &[u8; STACK_T_SIZE]) -> KResult<AltStack> {
        let sp = u64::from_le_bytes(b[0..8].try_into().expect("8 bytes"));
        let flags = u32::from_le_bytes(b[8..12].try_into().expect("4 bytes"));
        let size = u64::from_le_bytes(b[16..24].try_into().expect("8 bytes"));
        let mode = flags & !SS_AUTODISARM;
        if mode != 0 && mode != SS_DISABLE && mode != SS_ONSTACK {
            return Err(Errno::EINVAL);
        }
        if mode == SS_DISABLE {
            return Ok(AltStack::default());
        }
        if size < MINSIGSTKSZ {
            return Err(Errno::ENOMEM);
        }
        Ok(AltStack {
            sp,
            size,
            flags: flags & SS_AUTODISARM,
        })
    }
}

/// A thread's signal state: its mask, the signals sent to it, its alternate stack.
#[derive(Clone, Default)]
pub struct SignalState {
    pub blocked: u64,
    pub pending: Pending,
    /// The mask to restore after rt_sigsuspend's handler runs.
    pub saved_mask: Option<u64>,
    pub altstack: AltStack,
}

const UNBLOCKABLE: u64 = bit(SIGKILL) | bit(SIGSTOP);

impl SignalState {
    fn unblocked(&self) -> u64 {
        !(self.blocked & !UNBLOCKABLE)
    }

    /// A fresh state with `other`'s mask: what a leader that an exec from another thread
    /// replaces starts with.
    pub fn with_mask_of(other: &SignalState) -> SignalState {
        SignalState {
            blocked: other.blocked,
            ..SignalState::default()
        }
    }
}

/// The signals `task` could take now: its own and its process's, less its mask.
fn deliverable(task: &Task, state: &SignalState) -> u64 {
    (state.pending.bits | task.process.shared_pending.lock().bits) & state.unblocked()
}

/// Takes the lowest pending signal of `mask` sent to the thread, else to its process
/// (sigwait, sigtimedwait).
pub fn take_in(task: &Task, mask: u64) -> Option<(u32, SigInfo)> {
    let mut state = task.signals.lock();
    state
        .pending
        .take_in(mask)
        .or_else(|| task.process.shared_pending.lock().take_in(mask))
}

/// Pending signals of the thread and its process (rt_sigpending reports those blocked).
pub fn pending(task: &Task) -> u64 {
    task.signals.lock().pending.bits | task.process.shared_pending.lock().bits
}

/// Whether the signal is dropped at sending: ignored, or init's without a handler. Init gets
/// only the signals it has a handler for, SIGKILL and SIGSTOP included, so that no process
/// can stop the machine (Linux's SIGNAL_UNKILLABLE, kernel/signal.c `sig_task_ignored`). A
/// fault in init itself still kills it (`force`). A signal the task blocks is never
/// dropped (Linux's `sig_ignored`): its action may change before it is unblocked, and
/// sigwait and signalfd take blocked signals whatever their action.
fn dropped(task: &Task, sig: u32) -> bool {
    if task.signals.lock().blocked & bit(sig) != 0 {
        return false;
    }
    let hand = task.sighand.lock();
    (hand.ignored(sig) && sig != SIGKILL)
        || (task.tgid() == 1 && hand.action(sig).handler == SIG_DFL)
}

/// Sends `sig` from the kernel to `task`'s process.
pub fn send(task: &Arc<Task>, sig: u32) {
    send_info(task, sig, SigInfo::kernel());
}

/// Sends `sig` to `task`'s process with its siginfo (0 only checks that it exists): pending
/// for the process, taken by a thread that does not block it. A fatal signal nobody blocks
/// ends the whole process at once (Linux's `complete_signal`).
pub fn send_info(task: &Arc<Task>, sig: u32, info: SigInfo) {
    if sig == 0 || sig > NSIG {
        return;
    }
    let process = &task.process;
    prepare(process, sig);
    if dropped(task, sig) {
        return;
    }
    process.shared_pending.lock().post(sig, info);
    process.signalfd_wait.wake_waiters();
    let threads = process.live_threads();
    // The thread to tell: the running one if it takes the signal, else the first that does.
    let me = super::sched::current_tid();
    let wants = |t: &&Arc<Task>| t.signals.lock().unblocked() & bit(sig) != 0;
    let Some(target) = threads
        .iter()
        .filter(wants)
        .find(|t| t.tid == me)
        .or_else(|| threads.iter().find(wants))
    else {
        // Every thread blocks it: pending until one unblocks it.
        return;
    };
    if task.sighand.lock().fatal(sig) && !process.group_exit.load(Ordering::Relaxed) {
        kill_group(process, Some(sig as i32), None);
        return;
    }
    wake_for_signal(target);
}

/// SIGPIPE for a write to a pipe or socket nobody reads: to the writing thread, as Linux.
pub fn sigpipe() {
    send_thread(&super::current(), SIGPIPE, SigInfo::kernel());
}

/// Sends `sig` to one thread (tkill, tgkill, SIGPIPE): only that thread takes it.
pub fn send_thread(task: &Arc<Task>, sig: u32, info: SigInfo) {
    if sig == 0 || sig > NSIG {
        return;
    }
    prepare(&task.process, sig);
    if dropped(task, sig) {
        return;
    }
    let wake = {
        let mut state = task.signals.lock();
        state.pending.post(sig, info);
        state.unblocked() & bit(sig) != 0
    };
    task.process.signalfd_wait.wake_waiters();
    crate::process::sched::set_signal_hint(task, true);
    if wake {
        if task.sighand.lock().fatal(sig) && !task.process.group_exit.load(Ordering::Relaxed) {
            kill_group(&task.process, Some(sig as i32), None);
            return;
        }
        super::sched::wake(task);
    }
}

/// A synchronous fault signal for `task`, the current task: blocked or ignored, it still
/// kills (as on Linux's `force_sig_info`); a handler takes it.
pub fn force(task: &Arc<Task>, sig: u32, info: SigInfo) {
    {
        let mut hand = task.sighand.lock();
        let action = &mut hand.actions[sig as usize - 1];
        if action.handler == SIG_IGN {
            action.handler = SIG_DFL;
        }
    }
    let mut state = task.signals.lock();
    state.blocked &= !bit(sig);
    state.pending.post(sig, info);
    crate::process::sched::set_signal_hint(task, true);
}

/// A new task's signal state from its creator's (clone): the mask, and the alternate stack
/// when `keeps_altstack` (Linux's `sas_ss_reset` clears it for a thread with a stack of its
/// own: CLONE_VM without CLONE_VFORK).
pub fn inherit(parent: &Task, child: &Task, keeps_altstack: bool) {
    let mine = parent.signals.lock();
    let mut signals = child.signals.lock();
    signals.blocked = mine.blocked;
    if keeps_altstack {
        signals.altstack = mine.altstack;
    }
}

/// What execve keeps: ignored signals stay ignored, handlers go back to default, and the
/// alternate stack goes.
pub fn reset_on_exec(task: &Task) {
    task.sighand.lock().clear_handlers();
    task.signals.lock().altstack = AltStack::default();
}

/// Whether `parent` asked not to hear of its children's stops and continues (SA_NOCLDSTOP).
pub fn nocldstop(parent: &Task) -> bool {
    parent.sighand.lock().action(SIGCHLD).flags & SA_NOCLDSTOP != 0
}

/// A task's signal sets for `/proc/PID/status`; ignored (SIG_IGN) and caught (a handler) as
/// Linux's `collect_sigign_sigcatch`.
#[allow(dead_code, reason = "for procfs, which a config may leave out")]
pub fn masks(task: &Task) -> SigMasks {
    let (blocked, pending) = {
        let signals = task.signals.lock();
        (signals.blocked, signals.pending.bits)
    };
    let shared = task.process.shared_pending.lock().bits;
    let (mut ignored, mut caught) = (0u64, 0u64);
    let sighand = task.sighand.lock();
    for sig in 1..=NSIG {
        match sighand.action(sig).handler {
            SIG_IGN => ignored |= bit(sig),
            SIG_DFL => {}
            _ => caught |= bit(sig),
        }
    }
    SigMasks {
        pending,
        shared,
        blocked,
        ignored,
        caught,
    }
}

/// Whether this thread has a deliverable signal (for callers holding its lock).
pub fn has_deliverable_locked(task: &Task, state: &SignalState) -> bool {
    deliverable(task, state) != 0
}

/// Whether `task` is being killed (SIGKILL pending: kill, a fatal signal's group exit,
/// exit_group from another thread): loops that move as many bytes as a caller asks stop
/// there, as Linux's `fatal_signal_pending` checks, so that no call keeps a task the kernel
/// must end (the kernel is not preemptible: a loop that never ends holds the CPU).
pub fn fatal_pending(task: &Task) -> bool {
    pending(task) & bit(SIGKILL) != 0
}

/// Whether `task` has a signal that would interrupt a blocking syscall.
pub fn has_deliverable(task: &Task) -> bool {
    let state = task.signals.lock();
    deliverable(task, &state) != 0
}

/// Called before returning to user mode: runs the default action or sets up the handler of
/// the lowest deliverable signal. `restart`: the frame is a syscall that returned EINTR
/// and may be restarted: transparently when no handler runs (the signal was ignored or
/// stopped the task), or if the handler asked for SA_RESTART.
pub fn deliver(task: Arc<Task>, frame: &mut TrapFrame, restart: Restart) {
    let mut task = task;
    loop {
        if stop_if_group_stopped(&task) {
            continue;
        }
        let (sig, action, info) = {
            let mut state = task.signals.lock();
            let unblocked = state.unblocked();
            // The thread's own signals first, then the process's (Linux's dequeue_signal).
            let taken = state
                .pending
                .take_in(unblocked)
                .or_else(|| task.process.shared_pending.lock().take_in(unblocked));
            let Some((sig, info)) = taken else {
                // No handler runs: a mask a syscall set for its wait (sigsuspend, ppoll,
                // pselect6, epoll_pwait) goes back now, as Linux's `restore_saved_sigmask`.
                if let Some(saved) = state.saved_mask.take() {
                    state.blocked = saved;
                    if deliverable(&task, &state) != 0 {
                        continue;
                    }
                }
                // Whatever is still pending is blocked: nothing to look at until a send or
                // a mask change sets the hint again.
                crate::process::sched::set_signal_hint(&task, false);
                drop(state);
                restart_without_handler(frame, restart);
                return;
            };
            (sig, task.sighand.lock().action(sig), info)
        };
        task = end_if_exiting(task);
        match action.handler {
            SIG_IGN if sig != SIGKILL => continue,
            SIG_DFL | SIG_IGN => task = run_default(task, sig),
            _ => {
                match restart {
                    Restart::Syscall if action.flags & SA_RESTART != 0 => restart_syscall(frame),
                    Restart::Always => restart_syscall(frame),
                    // A handler runs: the interrupted sleep or futex wait ends with EINTR.
                    Restart::Block => {
                        *task.restart_sleep.lock() = (0, 0);
                        super::futex::take_restart(&task);
                    }
                    _ => {}
                }
                if setup_frame(&task, frame, sig, action, info).is_err() {
                    // No room for the frame on the user stack: Linux kills with SIGSEGV.
                    super::exit::exit_group(task, SIGSEGV as i32);
                }
                return;
            }
        }
    }
}

// x86_64 `struct rt_sigframe`: the restorer's address (what the handler returns to), then
// the `ucontext`, then the `siginfo`.
/// Offset of the `ucontext` in the frame.
const UCONTEXT: usize = 8;
/// Offset of the ucontext's `uc_mcontext` (the `struct sigcontext`) in the frame.
const MCONTEXT: usize = UCONTEXT + UCONTEXT_MCONTEXT;
/// Offset of the `siginfo` in the frame.
const INFO: usize = UCONTEXT + UCONTEXT_SIZE;
/// Bytes of the frame.
const FRAME: usize = INFO + SIGINFO_SIZE;

/// `uc_flags` as Linux sets them for a 64-bit task: the FPU area has extended state
/// (UC_FP_XSTATE, with XSAVE), the sigcontext's ss is meaningful and restored as it is.
fn uc_flags() -> u64 {
    let xstate = if fpu::xfeatures() != 0 {
        UC_FP_XSTATE
    } else {
        0
    };
    xstate | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS
}

/// The legacy region and the XSAVE header: the least an XSAVE image can be.
const XSAVE_MIN: usize = fpu::LEGACY_SIZE + 64;

/// Bytes of a frame's FPU area: the image, plus MAGIC2 when it is an XSAVE one.
fn fpu_area_size() -> usize {
    match fpu::xfeatures() {
        0 => fpu::xstate_size(),
        _ => fpu::xstate_size() + FP_XSTATE_MAGIC2_SIZE,
    }
}

/// What a frame's `fpstate` points at, laid out as Linux does: the task's image, the
/// software bytes (`struct _fpx_sw_bytes` at FPX_SW_BYTES: magic1 (u32), extended_size (u32:
/// the area, MAGIC2 included), xfeatures (u64), xstate_size (u32: the XSAVE image), then
/// reserved), XSTATE_BV with x87 and SSE always set (a program that edits only the legacy
/// region gets its changes restored), MAGIC2 after the image.
fn fpu_area(state: &FpuState) -> alloc::vec::Vec<u8> {
    let xfeatures = fpu::xfeatures();
    let size = fpu::xstate_size();
    let mut area = alloc::vec![0u8; fpu_area_size()];
    area[..size].copy_from_slice(state.image());
    let put32 = |area: &mut [u8], at: usize, value: u32| {
        area[at..at + 4].copy_from_slice(&value.to_le_bytes())
    };
    area[FPX_SW_BYTES..fpu::LEGACY_SIZE].fill(0);
    put32(&mut area, FPX_SW_BYTES, FP_XSTATE_MAGIC1);
    put32(
        &mut area,
        FPX_SW_BYTES + 4,
        (size + FP_XSTATE_MAGIC2_SIZE) as u32,
    );
    let features = match xfeatures {
        0 => fpu::X87 | fpu::SSE,
        mask => mask,
    };
    put(&mut area, FPX_SW_BYTES + 8, features);
    put32(&mut area, FPX_SW_BYTES + 16, size as u32);
    if xfeatures != 0 {
        let xstate_bv = get(&area, fpu::LEGACY_SIZE) | fpu::X87 | fpu::SSE;
        put(&mut area, fpu::LEGACY_SIZE, xstate_bv);
        put32(&mut area, size, FP_XSTATE_MAGIC2);
    }
    area
}

/// Reads the FPU area at `fp_at` back, as Linux's rt_sigreturn does: the full XSAVE image
/// when the software bytes and MAGIC2 are valid, else only the legacy region (the other
/// components reset). Garbage the CPU would fault on (reserved MXCSR bits, unknown
/// XSTATE_BV bits, a non-zero reserved header, a misaligned area) is EFAULT, which kills
/// the task with SIGSEGV.
fn read_fpu_area(fp_at: u64) -> KResult<FpuState> {
    let size = fpu::xstate_size();
    let mut image = alloc::vec![0u8; size];
    let legacy = fpu::LEGACY_SIZE;
    copy_from_user(&mut image[..legacy], fp_at).map_err(|_| Errno::EFAULT)?;
    let word = |at: usize| u32::from_le_bytes(image[at..at + 4].try_into().expect("4 bytes"));
    let (magic1, extended, xstate_size) = (
        word(FPX_SW_BYTES),
        word(FPX_SW_BYTES + 4),
        word(FPX_SW_BYTES + 16) as usize,
    );
    let components = if fpu::xfeatures() != 0
        && magic1 == FP_XSTATE_MAGIC1
        && (XSAVE_MIN..=size).contains(&xstate_size)
        && xstate_size <= extended as usize
    {
        let magic2_at = fp_at.checked_add(xstate_size as u64).ok_or(Errno::EFAULT)?;
        let mut magic2 = [0u8; 4];
        copy_from_user(&mut magic2, magic2_at).map_err(|_| Errno::EFAULT)?;
        (u32::from_le_bytes(magic2) == FP_XSTATE_MAGIC2).then(|| get(&image, FPX_SW_BYTES + 8))
    } else {
        None
    };
    match components {
        Some(mask) => {
            // XRSTOR wants a 64-byte aligned image.
            if !fp_at.is_multiple_of(64) {
                return Err(Errno::EFAULT);
            }
            let header_at = fp_at.checked_add(legacy as u64).ok_or(Errno::EFAULT)?;
            copy_from_user(&mut image[legacy..XSAVE_MIN], header_at).map_err(|_| Errno::EFAULT)?;
            // The components past the header are read only when the image says they are
            // there (as XRSTOR reads them), so a short image at the end of a mapping works.
            let xstate_bv = get(&image, legacy);
            if xstate_bv & mask & !(fpu::X87 | fpu::SSE) != 0 {
                let rest_at = fp_at.checked_add(XSAVE_MIN as u64).ok_or(Errno::EFAULT)?;
                copy_from_user(&mut image[XSAVE_MIN..], rest_at).map_err(|_| Errno::EFAULT)?;
            }
        }
        // FXRSTOR wants a 16-byte aligned image.
        None if !fp_at.is_multiple_of(16) => return Err(Errno::EFAULT),
        None => {}
    }
    FpuState::from_sigframe(&image, components).map_err(|_| Errno::EFAULT)
}

fn put(buf: &mut [u8], at: usize, value: u64) {
    buf[at..at + 8].copy_from_slice(&value.to_le_bytes());
}

fn get(buf: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(buf[at..at + 8].try_into().expect("8 bytes"))
}

/// General registers in `struct sigcontext` order.
fn registers(frame: &mut TrapFrame) -> [&mut u64; 17] {
    [
        &mut frame.r8,
        &mut frame.r9,
        &mut frame.r10,
        &mut frame.r11,
        &mut frame.r12,
        &mut frame.r13,
        &mut frame.r14,
        &mut frame.r15,
        &mut frame.rdi,
        &mut frame.rsi,
        &mut frame.rbp,
        &mut frame.rbx,
        &mut frame.rdx,
        &mut frame.rax,
        &mut frame.rcx,
        &mut frame.rsp,
        &mut frame.rip,
    ]
}

fn setup_frame(
    task: &Arc<Task>,
    frame: &mut TrapFrame,
    sig: u32,
    action: SigAction,
    info: SigInfo,
) -> KResult<()> {
    // SA_ONSTACK: on the alternate stack, unless the thread is on it already (a handler
    // there was interrupted). SS_AUTODISARM disarms it until rt_sigreturn.
    let altstack = task.signals.lock().altstack;
    let on_alt = altstack.on(frame.rsp);
    let (top, red_zone) =
        if action.flags & SA_ONSTACK != 0 && altstack.flags & SS_DISABLE == 0 && !on_alt {
            let top = altstack
                .sp
                .checked_add(altstack.size)
                .ok_or(Errno::EFAULT)?;
            if altstack.flags & SS_AUTODISARM != 0 {
                task.signals.lock().altstack = AltStack::default();
            }
            (top, 0)
        } else {
            (frame.rsp, 128)
        };
    // Below the red zone: the FPU area (64-aligned), then the frame, so that at handler
    // entry (rsp + 8) is 16-aligned, as after a call. The user's rsp may be anything.
    let fp_at = top
        .checked_sub(red_zone + fpu_area_size() as u64)
        .ok_or(Errno::EFAULT)?
        & !63;
    let frame_at = (fp_at.checked_sub(FRAME as u64).ok_or(Errno::EFAULT)? & !15)
        .checked_sub(8)
        .ok_or(Errno::EFAULT)?;
    let area = {
        let mut fpu = task.fpu.lock();
        fpu.save();
        fpu_area(&fpu)
    };
    copy_to_user(fp_at, &area).map_err(|_| Errno::EFAULT)?;

    let old_mask = {
        let mut state = task.signals.lock();
        let old = state.saved_mask.take().unwrap_or(state.blocked);
        state.blocked |= action.mask & !UNBLOCKABLE;
        if action.flags & SA_NODEFER == 0 {
            state.blocked |= bit(sig);
        }
        old
    };
    if action.flags & SA_RESETHAND != 0 {
        task.sighand.lock().actions[sig as usize - 1] = SigAction::default();
    }

    let mut buf = alloc::vec![0u8; FRAME];
    put(&mut buf, 0, action.restorer);
    put(&mut buf, UCONTEXT, uc_flags());
    buf[UCONTEXT + UCONTEXT_STACK..][..STACK_T_SIZE].copy_from_slice(&altstack.to_bytes(frame.rsp));
    let mc = MCONTEXT;
    for (i, reg) in registers(frame).into_iter().enumerate() {
        put(&mut buf, mc + i * 8, *reg);
    }
    put(&mut buf, mc + SIGCONTEXT_EFLAGS, frame.rflags);
    buf[mc + SIGCONTEXT_CS..][..2].copy_from_slice(&(frame.cs as u16).to_le_bytes());
    buf[mc + SIGCONTEXT_SS..][..2].copy_from_slice(&(frame.ss as u16).to_le_bytes());
    put(&mut buf, mc + SIGCONTEXT_FPSTATE, fp_at);
    put(&mut buf, UCONTEXT + UCONTEXT_SIGMASK, old_mask);
    buf[INFO..FRAME].copy_from_slice(&info.to_bytes(sig));
    copy_to_user(frame_at, &buf).map_err(|_| Errno::EFAULT)?;

    frame.rsp = frame_at;
    frame.rip = action.handler;
    frame.rdi = u64::from(sig);
    frame.rsi = frame_at + INFO as u64;
    frame.rdx = frame_at + UCONTEXT as u64;
    frame.rax = 0;
    frame.rflags &= !0x400; // DF clear for the handler, as the ABI requires
    // The handler starts from the initial FPU state, as on Linux (the interrupted one is in
    // the frame and in task.fpu until the next switch saves the handler's).
    FpuState::restore_initial();
    Ok(())
}

/// rt_sigreturn: restores what setup_frame saved; the frame starts 8 bytes below the user's
/// rsp (the handler's `ret` popped the restorer address).
pub fn sigreturn(task: &Arc<Task>, frame: &mut TrapFrame) -> KResult<()> {
    let frame_at = frame.rsp.checked_sub(8).ok_or(Errno::EFAULT)?;
    let mut buf = alloc::vec![0u8; FRAME];
    copy_from_user(&mut buf, frame_at).map_err(|_| Errno::EFAULT)?;
    let mc = MCONTEXT;
    let saved: [u64; 17] = core::array::from_fn(|i| get(&buf, mc + i * 8));
    for (reg, value) in registers(frame).into_iter().zip(saved) {
        *reg = value;
    }
    // User-controllable flags only (IOPL, VM and the like stay as the kernel wants), IF on.
    const USER_FLAGS: u64 = 0x50dd5;
    frame.rflags =
        (frame.rflags & !USER_FLAGS) | (get(&buf, mc + SIGCONTEXT_EFLAGS) & USER_FLAGS) | 0x200;
    frame.cs = 0x23;
    frame.ss = 0x1b;
    // No FPU area (a null fpstate): the initial state, as Linux.
    let fp_at = get(&buf, mc + SIGCONTEXT_FPSTATE);
    let state = match fp_at {
        0 => FpuState::default(),
        _ => read_fpu_area(fp_at)?,
    };
    {
        let mut fpu = task.fpu.lock();
        *fpu = state;
        fpu.restore();
    }
    let mask = get(&buf, UCONTEXT + UCONTEXT_SIGMASK);
    let stack: [u8; STACK_T_SIZE] = buf[UCONTEXT + UCONTEXT_STACK..][..STACK_T_SIZE]
        .try_into()
        .expect("a stack_t");
    let mut state = task.signals.lock();
    state.blocked = mask & !UNBLOCKABLE;
    // The alternate stack as uc_stack says (re-arms an SS_AUTODISARM one); a bad one, or a
    // change while on the current one, is ignored, as Linux's restore_altstack.
    if let Ok(altstack) = AltStack::from_bytes(&stack)
        && !state.altstack.on(frame.rsp)
    {
        state.altstack = altstack;
    }
    drop(state);
    crate::process::sched::set_signal_hint(task, true);
    Ok(())
}
