//! [`Tty`]: one terminal device: its line discipline plus the data the job-control and
//! window-size ioctls keep (foreground process group, session, window size).

use tessera_abi::termios::WINSIZE_SIZE;

use crate::ldisc::LineDiscipline;

/// A process, process-group or session id (`pid_t`).
pub type Pid = i32;

/// `struct winsize` (`TIOCGWINSZ`/`TIOCSWINSZ`). The kernel never uses it; programs read it
/// to lay out their output, and whoever knows the real size sets it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WinSize {
    /// Rows of characters (`ws_row`).
    pub rows: u16,
    /// Columns of characters (`ws_col`).
    pub cols: u16,
    /// Width in pixels (`ws_xpixel`, unused by Linux).
    pub xpixel: u16,
    /// Height in pixels (`ws_ypixel`, unused by Linux).
    pub ypixel: u16,
}

impl Default for WinSize {
    /// 24 rows of 80 columns: a serial line reports no size, and a zero size makes BusyBox
    /// and others fall back to guesses anyway.
    fn default() -> WinSize {
        WinSize {
            rows: 24,
            cols: 80,
            xpixel: 0,
            ypixel: 0,
        }
    }
}

impl WinSize {
    /// The 8-byte image `TIOCGWINSZ` copies out.
    pub fn to_bytes(&self) -> [u8; WINSIZE_SIZE] {
        let mut bytes = [0; WINSIZE_SIZE];
        for (i, v) in [self.rows, self.cols, self.xpixel, self.ypixel]
            .into_iter()
            .enumerate()
        {
            bytes[i * 2..i * 2 + 2].copy_from_slice(&v.to_le_bytes());
        }
        bytes
    }

    /// The size in a `TIOCSWINSZ` image.
    pub fn from_bytes(bytes: &[u8; WINSIZE_SIZE]) -> WinSize {
        let half = |i: usize| u16::from_le_bytes([bytes[i * 2], bytes[i * 2 + 1]]);
        WinSize {
            rows: half(0),
            cols: half(1),
            xpixel: half(2),
            ypixel: half(3),
        }
    }
}

/// A terminal: the serial console, for instance.
///
/// The kernel keeps one per terminal device in a lock; the UART interrupt feeds
/// [`ldisc`](Self::ldisc)`.input`, `read`/`write` go through `ldisc`, and `ioctl` through
/// [`Tty::ioctl`].
pub struct Tty {
    /// The line discipline: input processing, reads, output processing.
    pub ldisc: LineDiscipline,
    pub(crate) winsize: WinSize,
    /// Session this is the controlling terminal of.
    pub(crate) session: Option<Pid>,
    /// Foreground process group: receives the signals typed, may read.
    pub(crate) foreground: Option<Pid>,
}

impl Default for Tty {
    fn default() -> Tty {
        Tty::new()
    }
}

impl Tty {
    /// A terminal with Linux's default settings, 24x80, controlling no session.
    pub fn new() -> Tty {
        Tty {
            ldisc: LineDiscipline::new(),
            winsize: WinSize::default(),
            session: None,
            foreground: None,
        }
    }

    /// The window size.
    pub fn winsize(&self) -> WinSize {
        self.winsize
    }

    /// The session this terminal controls, if any.
    pub fn session(&self) -> Option<Pid> {
        self.session
    }

    /// The foreground process group: where [`InputEffects::signal`](crate::InputEffects)
    /// goes. `None` drops typed signals.
    pub fn foreground(&self) -> Option<Pid> {
        self.foreground
    }

    /// Makes `pgrp` the foreground group, after the kernel checked what only it can (for
    /// `TIOCSPGRP`: that `pgrp` is a group of the terminal's session).
    pub fn set_foreground(&mut self, pgrp: Pid) {
        self.foreground = Some(pgrp);
    }

    /// Makes this the controlling terminal of session `sid`, with `pgrp` in the foreground.
    /// What Linux does when a session leader without one opens a terminal without
    /// `O_NOCTTY`, and what the kernel does for the first shell: without it BusyBox's sh
    /// says "can't access tty; job control turned off".
    pub fn set_controlling(&mut self, sid: Pid, pgrp: Pid) {
        self.session = Some(sid);
        self.foreground = Some(pgrp);
    }

    /// The session lets go of this terminal (its leader exited, or `TIOCNOTTY` from the
    /// leader). Returns the foreground group, to which the kernel sends `SIGHUP` and then
    /// `SIGCONT` (Linux's `disassociate_ctty`).
    pub fn disassociate(&mut self) -> Option<Pid> {
        self.session = None;
        self.foreground.take()
    }

    /// `true` when this is the controlling terminal of session `sid`.
    pub fn controls(&self, sid: Pid) -> bool {
        self.session == Some(sid)
    }

    /// `true` when a process of group `pgid` in session `sid` is a background process of
    /// this terminal: the terminal is its controlling terminal and another group is in the
    /// foreground. Such a process gets `SIGTTIN` when it reads, `SIGTTOU` when it writes
    /// under `TOSTOP` or uses an ioctl marked [`IoctlSpec::foreground_only`](crate::IoctlSpec)
    /// (unless it ignores or blocks that signal, which only the kernel knows).
    pub fn is_background(&self, pgid: Pid, sid: Pid) -> bool {
        self.controls(sid) && self.foreground.is_some_and(|fg| fg != pgid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn winsize_image_round_trips() {
        let ws = WinSize {
            rows: 50,
            cols: 132,
            xpixel: 1,
            ypixel: 2,
        };
        assert_eq!(ws.to_bytes(), [50, 0, 132, 0, 1, 0, 2, 0]);
        assert_eq!(WinSize::from_bytes(&ws.to_bytes()), ws);
        assert_eq!((WinSize::default().rows, WinSize::default().cols), (24, 80));
    }

    #[test]
    fn background_is_relative_to_the_controlling_session() {
        let mut tty = Tty::new();
        assert!(
            !tty.is_background(5, 1),
            "not a controlling terminal: no job control"
        );
        tty.set_controlling(1, 1);
        assert!(tty.is_background(5, 1));
        assert!(!tty.is_background(1, 1));
        assert!(!tty.is_background(5, 7), "another session's process");
        assert_eq!(tty.disassociate(), Some(1));
        assert_eq!((tty.session(), tty.foreground()), (None, None));
    }
}
