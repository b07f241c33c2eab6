//! Terminal numbers of the Linux x86_64 ABI: `struct termios` flags and control-character
//! indices (`asm-generic/termbits.h`), the tty ioctls (`asm-generic/ioctls.h`, which also holds
//! the generic file ioctls `FIONREAD`, `FIONBIO`, `FIOCLEX` and `FIONCLEX`, re-exported by
//! [`crate::fs`]), and the layouts those ioctls copy.
//!
//! Flag values are written in octal, as in the Linux headers, so they can be checked by eye.

/// Number of control characters in the kernel's `struct termios` (`c_cc[NCCS]`).
///
/// glibc's and musl's user-space `struct termios` have 32; the kernel only copies these 19.
pub const NCCS: usize = 19;

/// Bytes of the kernel's `struct termios` copied by `TCGETS`/`TCSETS*`: four `u32` flag words,
/// `c_line` and `c_cc[19]`, no padding.
///
/// Not the 60 bytes of musl's user-space struct: musl passes its struct straight to the ioctl
/// and the kernel touches only these first 36; glibc converts from a 36-byte kernel struct on
/// its stack, so copying more would overwrite its frame.
pub const TERMIOS_SIZE: usize = 36;

/// Bytes of `struct termios2` (`TCGETS2`/`TCSETS2*`): `struct termios` plus `c_ispeed` and
/// `c_ospeed` (`u32` each). glibc 2.42 and later use these for arbitrary baud rates.
pub const TERMIOS2_SIZE: usize = 44;

/// Bytes of `struct winsize` (`ws_row`, `ws_col`, `ws_xpixel`, `ws_ypixel`: `u16` each).
pub const WINSIZE_SIZE: usize = 8;

/// `_POSIX_VDISABLE`: a `c_cc` entry with this value disables that special character.
pub const VDISABLE: u8 = 0;

/// The `N_TTY` line discipline number (`c_line`, `TIOCGETD`).
pub const N_TTY: u8 = 0;

// c_cc indices.
/// Interrupt character (`^C`): SIGINT when `ISIG`.
pub const VINTR: usize = 0;
/// Quit character (`^\`): SIGQUIT when `ISIG`.
pub const VQUIT: usize = 1;
/// Erase character (DEL): deletes one character in canonical mode.
pub const VERASE: usize = 2;
/// Kill character (`^U`): deletes the whole line in canonical mode.
pub const VKILL: usize = 3;
/// End-of-file character (`^D`): ends the line without itself; alone it reads as EOF.
pub const VEOF: usize = 4;
/// Non-canonical read timeout in deciseconds.
pub const VTIME: usize = 5;
/// Non-canonical read minimum byte count.
pub const VMIN: usize = 6;
/// Switch character (unused by Linux).
pub const VSWTC: usize = 7;
/// Start character (`^Q`): resumes output when `IXON`.
pub const VSTART: usize = 8;
/// Stop character (`^S`): stops output when `IXON`.
pub const VSTOP: usize = 9;
/// Suspend character (`^Z`): SIGTSTP when `ISIG`.
pub const VSUSP: usize = 10;
/// Additional end-of-line character.
pub const VEOL: usize = 11;
/// Reprint character (`^R`): echoes the line again when `IEXTEN`.
pub const VREPRINT: usize = 12;
/// Discard character (`^O`; Linux's line discipline does not act on it).
pub const VDISCARD: usize = 13;
/// Word-erase character (`^W`) when `IEXTEN`.
pub const VWERASE: usize = 14;
/// Literal-next character (`^V`) when `IEXTEN`.
pub const VLNEXT: usize = 15;
/// Second additional end-of-line character, when `IEXTEN`.
pub const VEOL2: usize = 16;

/// Linux's `INIT_C_CC`: the control characters of a freshly opened terminal.
pub const DEFAULT_CC: [u8; NCCS] = [
    0o003, 0o034, 0o177, 0o025, 0o004, 0, 1, 0, 0o021, 0o023, 0o032, 0, 0o022, 0o017, 0o027, 0o026,
    0, 0, 0,
];

