//! Output processing (`OPOST`) and the cursor column it tracks, shared by `write` and echo.
//!
//! The column is what makes erasing a tab possible: the line discipline must know where the
//! cursor was before the tab to know how many backspaces undo it. Like Linux's n_tty, it
//! follows the bytes written (CR and NL reset it, backspace and tab move it).

use tessera_abi::termios::{IUTF8, OCRNL, OLCUC, ONLCR, ONLRET, ONOCR, OPOST, TABDLY, XTABS};

use crate::termios::Termios;

/// `iscntrl` of the C locale: the bytes echoed as `^X` under `ECHOCTL`.
pub(crate) fn is_control(byte: u8) -> bool {
    byte < 0x20 || byte == 0x7f
}

/// A UTF-8 continuation byte under `IUTF8`: it takes no column of its own, and erase removes
/// it together with its lead byte.
pub(crate) fn is_continuation(termios: &Termios, byte: u8) -> bool {
    termios.input(IUTF8) && byte & 0xc0 == 0x80
}

/// The cursor position the output path tracks.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Columns {
    /// Current output column.
    pub column: usize,
    /// Column at which the line being edited started: set when its first byte is echoed and
    /// by NL/CR output. Erasing a tab counts from here.
    pub canon_column: usize,
}

impl Columns {
    /// Writes one byte the way Linux's `do_output_char` does, moving the column.
    pub fn put(&mut self, termios: &Termios, byte: u8, out: &mut impl FnMut(u8)) {
        if !termios.output(OPOST) {
            out(byte);
            return;
        }
        let mut byte = byte;
        match byte {
            b'\n' => {
                if termios.output(ONLRET) {
                    self.column = 0;
                }
                if termios.output(ONLCR) {
                    self.column = 0;
                    self.canon_column = 0;
                    out(b'\r');
                    out(b'\n');
                    return;
                }
                self.canon_column = self.column;
            }
            b'\r' => {
                if termios.output(ONOCR) && self.column == 0 {
                    return;
                }
                if termios.output(OCRNL) {
                    byte = b'\n';
                    if termios.output(ONLRET) {
                        self.column = 0;
                        self.canon_column = 0;
                    }
                } else {
                    self.column = 0;
                    self.canon_column = 0;
                }
            }
            b'\t' => {
                let spaces = 8 - (self.column & 7);
                self.column += spaces;
                if termios.oflag & TABDLY == XTABS {
                    (0..spaces).for_each(|_| out(b' '));
                    return;
                }
            }
            0x08 => self.column = self.column.saturating_sub(1),
            _ if is_control(byte) => {}
            _ => {
                if termios.output(OLCUC) {
                    byte = byte.to_ascii_uppercase();
                }
                if !is_continuation(termios, byte) {
                    self.column += 1;
                }
            }
        }
        out(byte);
    }

    /// Echoes a control character as `^X` (two columns, no output processing), as `ECHOCTL`
    /// asks: `^C` for 3, `^?` for DEL.
    pub fn put_caret(&mut self, byte: u8, out: &mut impl FnMut(u8)) {
        out(b'^');
        out(byte ^ 0x40);
        self.column += 2;
    }

    /// Moves the cursor back `count` columns with raw backspaces (erasing a tab); never past
    /// column 0.
    pub fn back(&mut self, count: usize, out: &mut impl FnMut(u8)) {
        let count = count.min(self.column);
        (0..count).for_each(|_| out(0x08));
        self.column -= count;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(termios: &Termios, input: &[u8]) -> (alloc::vec::Vec<u8>, usize) {
        let mut columns = Columns::default();
        let mut out = alloc::vec::Vec::new();
        for &b in input {
            columns.put(termios, b, &mut |b| out.push(b));
        }
        (out, columns.column)
    }

    #[test]
    fn onlcr_writes_crlf() {
        let (out, column) = run(&Termios::default(), b"ab\ncd");
        assert_eq!((out.as_slice(), column), (&b"ab\r\ncd"[..], 2));
    }

    #[test]
    fn without_opost_bytes_pass_unchanged() {
        let mut t = Termios::default();
        t.oflag &= !OPOST;
        assert_eq!(run(&t, b"a\nb\t").0, b"a\nb\t");
    }

    #[test]
    fn tabs_move_to_the_next_stop_and_expand_with_xtabs() {
        let mut t = Termios::default();
        assert_eq!(run(&t, b"abc\t").1, 8);
        t.oflag |= XTABS;
        assert_eq!(run(&t, b"abc\t"), (b"abc     ".to_vec(), 8));
    }

    #[test]
    fn cr_mappings() {
        let mut t = Termios::default();
        t.oflag |= ONOCR;
        assert_eq!(run(&t, b"\rx\r").0, b"x\r", "no CR at column 0");
        t.oflag = OPOST | OCRNL;
        assert_eq!(run(&t, b"x\r").0, b"x\n");
        t.oflag = OPOST | OLCUC;
        assert_eq!(run(&t, b"aZ").0, b"AZ");
    }

    #[test]
    fn utf8_continuation_bytes_take_no_column() {
        let mut t = Termios::default();
        t.iflag |= IUTF8;
        assert_eq!(run(&t, "é".as_bytes()).1, 1);
    }
}
