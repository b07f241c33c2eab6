//! Signal numbers and flags, `siginfo_t` codes, and the layout of the x86_64 signal frame
//! (`asm/signal.h`, `asm-generic/signal-defs.h`, `linux/signal.h`, `asm-generic/siginfo.h`,
//! `asm/ucontext.h`, `asm/sigcontext.h`).

/// `SIGHUP` (`asm/signal.h`): hangup of the controlling terminal.
pub const SIGHUP: u32 = 1;
/// `SIGINT` (`asm/signal.h`): interrupt from the keyboard (`^C`).
pub const SIGINT: u32 = 2;
/// `SIGQUIT` (`asm/signal.h`): quit from the keyboard (`^\`).
pub const SIGQUIT: u32 = 3;
/// `SIGILL` (`asm/signal.h`): illegal instruction.
pub const SIGILL: u32 = 4;
/// `SIGTRAP` (`asm/signal.h`): trace or breakpoint trap.
pub const SIGTRAP: u32 = 5;
/// `SIGABRT` (`asm/signal.h`): `abort()`.
pub const SIGABRT: u32 = 6;
/// `SIGBUS` (`asm/signal.h`): bus error (a mapped page with nothing behind it).
pub const SIGBUS: u32 = 7;
/// `SIGFPE` (`asm/signal.h`): arithmetic exception.
pub const SIGFPE: u32 = 8;
/// `SIGKILL` (`asm/signal.h`): kill; cannot be caught, blocked or ignored.
pub const SIGKILL: u32 = 9;
/// `SIGSEGV` (`asm/signal.h`): invalid memory reference.
pub const SIGSEGV: u32 = 11;
/// `SIGPIPE` (`asm/signal.h`): write to a pipe or socket with no reader.
pub const SIGPIPE: u32 = 13;
/// `SIGALRM` (`asm/signal.h`): `alarm`/`ITIMER_REAL` expired.
pub const SIGALRM: u32 = 14;
/// `SIGTERM` (`asm/signal.h`): termination request.
pub const SIGTERM: u32 = 15;
/// `SIGCHLD` (`asm/signal.h`): a child stopped, continued or exited.
pub const SIGCHLD: u32 = 17;
/// `SIGCONT` (`asm/signal.h`): continue if stopped.
pub const SIGCONT: u32 = 18;
/// `SIGSTOP` (`asm/signal.h`): stop; cannot be caught, blocked or ignored.
pub const SIGSTOP: u32 = 19;
/// `SIGTSTP` (`asm/signal.h`): stop from the keyboard (`^Z`).
pub const SIGTSTP: u32 = 20;
/// `SIGTTIN` (`asm/signal.h`): background read from the terminal.
pub const SIGTTIN: u32 = 21;
/// `SIGTTOU` (`asm/signal.h`): background write to the terminal.
pub const SIGTTOU: u32 = 22;
/// `SIGURG` (`asm/signal.h`): urgent data on a socket.
pub const SIGURG: u32 = 23;
/// `SIGXCPU` (`asm/signal.h`): CPU time limit exceeded.
pub const SIGXCPU: u32 = 24;
/// `SIGXFSZ` (`asm/signal.h`): file size limit exceeded.
pub const SIGXFSZ: u32 = 25;
/// `SIGWINCH` (`asm/signal.h`): the terminal's window size changed.
pub const SIGWINCH: u32 = 28;
/// `SIGSYS` (`asm/signal.h`): bad system call.
pub const SIGSYS: u32 = 31;
/// `SIGRTMIN` (`asm/signal.h`): the first real-time signal. These queue (every instance is
/// delivered); the standard ones below it merge. (glibc and musl keep the first few for
/// themselves and call a higher one `SIGRTMIN`.)
pub const SIGRTMIN: u32 = 32;
/// `_NSIG` (`asm/signal.h`): signals are 1..=64.
pub const NSIG: u32 = 64;
/// `sizeof(sigset_t)` of the kernel (`_NSIG / 8`): the `sigsetsize` the `rt_sig*` calls
/// require.
pub const SIGSET_SIZE: usize = 8;