// c_iflag bits.
/// Ignore BREAK conditions.
pub const IGNBRK: u32 = 0o000001;
/// BREAK flushes queues and sends SIGINT.
pub const BRKINT: u32 = 0o000002;
/// Ignore bytes with parity errors.
pub const IGNPAR: u32 = 0o000004;
/// Mark parity errors.
pub const PARMRK: u32 = 0o000010;
/// Enable input parity checking.
pub const INPCK: u32 = 0o000020;
/// Strip the eighth bit of input bytes.
pub const ISTRIP: u32 = 0o000040;
/// Translate NL to CR on input.
pub const INLCR: u32 = 0o000100;
/// Ignore CR on input.
pub const IGNCR: u32 = 0o000200;
/// Translate CR to NL on input.
pub const ICRNL: u32 = 0o000400;
/// Map upper case to lower case on input (with `IEXTEN`).
pub const IUCLC: u32 = 0o001000;
/// XON/XOFF flow control of output (`VSTOP`/`VSTART`).
pub const IXON: u32 = 0o002000;
/// Any input character restarts stopped output.
pub const IXANY: u32 = 0o004000;
/// XON/XOFF flow control of input.
pub const IXOFF: u32 = 0o010000;
/// Ring the bell when the input queue is full.
pub const IMAXBEL: u32 = 0o020000;
/// Input is UTF-8: erase removes whole code points.
pub const IUTF8: u32 = 0o040000;

// c_oflag bits.
/// Enable output processing (the other `c_oflag` bits).
pub const OPOST: u32 = 0o000001;
/// Map lower case to upper case on output.
pub const OLCUC: u32 = 0o000002;
/// Map NL to CR-NL on output.
pub const ONLCR: u32 = 0o000004;
/// Map CR to NL on output.
pub const OCRNL: u32 = 0o000010;
/// Output no CR at column 0.
pub const ONOCR: u32 = 0o000020;
/// NL performs the CR function.
pub const ONLRET: u32 = 0o000040;
/// Send fill characters for delays.
pub const OFILL: u32 = 0o000100;
/// The fill character is DEL.
pub const OFDEL: u32 = 0o000200;
/// Horizontal-tab delay mask.
pub const TABDLY: u32 = 0o014000;
/// Expand tabs to spaces on output (the `TAB3` value of `TABDLY`).
pub const XTABS: u32 = 0o014000;

// c_cflag bits.
/// Baud-rate mask of the output speed.
pub const CBAUD: u32 = 0o010017;
/// Extended baud rates (57600 and up), part of `CBAUD`.
pub const CBAUDEX: u32 = 0o010000;
/// `CBAUD` value: speed given in `c_ospeed`/`c_ispeed` (termios2).
pub const BOTHER: u32 = 0o010000;
/// `CBAUD` value: 9600 baud.
pub const B9600: u32 = 0o000015;
/// `CBAUD` value: 38400 baud (the Linux default).
pub const B38400: u32 = 0o000017;
/// `CBAUD` value: 115200 baud.
pub const B115200: u32 = 0o010002;
/// Character size mask.
pub const CSIZE: u32 = 0o000060;
/// Eight data bits.
pub const CS8: u32 = 0o000060;
/// Two stop bits.
pub const CSTOPB: u32 = 0o000100;
/// Enable the receiver.
pub const CREAD: u32 = 0o000200;
/// Parity generation and checking.
pub const PARENB: u32 = 0o000400;
/// Odd parity.
pub const PARODD: u32 = 0o001000;
/// Hang up on last close.
pub const HUPCL: u32 = 0o002000;
/// Ignore modem control lines.
pub const CLOCAL: u32 = 0o004000;
/// Input baud-rate mask (`CBAUD` shifted by [`IBSHIFT`]); 0 means "same as output".
pub const CIBAUD: u32 = 0o02003600000;
/// Shift from `CBAUD` to `CIBAUD`.
pub const IBSHIFT: u32 = 16;
/// Hardware (RTS/CTS) flow control.
pub const CRTSCTS: u32 = 0o20000000000;

