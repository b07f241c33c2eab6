//! Terminal ioctls, decoded and applied without touching user memory: [`ioctl_spec`] tells
//! the kernel what to copy in, [`Tty::ioctl`] returns what to copy out or do.

use tessera_abi::termios::{
    FIONREAD, TCFLSH, TCGETS, TCGETS2, TCIFLUSH, TCIOFF, TCIOFLUSH, TCION, TCOFLUSH, TCOOFF, TCOON,
    TCSBRK, TCSETS, TCSETS2, TCSETSF, TCSETSF2, TCSETSW, TCSETSW2, TCXONC, TERMIOS_SIZE,
    TERMIOS2_SIZE, TIOCGETD, TIOCGPGRP, TIOCGSID, TIOCGWINSZ, TIOCNOTTY, TIOCOUTQ, TIOCSCTTY,
    TIOCSPGRP, TIOCSWINSZ, VSTART, VSTOP, WINSIZE_SIZE,
};
use tessera_abi::{Errno, KResult};

use crate::TtySignal;
use crate::termios::Termios;
use crate::tty::{Pid, Tty, WinSize};

/// How an ioctl uses its third argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IoctlArg {
    /// A plain integer (`TCFLSH`, `TCXONC`, `TCSBRK`, `TIOCSCTTY`): pass it as `arg`.
    Value,
    /// A pointer to this many bytes, which the kernel copies in (`EFAULT` if it cannot) and
    /// passes as `arg_in`.
    In(usize),
    /// A pointer to this many bytes of result; [`IoctlResult::CopyOut`] says what to write.
    Out(usize),
    /// Unused.
    None,
}

/// What the kernel needs to know before calling [`Tty::ioctl`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoctlSpec {
    /// How the argument is passed.
    pub arg: IoctlArg,
    /// Linux refuses this to a background process of the terminal (`tty_check_change`):
    /// when [`Tty::is_background`] holds, the kernel sends `SIGTTOU` to the caller's group
    /// and restarts the call, unless the caller ignores or blocks `SIGTTOU` (then it
    /// proceeds) or its group is orphaned (then `EIO`).
    pub foreground_only: bool,
}

/// The ioctls a terminal answers, with their argument; `ENOTTY` for any other. Generic
/// file ioctls (`FIONBIO`, `FIOCLEX`, `FIONCLEX`, `FIOASYNC`) act on the open file, so the
/// kernel handles them before asking the terminal.
pub fn ioctl_spec(cmd: u32) -> KResult<IoctlSpec> {
    let (arg, foreground_only) = match cmd {
        TCGETS => (IoctlArg::Out(TERMIOS_SIZE), false),
        TCSETS | TCSETSW | TCSETSF => (IoctlArg::In(TERMIOS_SIZE), true),
        TCGETS2 => (IoctlArg::Out(TERMIOS2_SIZE), false),
        TCSETS2 | TCSETSW2 | TCSETSF2 => (IoctlArg::In(TERMIOS2_SIZE), true),
        TIOCGWINSZ => (IoctlArg::Out(WINSIZE_SIZE), false),
        TIOCSWINSZ => (IoctlArg::In(WINSIZE_SIZE), false),
        TIOCGPGRP | TIOCGSID | FIONREAD | TIOCOUTQ | TIOCGETD => (IoctlArg::Out(4), false),
        TIOCSPGRP => (IoctlArg::In(4), true),
        TCFLSH | TCXONC | TCSBRK => (IoctlArg::Value, true),
        TIOCSCTTY => (IoctlArg::Value, false),
        TIOCNOTTY => (IoctlArg::None, false),
        _ => return Err(Errno::ENOTTY),
    };
    Ok(IoctlSpec {
        arg,
        foreground_only,
    })
}

/// The process making an ioctl, as far as the terminal's rules need it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoctlCaller {
    /// Its process id.
    pub pid: Pid,
    /// Its process group.
    pub pgid: Pid,
    /// Its session (it leads the session when `pid == sid`).
    pub sid: Pid,
    /// Its session already has a controlling terminal (this one or another).
    pub has_controlling_tty: bool,
    /// It may steal a terminal from another session (`CAP_SYS_ADMIN`; root).
    pub privileged: bool,
}

/// Bytes an ioctl returns through its pointer argument (at most a `struct termios2`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoctlOut {
    buf: [u8; TERMIOS2_SIZE],
    len: usize,
}