/// `SIG_DFL` (`asm-generic/signal-defs.h`): the default action.
pub const SIG_DFL: u64 = 0;
/// `SIG_IGN` (`asm-generic/signal-defs.h`): ignore the signal.
pub const SIG_IGN: u64 = 1;
/// `SA_NOCLDSTOP` (`asm/signal.h`): no SIGCHLD when a child stops or continues.
pub const SA_NOCLDSTOP: u64 = 1;
/// `SA_SIGINFO` (`asm/signal.h`): the handler takes `(sig, siginfo_t *, ucontext_t *)`.
pub const SA_SIGINFO: u64 = 4;
/// `SA_RESTORER` (`asm/signal.h`): `sa_restorer` is the return address of the handler.
pub const SA_RESTORER: u64 = 0x0400_0000;
/// `SA_ONSTACK` (`asm/signal.h`): run the handler on the alternate signal stack.
pub const SA_ONSTACK: u64 = 0x0800_0000;
/// `SA_RESTART` (`asm/signal.h`): restart system calls the signal interrupted.
pub const SA_RESTART: u64 = 0x1000_0000;
/// `SA_NODEFER` (`asm/signal.h`): do not block the signal while its handler runs.
pub const SA_NODEFER: u64 = 0x4000_0000;
/// `SA_RESETHAND` (`asm/signal.h`): reset the action to the default on delivery.
pub const SA_RESETHAND: u64 = 0x8000_0000;

/// `SIG_BLOCK` (`asm-generic/signal-defs.h`): `rt_sigprocmask` adds the set to the mask.
pub const SIG_BLOCK: u32 = 0;
/// `SIG_UNBLOCK` (`asm-generic/signal-defs.h`): removes the set from the mask.
pub const SIG_UNBLOCK: u32 = 1;
/// `SIG_SETMASK` (`asm-generic/signal-defs.h`): makes the set the mask.
pub const SIG_SETMASK: u32 = 2;

/// `SS_ONSTACK` (`linux/signal.h`): `sigaltstack`: running on the alternate stack.
pub const SS_ONSTACK: u32 = 1;
/// `SS_DISABLE` (`linux/signal.h`): `sigaltstack`: no alternate stack.
pub const SS_DISABLE: u32 = 2;
/// `SS_AUTODISARM` (`linux/signal.h`): `sigaltstack`: the stack is disarmed while a handler
/// runs on it, and re-armed by `rt_sigreturn`.
pub const SS_AUTODISARM: u32 = 1 << 31;
/// `MINSIGSTKSZ` (`asm/signal.h`): the least `ss_size` sigaltstack accepts (else ENOMEM).
pub const MINSIGSTKSZ: u64 = 2048;
/// Bytes of `stack_t` (`ss_sp`, `ss_flags` and padding, `ss_size`).
pub const STACK_T_SIZE: usize = 24;

/// `SI_USER` (`asm-generic/siginfo.h`): `si_code` of a signal sent by `kill`.
pub const SI_USER: i32 = 0;
/// `SI_KERNEL` (`asm-generic/siginfo.h`): sent by the kernel.
pub const SI_KERNEL: i32 = 0x80;
/// `SI_TKILL` (`asm-generic/siginfo.h`): sent by `tkill` or `tgkill`.
pub const SI_TKILL: i32 = -6;
/// `CLD_EXITED` (`asm-generic/siginfo.h`): SIGCHLD `si_code`: the child exited.
pub const CLD_EXITED: i32 = 1;
/// `CLD_KILLED` (`asm-generic/siginfo.h`): the child was killed.
pub const CLD_KILLED: i32 = 2;
/// `CLD_DUMPED` (`asm-generic/siginfo.h`): the child was killed and dumped core.
pub const CLD_DUMPED: i32 = 3;
/// `CLD_STOPPED` (`asm-generic/siginfo.h`): the child stopped.
pub const CLD_STOPPED: i32 = 5;
/// `CLD_CONTINUED` (`asm-generic/siginfo.h`): the stopped child continued.
pub const CLD_CONTINUED: i32 = 6;
/// `SEGV_MAPERR` (`asm-generic/siginfo.h`): SIGSEGV `si_code`: no mapping at the address.
pub const SEGV_MAPERR: i32 = 1;
/// `SEGV_ACCERR` (`asm-generic/siginfo.h`): the mapping does not allow the access.
pub const SEGV_ACCERR: i32 = 2;
/// `BUS_ADRERR` (`asm-generic/siginfo.h`): SIGBUS `si_code`: nothing behind the address (a
/// page past the end of a mapped file).
pub const BUS_ADRERR: i32 = 2;

/// `SI_MAX_SIZE` (`asm-generic/siginfo.h`): bytes of a `siginfo_t`.
pub const SIGINFO_SIZE: usize = 128;