// c_lflag bits.
/// Generate signals for `VINTR`, `VQUIT`, `VSUSP`.
pub const ISIG: u32 = 0o000001;
/// Canonical mode: line editing, reads return lines.
pub const ICANON: u32 = 0o000002;
/// Upper-case terminal emulation (not supported by Linux's line discipline).
pub const XCASE: u32 = 0o000004;
/// Echo input characters.
pub const ECHO: u32 = 0o000010;
/// `VERASE` erases the character on screen (`"\b \b"`).
pub const ECHOE: u32 = 0o000020;
/// `VKILL` echoes a newline after the kill character.
pub const ECHOK: u32 = 0o000040;
/// Echo NL even without `ECHO`.
pub const ECHONL: u32 = 0o000100;
/// Do not flush the queues when a signal character arrives.
pub const NOFLSH: u32 = 0o000200;
/// Background writes send SIGTTOU.
pub const TOSTOP: u32 = 0o000400;
/// Echo control characters as `^X`.
pub const ECHOCTL: u32 = 0o001000;
/// Printing-terminal erase (`\` ... `/`).
pub const ECHOPRT: u32 = 0o002000;
/// `VKILL` erases the line on screen, character by character.
pub const ECHOKE: u32 = 0o004000;
/// Output is being flushed.
pub const FLUSHO: u32 = 0o010000;
/// Retype pending input at the next read.
pub const PENDIN: u32 = 0o040000;
/// Extended input processing (`VWERASE`, `VLNEXT`, `VREPRINT`, `VEOL2`, `IUCLC`).
pub const IEXTEN: u32 = 0o100000;
/// External processing (packet mode).
pub const EXTPROC: u32 = 0o200000;

/// `c_iflag` of a new Linux terminal (`tty_std_termios`).
pub const DEFAULT_IFLAG: u32 = ICRNL | IXON;
/// `c_oflag` of a new Linux terminal.
pub const DEFAULT_OFLAG: u32 = OPOST | ONLCR;
/// `c_cflag` of a new Linux terminal.
pub const DEFAULT_CFLAG: u32 = B38400 | CS8 | CREAD | HUPCL;
/// `c_lflag` of a new Linux terminal.
pub const DEFAULT_LFLAG: u32 = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN;
/// Line speed of a new Linux terminal (`c_ispeed`/`c_ospeed`).
pub const DEFAULT_SPEED: u32 = 38400;

