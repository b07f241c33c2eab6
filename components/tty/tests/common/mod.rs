//! Helpers shared by the line-discipline tests.
// Each test binary uses its own subset of these helpers.
#![allow(dead_code)]

use tessera_abi::termios::*;
use tessera_tty::{LineDiscipline, Termios, TtyRead, TtySignal};

/// Feeds `bytes`, returning everything echoed and the signals raised.
pub fn feed(ldisc: &mut LineDiscipline, bytes: &[u8]) -> (Vec<u8>, Vec<TtySignal>) {
    let mut echo = Vec::new();
    let mut signals = Vec::new();
    for &b in bytes {
        let fx = ldisc.input(b);
        echo.extend_from_slice(fx.echo);
        signals.extend(fx.signal);
    }
    (echo, signals)
}

pub fn read(ldisc: &mut LineDiscipline, len: usize) -> (TtyRead, Vec<u8>) {
    let mut buf = vec![0; len];
    let r = ldisc.try_read(&mut buf);
    let n = match r {
        TtyRead::Data(n) => n,
        _ => 0,
    };
    (r, buf[..n].to_vec())
}

pub fn with(change: impl FnOnce(&mut Termios)) -> LineDiscipline {
    let mut ldisc = LineDiscipline::new();
    let mut t = *ldisc.termios();
    change(&mut t);
    ldisc.set_termios(t);
    ldisc
}

/// What BusyBox's line editing sets: no ICANON, no ECHO, VMIN 1, VTIME 0, VINTR disabled.
pub fn busybox_raw() -> LineDiscipline {
    with(|t| {
        t.lflag &= !(ICANON | ECHO | ECHONL);
        t.cc[VMIN] = 1;
        t.cc[VTIME] = 0;
        t.cc[VINTR] = 0;
    })
}
