//! [`LineDiscipline`]: input processing (signals, flow control, canonical lines, echo) and
//! output processing of a terminal, following Linux's `n_tty`; reads are in `read.rs`.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use tessera_abi::termios::{
    CREAD, ECHO, ECHOCTL, ECHONL, ICANON, ICRNL, IEXTEN, IGNCR, INLCR, ISIG, ISTRIP, IUCLC, IXANY,
    IXON, NOFLSH, VEOF, VEOL, VEOL2, VERASE, VINTR, VKILL, VLNEXT, VQUIT, VREPRINT, VSTART, VSTOP,
    VSUSP, VWERASE,
};

use crate::TtySignal;
use crate::output::{Columns, is_control};
use crate::termios::Termios;

/// Bytes of input a terminal buffers (Linux's `N_TTY_BUF_SIZE`); more is dropped.
pub const INPUT_CAPACITY: usize = 4096;

/// What one input byte did, for the kernel to act on.
#[derive(Debug, PartialEq, Eq)]
pub struct InputEffects<'a> {
    /// Bytes to write to the terminal now (the echo), already through output processing.
    pub echo: &'a [u8],
    /// Signal for the foreground process group (`ISIG` and `VINTR`/`VQUIT`/`VSUSP`).
    pub signal: Option<TtySignal>,
    /// Input became readable (a canonical line or EOF completed, or a non-canonical byte
    /// arrived): wake sleeping readers and pollers.
    pub wake_readers: bool,
    /// Output stopped by `VSTOP` resumed: wake writers the kernel held back (see
    /// [`LineDiscipline::output_stopped`]).
    pub output_restarted: bool,
}

/// The `N_TTY` line discipline of one terminal.
///
/// Canonical mode keeps the line being edited apart from the completed lines a read may
/// return; non-canonical mode makes every byte readable at once. Switching modes moves the
/// pending bytes over as Linux does (see [`set_termios`](Self::set_termios)).
pub struct LineDiscipline {
    pub(crate) termios: Termios,
    /// Readable bytes: the completed lines (canonical) or all input (non-canonical).
    pub(crate) queue: VecDeque<u8>,
    /// Canonical mode: lengths of the completed lines in `queue`, oldest first. A line ended
    /// by `VEOF` has no terminator byte, so an empty one is an end-of-file mark.
    pub(crate) lines: VecDeque<usize>,
    /// Canonical mode: the line being edited, not readable yet.
    pub(crate) edit: Vec<u8>,
    /// Echo of the current `input` call; reused so input does not allocate per byte.
    pub(crate) echo: Vec<u8>,
    /// Cursor column, shared by echo and written output (for erasing tabs).
    pub(crate) columns: Columns,
    /// The previous byte was `VLNEXT`: take this one literally.
    lnext: bool,
    /// `VSTOP` (or `TCXONC TCOOFF`) stopped output.
    stopped: bool,
}

impl Default for LineDiscipline {
    fn default() -> LineDiscipline {
        LineDiscipline::new()
    }
}

impl LineDiscipline {
    /// A line discipline with Linux's default settings ([`Termios::default`]).
    pub fn new() -> LineDiscipline {
        LineDiscipline {
            termios: Termios::default(),
            queue: VecDeque::new(),
            lines: VecDeque::new(),
            edit: Vec::new(),
            echo: Vec::new(),
            columns: Columns::default(),
            lnext: false,
            stopped: false,
        }
    }

    /// The current settings (`TCGETS`).
    pub fn termios(&self) -> &Termios {
        &self.termios
    }

    /// Replaces the settings (`TCSETS`). When `ICANON` changes, pending input changes shape
    /// as on Linux: entering non-canonical mode makes everything typed so far readable,
    /// including the half-edited line; entering canonical mode turns the pending bytes
    /// into one completed line.
    pub fn set_termios(&mut self, termios: Termios) {
        let was_canonical = self.canonical();
        self.termios = termios;
        if was_canonical == self.canonical() {
            return;
        }
        self.lnext = false;
        if was_canonical {
            self.queue.extend(self.edit.drain(..));
            self.lines.clear();
        } else if !self.queue.is_empty() {
            self.lines.push_back(self.queue.len());
        }
    }