/// `UC_FP_XSTATE` (`asm/ucontext.h`): `uc_flags`: the FPU area has extended (XSAVE) state.
pub const UC_FP_XSTATE: u64 = 0x1;
/// `UC_SIGCONTEXT_SS` (`asm/ucontext.h`): the sigcontext's `ss` is meaningful.
pub const UC_SIGCONTEXT_SS: u64 = 0x2;
/// `UC_STRICT_RESTORE_SS` (`asm/ucontext.h`): `rt_sigreturn` restores that `ss` as it is.
pub const UC_STRICT_RESTORE_SS: u64 = 0x4;

/// Bytes of x86_64 `struct sigcontext` (`asm/sigcontext.h`): r8-r15, rdi, rsi, rbp, rbx,
/// rdx, rax, rcx, rsp, rip, eflags, cs/gs/fs/ss, err, trapno, oldmask, cr2, the `fpstate`
/// pointer and 8 reserved words.
pub const SIGCONTEXT_SIZE: usize = 256;
/// Offset of `eflags` in `struct sigcontext` (`asm/sigcontext.h`), after 17 registers.
pub const SIGCONTEXT_EFLAGS: usize = 136;
/// Offset of `cs` (`u16`) in `struct sigcontext` (`asm/sigcontext.h`).
pub const SIGCONTEXT_CS: usize = 144;
/// Offset of `ss` (`u16`) in `struct sigcontext` (`asm/sigcontext.h`).
pub const SIGCONTEXT_SS: usize = 150;
/// Offset of the `fpstate` pointer in `struct sigcontext` (`asm/sigcontext.h`).
pub const SIGCONTEXT_FPSTATE: usize = 184;
/// Offset of `uc_stack` (a `stack_t`) in `struct ucontext` (`asm/ucontext.h`).
pub const UCONTEXT_STACK: usize = 16;
/// Offset of `uc_mcontext` (a `struct sigcontext`) in `struct ucontext` (`asm/ucontext.h`),
/// after `uc_flags`, `uc_link` and the 24-byte `uc_stack`.
pub const UCONTEXT_MCONTEXT: usize = 40;
/// Offset of `uc_sigmask` in `struct ucontext` (`asm/ucontext.h`).
pub const UCONTEXT_SIGMASK: usize = UCONTEXT_MCONTEXT + SIGCONTEXT_SIZE;
/// Bytes of the kernel's `struct ucontext` (`asm/ucontext.h`), ending with `uc_sigmask`.
pub const UCONTEXT_SIZE: usize = UCONTEXT_SIGMASK + SIGSET_SIZE;

/// Offset of `struct _fpx_sw_bytes` in the FPU area (`asm/sigcontext.h`): the part of the
/// 512-byte legacy region the CPU leaves to software (`sw_reserved`).
pub const FPX_SW_BYTES: usize = 464;
/// `FP_XSTATE_MAGIC1` (`asm/sigcontext.h`): first word of `_fpx_sw_bytes` when the area
/// holds XSAVE state.
pub const FP_XSTATE_MAGIC1: u32 = 0x4650_5853;
/// `FP_XSTATE_MAGIC2` (`asm/sigcontext.h`): follows the XSAVE image, so that a program that
/// copied only the legacy region (or an older layout) is recognised.
pub const FP_XSTATE_MAGIC2: u32 = 0x4650_5845;
/// `FP_XSTATE_MAGIC2_SIZE` (`asm/sigcontext.h`): bytes of that trailing magic.
pub const FP_XSTATE_MAGIC2_SIZE: usize = 4;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_frame_layout_is_linux_s() {
        // struct ucontext: uc_flags, uc_link, uc_stack (24), uc_mcontext, uc_sigmask.
        assert_eq!(UCONTEXT_SIZE, 8 + 8 + 24 + SIGCONTEXT_SIZE + 8);
        // struct sigcontext: 17 registers, then eflags, cs, gs, fs, ss, err, trapno,
        // oldmask, cr2, fpstate, reserved1[8].
        assert_eq!(SIGCONTEXT_EFLAGS, 17 * 8);
        assert_eq!(SIGCONTEXT_SS, SIGCONTEXT_CS + 3 * 2);
        assert_eq!(SIGCONTEXT_FPSTATE, SIGCONTEXT_CS + 8 + 4 * 8);
        assert_eq!(SIGCONTEXT_SIZE, SIGCONTEXT_FPSTATE + 8 + 8 * 8);
        assert_eq!(SIGSET_SIZE * 8, NSIG as usize);
    }
}