impl IoctlOut {
    fn new(bytes: &[u8]) -> IoctlOut {
        let mut buf = [0; TERMIOS2_SIZE];
        buf[..bytes.len()].copy_from_slice(bytes);
        IoctlOut {
            buf,
            len: bytes.len(),
        }
    }

    fn int(value: i32) -> IoctlOut {
        IoctlOut::new(&value.to_le_bytes())
    }

    /// The bytes to copy to the user pointer.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// What the kernel does to finish an ioctl. Unless stated, the syscall then returns 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IoctlResult {
    /// Nothing more.
    Done,
    /// Copy these bytes to the pointer argument (`EFAULT` if that fails).
    CopyOut(IoctlOut),
    /// Send `signal` to process group `pgrp` (`SIGWINCH` after a size change).
    Signal {
        /// The signal.
        signal: TtySignal,
        /// The group (the foreground group).
        pgrp: Pid,
    },
    /// `TIOCSPGRP` passed the terminal's checks. The kernel checks that `pgrp` exists
    /// (`ESRCH`) and is in the caller's session (`EPERM`), then calls
    /// [`Tty::set_foreground`].
    SetForeground(Pid),
    /// `TIOCSCTTY` made this the controlling terminal of the caller's session (the terminal
    /// recorded it, with the caller's group in the foreground). The kernel records it as
    /// the session's terminal; `stolen_from` names the session that lost it.
    Acquired {
        /// Session whose controlling terminal this was.
        stolen_from: Option<Pid>,
    },
    /// `TIOCNOTTY`: the caller drops its controlling terminal; if it leads its session, the
    /// whole session does, the terminal already forgot it, and `hangup` is the foreground
    /// group to send `SIGHUP` then `SIGCONT`.
    Released {
        /// Group to hang up.
        hangup: Option<Pid>,
    },
    /// Output stopped by `VSTOP` resumed (`TCXONC TCOON`): wake held-back writers.
    OutputRestarted,
    /// Write this byte to the device, unprocessed (`TCXONC TCIOFF`/`TCION`).
    SendByte(u8),
}