// ioctl numbers (the third argument's use is noted for each).
/// Get `struct termios` (out: [`TERMIOS_SIZE`] bytes).
pub const TCGETS: u32 = 0x5401;
/// Set `struct termios` now (in: [`TERMIOS_SIZE`] bytes).
pub const TCSETS: u32 = 0x5402;
/// Set `struct termios` after output drains.
pub const TCSETSW: u32 = 0x5403;
/// Set `struct termios` after output drains, flushing pending input.
pub const TCSETSF: u32 = 0x5404;
/// Send a break or, with a nonzero argument, wait for output to drain (`tcdrain`).
pub const TCSBRK: u32 = 0x5409;
/// Flow control (argument: `TCOOFF`, `TCOON`, `TCIOFF`, `TCION`).
pub const TCXONC: u32 = 0x540A;
/// Flush queues (argument: `TCIFLUSH`, `TCOFLUSH`, `TCIOFLUSH`).
pub const TCFLSH: u32 = 0x540B;
/// Make this the caller's controlling terminal (argument: 1 = steal).
pub const TIOCSCTTY: u32 = 0x540E;
/// Get the foreground process group (out: `pid_t`).
pub const TIOCGPGRP: u32 = 0x540F;
/// Set the foreground process group (in: `pid_t`).
pub const TIOCSPGRP: u32 = 0x5410;
/// Bytes in the output queue (out: `int`).
pub const TIOCOUTQ: u32 = 0x5411;
/// Get the window size (out: [`WINSIZE_SIZE`] bytes).
pub const TIOCGWINSZ: u32 = 0x5413;
/// Set the window size (in: [`WINSIZE_SIZE`] bytes).
pub const TIOCSWINSZ: u32 = 0x5414;
/// Bytes ready to read (out: `int`); `TIOCINQ` is the same number.
pub const FIONREAD: u32 = 0x541B;
/// Get the line discipline (out: `int`).
pub const TIOCGETD: u32 = 0x5424;
/// Set or clear `O_NONBLOCK` (in: `int`); handled on the open file, not by the terminal.
pub const FIONBIO: u32 = 0x5421;
/// Give up the controlling terminal.
pub const TIOCNOTTY: u32 = 0x5422;
/// Clear the descriptor's close-on-exec flag; handled on the descriptor, not by the terminal.
pub const FIONCLEX: u32 = 0x5450;
/// Set the descriptor's close-on-exec flag; handled on the descriptor, not by the terminal.
pub const FIOCLEX: u32 = 0x5451;
/// Get the session of this terminal (out: `pid_t`).
pub const TIOCGSID: u32 = 0x5429;
/// Get `struct termios2` (out: [`TERMIOS2_SIZE`] bytes); `_IOR('T', 0x2A, struct termios2)`.
pub const TCGETS2: u32 = 0x802C_542A;
/// Set `struct termios2` now; `_IOW('T', 0x2B, struct termios2)`.
pub const TCSETS2: u32 = 0x402C_542B;
/// Set `struct termios2` after output drains.
pub const TCSETSW2: u32 = 0x402C_542C;
/// Set `struct termios2` after output drains, flushing pending input.
pub const TCSETSF2: u32 = 0x402C_542D;

// TCFLSH arguments.
/// Flush pending input.
pub const TCIFLUSH: usize = 0;
/// Flush unsent output.
pub const TCOFLUSH: usize = 1;
/// Flush both.
pub const TCIOFLUSH: usize = 2;

// TCXONC arguments.
/// Suspend output.
pub const TCOOFF: usize = 0;
/// Resume output.
pub const TCOON: usize = 1;
/// Send a STOP character.
pub const TCIOFF: usize = 2;
/// Send a START character.
pub const TCION: usize = 3;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ioctl_numbers_encode_the_termios2_size() {
        // _IOC(dir, 'T', nr, size) = dir << 30 | size << 16 | 'T' << 8 | nr.
        let ioc = |dir: u32, nr: u32| dir << 30 | (TERMIOS2_SIZE as u32) << 16 | 0x54 << 8 | nr;
        assert_eq!(TCGETS2, ioc(2, 0x2A));
        assert_eq!(TCSETS2, ioc(1, 0x2B));
        assert_eq!(TCSETSW2, ioc(1, 0x2C));
        assert_eq!(TCSETSF2, ioc(1, 0x2D));
    }

    #[test]
    fn default_control_characters_match_linux() {
        assert_eq!(DEFAULT_CC[VINTR], 3);
        assert_eq!(DEFAULT_CC[VQUIT], 0x1c);
        assert_eq!(DEFAULT_CC[VERASE], 0x7f);
        assert_eq!(DEFAULT_CC[VKILL], 0x15);
        assert_eq!(DEFAULT_CC[VEOF], 4);
        assert_eq!((DEFAULT_CC[VMIN], DEFAULT_CC[VTIME]), (1, 0));
        assert_eq!(DEFAULT_CC[VSUSP], 0x1a);
        assert_eq!(DEFAULT_CC[VWERASE], 0x17);
        assert_eq!(DEFAULT_CC[VLNEXT], 0x16);
        assert_eq!(TERMIOS_SIZE, 4 * 4 + 1 + NCCS);
    }
}
