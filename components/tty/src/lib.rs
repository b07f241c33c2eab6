//! The terminal line discipline of Tessera's serial console, as a non-blocking state machine.
//!
//! It behaves like Linux's `n_tty` as BusyBox's shell and its line editing use it: termios
//! settings with Linux's layout and defaults, canonical line editing with echo, signal
//! characters, non-canonical reads with `VMIN`/`VTIME`, output processing, and the
//! terminal ioctls. Nothing here sleeps or touches user memory: reads say
//! [`TtyRead::WouldBlock`] and the kernel waits; ioctls take the bytes the kernel copied in
//! and return the bytes to copy out.
//!
//! | operation | what it does | kernel's follow-up |
//! |---|---|---|
//! | [`LineDiscipline::input`] | one received byte: edit, echo, signal | write [`InputEffects::echo`] to the device, signal the foreground group, wake readers |
//! | [`LineDiscipline::try_read`] | a line (canonical) or bytes per `VMIN` | `WouldBlock`: sleep (for [`read_timeout`](LineDiscipline::read_timeout) if any); `Eof`: return 0 |
//! | [`LineDiscipline::try_read_timed_out`] | the read once `VTIME` expired | return the count, maybe 0 |
//! | [`LineDiscipline::process_output`] | `OPOST` processing of written bytes | send each byte to the device |
//! | [`LineDiscipline::poll_readable`] | `POLLIN` readiness | (output is always writable) |
//! | [`ioctl_spec`] | argument shape of an ioctl, `ENOTTY` if unknown | copy `In(n)` bytes in |
//! | [`Tty::ioctl`] | apply `TCGETS`, `TCSETS*`, `TIOCSPGRP`, `TIOCGWINSZ`, ... | act on the [`IoctlResult`] |
//! | [`Tty::set_controlling`] / [`disassociate`](Tty::disassociate) | session ownership | at the first shell / when the session leader exits |
//! | [`Tty::is_background`] | job-control test | `SIGTTIN`/`SIGTTOU` |
//!
//! # How the kernel uses it
//!
//! ```
//! use tessera_tty::{Tty, TtyRead, TtySignal};
//!
//! let mut console = Tty::new(); // in a lock, fed by the UART interrupt
//! console.set_controlling(1, 1); // init's session and group
//! let mut screen = Vec::new();
//! for &byte in b"ls\x7fs -l\r" {
//!     let effects = console.ldisc.input(byte);
//!     screen.extend_from_slice(effects.echo); // to the UART
//!     assert_eq!(effects.signal, None);
//!     // effects.wake_readers: wake the tty's read queue
//! }
//! assert_eq!(screen, b"ls\x08 \x08s -l\r\n");
//! let mut buf = [0; 64];
//! assert_eq!(console.ldisc.try_read(&mut buf), TtyRead::Data(6));
//! assert_eq!(&buf[..6], b"ls -l\n");
//!
//! let effects = console.ldisc.input(0x03); // ^C
//! assert_eq!((effects.echo, effects.signal), (&b"^C"[..], Some(TtySignal::Int)));
//! // send SIGINT (effects.signal.unwrap().number()) to console.foreground()
//!
//! let mut uart = Vec::new();
//! console.ldisc.process_output(b"ok\n", &mut |byte| uart.push(byte)); // write(1, ...)
//! assert_eq!(uart, b"ok\r\n");
//! ```
//!
//! A blocking `read` loops: check [`Tty::is_background`] (`SIGTTIN`), `try_read`; on
//! `WouldBlock` sleep on the read queue, bounded by `read_timeout()` if it is `Some`, and
//! on expiry call `try_read_timed_out`. `poll` reports `POLLIN | POLLRDNORM` when
//! `poll_readable()`, and `POLLOUT | POLLWRNORM` always.
//!
//! # Differences from Linux
//!
//! - Not implemented, because nothing Tessera runs sets them or the console cannot produce
//!   them: `ECHOPRT` (printing-terminal erase), `XCASE`, `FLUSHO`, `PENDIN`, `EXTPROC`,
//!   `IMAXBEL` (Linux's n_tty does not beep either), and the break/parity flags (`BRKINT`,
//!   `IGNBRK`, `INPCK`, `IGNPAR`, `PARMRK`): [`LineDiscipline::input`] takes bytes, not
//!   line conditions.
//! - `VTIME` with `VMIN > 0` is approximated (see [`LineDiscipline::read_timeout`]).
//! - A non-canonical read waiting for `VMIN` bytes leaves partial input queued instead of
//!   copying it out early; a signal interrupting it finds the bytes still there.
//! - Echo is produced even while output is stopped (`^S`), instead of being held back.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

mod edit;
mod ioctl;
mod ldisc;
mod output;
mod read;
mod termios;
mod tty;

pub use ioctl::{IoctlArg, IoctlCaller, IoctlOut, IoctlResult, IoctlSpec, ioctl_spec};
pub use ldisc::{INPUT_CAPACITY, InputEffects, LineDiscipline};
pub use termios::Termios;
pub use tty::{Pid, Tty, WinSize};

/// Outcome of a terminal read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TtyRead {
    /// `n` bytes were read into the buffer (0 for a zero-length read, for a non-canonical
    /// read with `VMIN == 0` and nothing there, and for an expired `VTIME`).
    Data(usize),
    /// Nothing to return yet: sleep until input arrives (or the read timeout).
    WouldBlock,
    /// End of file: `VEOF` typed at the start of a line; `read` returns 0, and the next read
    /// waits for new input.
    Eof,
}

/// A signal the terminal asks the kernel to send to a process group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TtySignal {
    /// `SIGINT`, from `VINTR` (`^C`).
    Int,
    /// `SIGQUIT`, from `VQUIT` (`^\`).
    Quit,
    /// `SIGTSTP`, from `VSUSP` (`^Z`).
    Tstp,
    /// `SIGWINCH`, after the window size changed.
    Winch,
}

impl TtySignal {
    /// The Linux x86_64 signal number.
    pub const fn number(self) -> u32 {
        match self {
            TtySignal::Int => 2,
            TtySignal::Quit => 3,
            TtySignal::Tstp => 20,
            TtySignal::Winch => 28,
        }
    }
}