impl Tty {
    /// Performs terminal ioctl `cmd` for `caller`: `arg` is the raw third argument and
    /// `arg_in` the bytes copied in as [`ioctl_spec`] asked (empty otherwise).
    ///
    /// Errors: `ENOTTY` for unknown commands and for job-control queries on a terminal that
    /// is not the caller's controlling terminal, `EINVAL` for bad arguments (including an
    /// `arg_in` of the wrong length), `EPERM` for a refused `TIOCSCTTY`.
    ///
    /// `TCSETSW`/`TCSETSF` would wait for output to drain; output here is written
    /// synchronously by the kernel, so they apply at once (`TCSETSF` flushing input).
    /// `TCSBRK` (`tcdrain`, `tcsendbreak`) likewise has nothing to wait for. After any
    /// `TCSETS*` the kernel wakes the terminal's readers: a mode change can make pending
    /// input readable (typeahead becomes a line when `ICANON` is turned on, `VMIN` drops).
    pub fn ioctl(
        &mut self,
        cmd: u32,
        arg: usize,
        arg_in: &[u8],
        caller: &IoctlCaller,
    ) -> KResult<IoctlResult> {
        let spec = ioctl_spec(cmd)?;
        let expected = match spec.arg {
            IoctlArg::In(n) => n,
            _ => 0,
        };
        if arg_in.len() != expected {
            return Err(Errno::EINVAL);
        }
        let out = |bytes: &[u8]| Ok(IoctlResult::CopyOut(IoctlOut::new(bytes)));
        match cmd {
            TCGETS => out(&self.ldisc.termios().to_bytes()),
            TCGETS2 => out(&self.ldisc.termios().to_bytes2()),
            TCSETS | TCSETSW | TCSETSF => {
                let image = arg_in.try_into().map_err(|_| Errno::EINVAL)?;
                let termios = Termios::from_bytes(image, self.ldisc.termios());
                self.set_termios(termios, cmd == TCSETSF)
            }
            TCSETS2 | TCSETSW2 | TCSETSF2 => {
                let image = arg_in.try_into().map_err(|_| Errno::EINVAL)?;
                self.set_termios(Termios::from_bytes2(image), cmd == TCSETSF2)
            }
            TIOCGWINSZ => out(&self.winsize.to_bytes()),
            TIOCSWINSZ => {
                let size = WinSize::from_bytes(arg_in.try_into().map_err(|_| Errno::EINVAL)?);
                let changed = size != self.winsize;
                self.winsize = size;
                Ok(match self.foreground {
                    Some(pgrp) if changed => IoctlResult::Signal {
                        signal: TtySignal::Winch,
                        pgrp,
                    },
                    _ => IoctlResult::Done,
                })
            }
            TIOCGPGRP => {
                self.check_controls(caller)?;
                Ok(IoctlResult::CopyOut(IoctlOut::int(
                    self.foreground.unwrap_or(0),
                )))
            }
            TIOCGSID => {
                self.check_controls(caller)?;
                Ok(IoctlResult::CopyOut(IoctlOut::int(
                    self.session.unwrap_or(caller.sid),
                )))
            }
            TIOCSPGRP => {
                self.check_controls(caller)?;
                let pgrp = i32::from_le_bytes(arg_in.try_into().map_err(|_| Errno::EINVAL)?);
                if pgrp < 0 {
                    return Err(Errno::EINVAL);
                }
                Ok(IoctlResult::SetForeground(pgrp))
            }
            TIOCSCTTY => self.acquire(arg, caller),
            TIOCNOTTY => {
                self.check_controls(caller)?;
                let hangup = if caller.pid == caller.sid {
                    self.disassociate()
                } else {
                    None
                };
                Ok(IoctlResult::Released { hangup })
            }
            FIONREAD => Ok(IoctlResult::CopyOut(IoctlOut::int(
                self.ldisc.pending_input() as i32,
            ))),
            // Output is never queued here: the kernel writes it to the device at once.
            TIOCOUTQ => Ok(IoctlResult::CopyOut(IoctlOut::int(0))),
            TIOCGETD => Ok(IoctlResult::CopyOut(IoctlOut::int(0))),
            TCFLSH => match arg {
                TCIFLUSH | TCIOFLUSH => {
                    self.ldisc.flush_input();
                    Ok(IoctlResult::Done)
                }
                TCOFLUSH => Ok(IoctlResult::Done),
                _ => Err(Errno::EINVAL),
            },
            TCXONC => self.flow(arg),
            TCSBRK => Ok(IoctlResult::Done),
            _ => unreachable!("ioctl_spec admitted {cmd:#x}"),
        }
    }

    fn set_termios(&mut self, termios: Termios, flush: bool) -> KResult<IoctlResult> {
        if flush {
            self.ldisc.flush_input();
        }
        self.ldisc.set_termios(termios);
        Ok(IoctlResult::Done)
    }

    /// Linux answers job-control queries only about the caller's controlling terminal.
    fn check_controls(&self, caller: &IoctlCaller) -> KResult<()> {
        if self.controls(caller.sid) {
            Ok(())
        } else {
            Err(Errno::ENOTTY)
        }
    }

    /// `TIOCSCTTY` by Linux's rules (`tiocsctty`).
    fn acquire(&mut self, steal: usize, caller: &IoctlCaller) -> KResult<IoctlResult> {
        let leader = caller.pid == caller.sid;
        if leader && self.controls(caller.sid) {
            return Ok(IoctlResult::Acquired { stolen_from: None });
        }
        if !leader || caller.has_controlling_tty {
            return Err(Errno::EPERM);
        }
        let stolen_from = self.session;
        if stolen_from.is_some() && !(steal == 1 && caller.privileged) {
            return Err(Errno::EPERM);
        }
        self.set_controlling(caller.sid, caller.pgid);
        Ok(IoctlResult::Acquired { stolen_from })
    }

    /// `TCXONC`.
    fn flow(&mut self, action: usize) -> KResult<IoctlResult> {
        let cc = self.ldisc.termios().cc;
        Ok(match action {
            TCOOFF => {
                self.ldisc.set_output_stopped(true);
                IoctlResult::Done
            }
            TCOON if self.ldisc.set_output_stopped(false) => IoctlResult::OutputRestarted,
            TCOON => IoctlResult::Done,
            TCIOFF if cc[VSTOP] != 0 => IoctlResult::SendByte(cc[VSTOP]),
            TCION if cc[VSTART] != 0 => IoctlResult::SendByte(cc[VSTART]),
            TCIOFF | TCION => IoctlResult::Done,
            _ => return Err(Errno::EINVAL),
        })
    }
}
