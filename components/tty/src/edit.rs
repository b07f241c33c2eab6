//! Canonical-mode line editing: erase, word erase, kill and reprint, with the echo that
//! keeps the screen in step (Linux's `eraser`).

use tessera_abi::termios::{ECHO, ECHOCTL, ECHOE, ECHOK, ECHOKE, VERASE, VKILL, VWERASE};

use crate::ldisc::LineDiscipline;
use crate::output::{is_continuation, is_control};

/// What an editing character removes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kill {
    /// `VERASE`: one character (one UTF-8 code point under `IUTF8`).
    Char,
    /// `VWERASE`: trailing non-word characters, then the word before them.
    Word,
    /// `VKILL`: the whole line.
    Line,
}

/// A word character for `VWERASE`: `isalnum` of Linux's Latin-1 `ctype` table, or `_`.
fn is_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || (byte >= 0xc0 && byte != 0xd7 && byte != 0xf7)
}

/// The on-screen erase of one character.
const RUB_OUT: &[u8] = b"\x08 \x08";

impl LineDiscipline {
    /// Applies `VERASE`, `VWERASE` or `VKILL` (`c`) to the line being edited.
    pub(crate) fn erase(&mut self, c: u8) {
        if self.edit.is_empty() {
            return;
        }
        let t = self.termios;
        let kind = if t.is_char(c, VERASE) {
            Kill::Char
        } else if t.is_char(c, VWERASE) {
            Kill::Word
        } else {
            Kill::Line
        };
        if kind == Kill::Line {
            if !t.local(ECHO) {
                self.edit.clear();
                return;
            }
            // Without all of ECHOK, ECHOKE and ECHOE the line vanishes only from the buffer:
            // show the kill character, and a newline under ECHOK.
            if !(t.local(ECHOK) && t.local(ECHOKE) && t.local(ECHOE)) {
                self.edit.clear();
                self.echo_typed(t.cc[VKILL]);
                if t.local(ECHOK) {
                    self.echo_raw(b'\n');
                }
                return;
            }
        }
        let mut seen_word = false;
        while !self.edit.is_empty() {
            // One character: a lead byte and its UTF-8 continuation bytes.
            let start = self
                .edit
                .iter()
                .rposition(|&b| !is_continuation(&t, b))
                .unwrap_or(0);
            let ch = self.edit[start];
            if is_continuation(&t, ch) {
                // Only continuation bytes left: never erase part of a character.
                break;
            }
            if kind == Kill::Word {
                if is_word(ch) {
                    seen_word = true;
                } else if seen_word {
                    break;
                }
            }
            self.edit.truncate(start);
            if t.local(ECHO) {
                self.rub_out(kind, ch);
            }
            if kind == Kill::Char {
                break;
            }
        }
    }

    /// Echo for one erased character `ch`.
    fn rub_out(&mut self, kind: Kill, ch: u8) {
        let t = self.termios;
        if kind == Kill::Char && !t.local(ECHOE) {
            self.echo_typed(t.cc[VERASE]);
        } else if ch == b'\t' {
            self.rub_out_tab();
        } else {
            // A control character echoed as ^X is two columns wide; echoed raw, none.
            let columns = match (is_control(ch), t.local(ECHOCTL)) {
                (true, true) => 2,
                (true, false) => 0,
                (false, _) => 1,
            };
            for _ in 0..columns {
                RUB_OUT.iter().for_each(|&b| self.echo_raw(b));
            }
        }
    }

    /// Moves the cursor back over an erased tab: to the column the remaining line ends at,
    /// replayed from the column the line started at.
    fn rub_out_tab(&mut self) {
        let t = self.termios;
        let mut column = self.columns.canon_column;
        for &b in &self.edit {
            if b == b'\t' {
                column = (column | 7) + 1;
            } else if is_control(b) {
                if t.local(ECHOCTL) {
                    column += 2;
                }
            } else if !is_continuation(&t, b) {
                column += 1;
            }
        }
        let echo = &mut self.echo;
        self.columns.back(8 - (column & 7), &mut |b| echo.push(b));
    }

    /// `VREPRINT`: echo the character, a newline, and the line being edited again.
    pub(crate) fn reprint(&mut self, c: u8) {
        self.echo_typed(c);
        self.echo_raw(b'\n');
        for i in 0..self.edit.len() {
            self.echo_typed(self.edit[i]);
        }
    }
}