    /// Drops all pending input (`TCFLSH`, `TCSETSF`, and signals without `NOFLSH`).
    pub fn flush_input(&mut self) {
        self.queue.clear();
        self.lines.clear();
        self.edit.clear();
        self.lnext = false;
    }

    /// Output is stopped by `VSTOP` or `TCXONC`. The kernel may hold writers back while it
    /// is; echo is produced regardless (Linux queues it instead, a difference only visible
    /// while stopped).
    pub fn output_stopped(&self) -> bool {
        self.stopped
    }

    /// Stops or restarts output (`TCXONC`); returns `true` if stopped output restarted.
    pub fn set_output_stopped(&mut self, stopped: bool) -> bool {
        let restarted = self.stopped && !stopped;
        self.stopped = stopped;
        restarted
    }

    pub(crate) fn canonical(&self) -> bool {
        self.termios.local(ICANON)
    }

    /// Processes one byte received from the terminal (the UART interrupt's byte). With
    /// `CREAD` clear the receiver is off and the byte is dropped, as serial drivers do.
    pub fn input(&mut self, byte: u8) -> InputEffects<'_> {
        self.echo.clear();
        let mut effects = Effects::default();
        if self.termios.cflag & CREAD != 0 {
            self.receive(byte, &mut effects);
        }
        InputEffects {
            echo: &self.echo,
            signal: effects.signal,
            wake_readers: effects.wake_readers,
            output_restarted: effects.output_restarted,
        }
    }

    /// Linux's `n_tty_receive_char_special`, in its order: literal-next, flow control,
    /// signals, CR/NL mapping, canonical editing, then an ordinary byte.
    fn receive(&mut self, byte: u8, effects: &mut Effects) {
        let t = self.termios;
        let mut c = if t.input(ISTRIP) { byte & 0x7f } else { byte };
        if t.input(IUCLC) && t.local(IEXTEN) {
            c = c.to_ascii_lowercase();
        }
        if self.lnext {
            self.lnext = false;
            if t.input(IXON) {
                self.restart_output(effects);
            }
            self.store(c, effects);
            return;
        }
        if t.input(IXON) {
            if t.is_char(c, VSTART) {
                self.restart_output(effects);
                return;
            }
            if t.is_char(c, VSTOP) {
                self.stopped = true;
                return;
            }
        }
        if t.local(ISIG) {
            let signal = [
                (VINTR, TtySignal::Int),
                (VQUIT, TtySignal::Quit),
                (VSUSP, TtySignal::Tstp),
            ]
            .into_iter()
            .find(|&(index, _)| t.is_char(c, index));
            if let Some((_, signal)) = signal {
                self.signal_char(c, signal, effects);
                return;
            }
        }
        if t.input(IXON) && t.input(IXANY) {
            self.restart_output(effects);
        }
        if c == b'\r' {
            if t.input(IGNCR) {
                return;
            }
            if t.input(ICRNL) {
                c = b'\n';
            }
        } else if c == b'\n' && t.input(INLCR) {
            c = b'\r';
        }
        if self.canonical() && self.canonical_char(c, effects) {
            return;
        }
        if !self.has_room(false) {
            return;
        }
        if t.local(ECHO) {
            if c == b'\n' {
                self.echo_raw(b'\n');
            } else {
                self.echo_char(c);
            }
        }
        self.push(c, effects);
    }

    /// A signal character: flush (unless `NOFLSH`), restart output, echo it (`^C`).
    fn signal_char(&mut self, c: u8, signal: TtySignal, effects: &mut Effects) {
        if !self.termios.local(NOFLSH) {
            self.flush_input();
        }
        if self.termios.input(IXON) {
            self.restart_output(effects);
        }
        if self.termios.local(ECHO) {
            self.echo_typed(c);
        }
        effects.signal = Some(signal);
    }

    /// Canonical-mode special characters; `false` for an ordinary byte.
    fn canonical_char(&mut self, c: u8, effects: &mut Effects) -> bool {
        let t = self.termios;
        let extended = t.local(IEXTEN);
        if t.is_char(c, VERASE) || t.is_char(c, VKILL) || (extended && t.is_char(c, VWERASE)) {
            self.erase(c);
        } else if extended && t.is_char(c, VLNEXT) {
            self.lnext = true;
            if t.local(ECHO) && t.local(ECHOCTL) {
                // Show a caret under the cursor until the literal byte overwrites it.
                self.echo_raw(b'^');
                self.echo_raw(0x08);
            }
        } else if extended && t.local(ECHO) && t.is_char(c, VREPRINT) {
            self.reprint(c);
        } else if c == b'\n' {
            if !self.has_room(true) {
                return true;
            }
            if t.local(ECHO) || t.local(ECHONL) {
                self.echo_raw(b'\n');
            }
            self.end_line(Some(c), effects);
        } else if t.is_char(c, VEOF) {
            self.end_line(None, effects);
        } else if t.is_char(c, VEOL) || (extended && t.is_char(c, VEOL2)) {
            if !self.has_room(true) {
                return true;
            }
            if t.local(ECHO) {
                self.echo_char(c);
            }
            self.end_line(Some(c), effects);
        } else {
            return false;
        }
        true
    }

    /// Room for one more byte: a line terminator (`terminator`) or an ordinary byte. In
    /// canonical mode the last free byte is kept for the terminator, so a full line can
    /// still be ended. A byte without room is dropped unechoed.
    fn has_room(&self, terminator: bool) -> bool {
        let buffered = self.queue.len() + self.edit.len();
        if !self.canonical() || terminator {
            buffered < INPUT_CAPACITY
        } else {
            buffered < INPUT_CAPACITY - 1
        }
    }

    /// A byte taken literally (after `VLNEXT`): echoed as typed (`^X` for controls).
    fn store(&mut self, c: u8, effects: &mut Effects) {
        if !self.has_room(false) {
            return;
        }
        if self.termios.local(ECHO) {
            self.echo_char(c);
        }
        self.push(c, effects);
    }

    /// Appends an ordinary byte (checked by [`has_room`](Self::has_room)) to the line being
    /// edited or the readable queue.
    fn push(&mut self, c: u8, effects: &mut Effects) {
        if self.canonical() {
            self.edit.push(c);
        } else {
            self.queue.push_back(c);
            effects.wake_readers = true;
        }
    }

    /// Completes the line being edited, with its terminator (`None` for `VEOF`, which
    /// takes no byte; the count of lines is bounded too, against a stream of `^D`s).
    fn end_line(&mut self, terminator: Option<u8>, effects: &mut Effects) {
        if self.lines.len() >= INPUT_CAPACITY {
            return;
        }
        self.edit.extend(terminator);
        self.lines.push_back(self.edit.len());
        self.queue.extend(self.edit.drain(..));
        effects.wake_readers = true;
    }

    fn restart_output(&mut self, effects: &mut Effects) {
        if self.set_output_stopped(false) {
            effects.output_restarted = true;
        }
    }

    /// Echoes a byte through output processing.
    pub(crate) fn echo_raw(&mut self, c: u8) {
        let echo = &mut self.echo;
        self.columns.put(&self.termios, c, &mut |b| echo.push(b));
    }

    /// Echoes a byte typed into the line: the first byte of a line records the column the
    /// line starts at (for erasing tabs later).
    pub(crate) fn echo_char(&mut self, c: u8) {
        if self.edit.is_empty() {
            self.columns.canon_column = self.columns.column;
        }
        self.echo_typed(c);
    }

    /// Echoes a byte as typed, `^X` for control characters other than tab under `ECHOCTL`.
    pub(crate) fn echo_typed(&mut self, c: u8) {
        if self.termios.local(ECHOCTL) && is_control(c) && c != b'\t' {
            let echo = &mut self.echo;
            self.columns.put_caret(c, &mut |b| echo.push(b));
        } else {
            self.echo_raw(c);
        }
    }

    /// Writes `bytes` from a `write` to the terminal through output processing
    /// (`OPOST`: `ONLCR` turns "\n" into "\r\n", and so on), calling `out` per device byte.
    pub fn process_output(&mut self, bytes: &[u8], out: &mut impl FnMut(u8)) {
        for &b in bytes {
            self.columns.put(&self.termios, b, out);
        }
    }
}

/// The effects of one byte, before they are lent out with the echo.
#[derive(Default)]
struct Effects {
    signal: Option<TtySignal>,
    wake_readers: bool,
    output_restarted: bool,
}
