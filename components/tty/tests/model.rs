//! Property tests of the line discipline against simple models: canonical editing and line
//! reads against a `Vec` model, the echoed screen against the edited line, raw mode against
//! a queue.

use std::collections::VecDeque;

use proptest::prelude::*;
use tessera_abi::termios::*;
use tessera_tty::{LineDiscipline, Termios, TtyRead};

const ERASE: u8 = 0x7f;
const KILL: u8 = 0x15;
const WERASE: u8 = 0x17;
const EOF: u8 = 0x04;

#[derive(Clone, Debug)]
enum Op {
    Input(u8),
    Read(usize),
}

fn editing_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        6 => prop::sample::select(b"ab_. 1".to_vec()),
        2 => Just(ERASE),
        1 => Just(KILL),
        1 => Just(WERASE),
        1 => prop::sample::select(vec![b'\r', b'\n']),
        1 => Just(EOF),
    ]
}

/// Linux's canonical mode, written the obvious way.
#[derive(Default)]
struct Model {
    edit: Vec<u8>,
    /// Completed lines with their terminator; an empty one is an EOF mark.
    lines: VecDeque<Vec<u8>>,
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

impl Model {
    fn input(&mut self, b: u8) {
        match b {
            ERASE => {
                self.edit.pop();
            }
            KILL => self.edit.clear(),
            WERASE => {
                while self.edit.last().is_some_and(|&c| !is_word(c)) {
                    self.edit.pop();
                }
                while self.edit.last().is_some_and(|&c| is_word(c)) {
                    self.edit.pop();
                }
            }
            b'\r' | b'\n' => {
                self.edit.push(b'\n');
                self.lines.push_back(std::mem::take(&mut self.edit));
            }
            EOF => self.lines.push_back(std::mem::take(&mut self.edit)),
            _ => self.edit.push(b),
        }
    }

    fn read(&mut self, len: usize) -> (TtyRead, Vec<u8>) {
        if len == 0 {
            return (TtyRead::Data(0), vec![]);
        }
        let Some(line) = self.lines.front_mut() else {
            return (TtyRead::WouldBlock, vec![]);
        };
        if line.is_empty() {
            self.lines.pop_front();
            return (TtyRead::Eof, vec![]);
        }
        let got: Vec<u8> = line.drain(..len.min(line.len())).collect();
        if line.is_empty() {
            self.lines.pop_front();
        }
        (TtyRead::Data(got.len()), got)
    }
}

/// A one-line terminal: what the user sees on the current row.
#[derive(Default)]
struct Screen {
    row: Vec<u8>,
    cursor: usize,
}

impl Screen {
    fn show(&mut self, bytes: &[u8]) {
        for &b in bytes {
            match b {
                0x08 => self.cursor = self.cursor.saturating_sub(1),
                b'\r' => self.cursor = 0,
                b'\t' => self.cursor = (self.cursor | 7) + 1,
                b'\n' => *self = Screen::default(),
                _ => {
                    if self.row.len() <= self.cursor {
                        self.row.resize(self.cursor + 1, b' ');
                    }
                    self.row[self.cursor] = b;
                    self.cursor += 1;
                }
            }
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.row).trim_end().to_string()
    }
}

/// How a line should look after the prompt: tabs to the next stop, controls as ^X.
fn render(prompt: &str, line: &[u8]) -> (String, usize) {
    let mut text = prompt.to_string();
    for &b in line {
        match b {
            b'\t' => {
                let stop = (text.len() | 7) + 1;
                text.extend(std::iter::repeat_n(' ', stop - text.len()));
            }
            0..0x20 | 0x7f => {
                text.push('^');
                text.push((b ^ 0x40) as char);
            }
            _ => text.push(b as char),
        }
    }
    (text.trim_end().to_string(), text.len())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn canonical_editing_matches_model(
        ops in prop::collection::vec(
            prop_oneof![4 => editing_byte().prop_map(Op::Input), 1 => (0..12usize).prop_map(Op::Read)],
            1..200,
        )
    ) {
        let mut ldisc = LineDiscipline::new();
        let mut model = Model::default();
        for op in ops {
            match op {
                Op::Input(b) => {
                    ldisc.input(b);
                    model.input(b);
                }
                Op::Read(len) => {
                    let mut buf = vec![0; len];
                    let got = ldisc.try_read(&mut buf);
                    let (want, bytes) = model.read(len);
                    prop_assert_eq!(got, want);
                    if let TtyRead::Data(n) = got {
                        prop_assert_eq!(&buf[..n], &bytes[..]);
                    }
                }
            }
            let pending: usize = model.lines.iter().map(Vec::len).sum();
            prop_assert_eq!(ldisc.pending_input(), pending);
            prop_assert_eq!(ldisc.poll_readable(), !model.lines.is_empty());
        }
    }

    #[test]
    fn echo_keeps_the_screen_equal_to_the_line(
        prompt in "[$#] {0,9}",
        typed in prop::collection::vec(
            prop_oneof![
                6 => prop::sample::select(b"ab_. \t".to_vec()),
                1 => prop::sample::select(vec![0x01u8, 0x02, 0x1b]),
                2 => Just(ERASE),
                1 => Just(KILL),
                1 => Just(WERASE),
            ],
            0..60,
        )
    ) {
        let mut ldisc = LineDiscipline::new();
        let mut screen = Screen::default();
        let mut out = Vec::new();
        ldisc.process_output(prompt.as_bytes(), &mut |b| out.push(b));
        screen.show(&out);
        let mut model = Model::default();
        for b in typed {
            screen.show(ldisc.input(b).echo);
            model.input(b);
            let (text, cursor) = render(&prompt, &model.edit);
            prop_assert_eq!(screen.text(), text);
            prop_assert_eq!(screen.cursor, cursor);
        }
    }

    #[test]
    fn raw_mode_passes_every_byte_through(
        ops in prop::collection::vec(
            prop_oneof![4 => any::<u8>().prop_map(Op::Input), 1 => (0..20usize).prop_map(Op::Read)],
            1..300,
        )
    ) {
        // cfmakeraw(): no input or output processing, no echo, no signals.
        let mut t = Termios::default();
        t.iflag &= !(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
        t.oflag &= !OPOST;
        t.lflag &= !(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
        let mut ldisc = LineDiscipline::new();
        ldisc.set_termios(t);
        let mut model = VecDeque::new();
        for op in ops {
            match op {
                Op::Input(b) => {
                    let fx = ldisc.input(b);
                    prop_assert!(fx.echo.is_empty() && fx.signal.is_none() && fx.wake_readers);
                    model.push_back(b);
                }
                Op::Read(len) => {
                    let mut buf = vec![0; len];
                    let got = ldisc.try_read(&mut buf);
                    if model.is_empty() && len > 0 {
                        prop_assert_eq!(got, TtyRead::WouldBlock);
                    } else {
                        let want: Vec<u8> = model.drain(..len.min(model.len())).collect();
                        prop_assert_eq!(got, TtyRead::Data(want.len()));
                        prop_assert_eq!(&buf[..want.len()], &want[..]);
                    }
                }
            }
        }
    }
}
