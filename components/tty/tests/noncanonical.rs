//! Non-canonical mode (what BusyBox's line editing uses), VMIN/VTIME, mode switches, flow
//! control, buffer limits and output processing.

mod common;

use common::{busybox_raw, feed, read, with};
use tessera_abi::termios::*;
use tessera_tty::{INPUT_CAPACITY, LineDiscipline, Termios, TtyRead};

#[test]
fn raw_mode_bytes_are_readable_at_once() {
    let mut ldisc = busybox_raw();
    let fx = ldisc.input(0x03);
    assert_eq!(
        (fx.echo, fx.signal, fx.wake_readers),
        (&b""[..], None, true)
    );
    assert_eq!(read(&mut ldisc, 10), (TtyRead::Data(1), vec![0x03]));
    feed(&mut ldisc, b"\x1b[A\x7f");
    assert_eq!(
        read(&mut ldisc, 10).1,
        b"\x1b[A\x7f",
        "escape sequences and DEL are data"
    );
    assert_eq!(read(&mut ldisc, 10).0, TtyRead::WouldBlock);
    assert_eq!(ldisc.read_timeout(), None);
    feed(&mut ldisc, b"\r");
    assert_eq!(read(&mut ldisc, 10).1, b"\n", "ICRNL still applies");
}

#[test]
fn raw_mode_echo() {
    let mut ldisc = with(|t| t.lflag &= !ICANON);
    assert_eq!(feed(&mut ldisc, b"a\x01\r").0, b"a^A\r\n");
}

#[test]
fn vmin_waits_for_enough_bytes() {
    let mut ldisc = with(|t| {
        t.lflag &= !ICANON;
        t.cc[VMIN] = 3;
    });
    feed(&mut ldisc, b"ab");
    assert_eq!(read(&mut ldisc, 10).0, TtyRead::WouldBlock);
    assert!(
        !ldisc.poll_readable(),
        "poll waits for VMIN bytes when VTIME is 0"
    );
    assert_eq!(
        read(&mut ldisc, 1),
        (TtyRead::Data(1), b"a".to_vec()),
        "min(VMIN, len)"
    );
    feed(&mut ldisc, b"cd");
    assert_eq!(read(&mut ldisc, 10), (TtyRead::Data(3), b"bcd".to_vec()));
}

#[test]
fn vmin_zero_vtime_zero_polls() {
    let mut ldisc = with(|t| {
        t.lflag &= !ICANON;
        t.cc[VMIN] = 0;
    });
    assert_eq!(read(&mut ldisc, 10).0, TtyRead::Data(0));
    feed(&mut ldisc, b"x");
    assert_eq!(read(&mut ldisc, 10).1, b"x");
}

#[test]
fn vtime_bounds_the_wait() {
    // VMIN 0, VTIME 5: wait up to 0.5 s for the first byte.
    let mut ldisc = with(|t| {
        t.lflag &= !ICANON;
        t.cc[VMIN] = 0;
        t.cc[VTIME] = 5;
    });
    assert_eq!(read(&mut ldisc, 10).0, TtyRead::WouldBlock);
    assert_eq!(ldisc.read_timeout(), Some(500));
    assert_eq!(ldisc.try_read_timed_out(&mut [0; 10]), TtyRead::Data(0));

    // VMIN 4, VTIME 1: no timer before the first byte, then an inter-byte timer.
    let mut ldisc = with(|t| {
        t.lflag &= !ICANON;
        t.cc[VMIN] = 4;
        t.cc[VTIME] = 1;
    });
    assert_eq!(ldisc.read_timeout(), None);
    feed(&mut ldisc, b"ab");
    assert_eq!(read(&mut ldisc, 10).0, TtyRead::WouldBlock);
    assert_eq!(ldisc.read_timeout(), Some(100));
    let mut buf = [0; 10];
    assert_eq!(ldisc.try_read_timed_out(&mut buf), TtyRead::Data(2));
    assert_eq!(&buf[..2], b"ab");
}

#[test]
fn switching_modes_moves_pending_input_like_linux() {
    // Canonical -> raw: the half-typed line becomes readable.
    let mut ldisc = LineDiscipline::new();
    feed(&mut ldisc, b"one\ntw");
    let mut raw = *ldisc.termios();
    raw.lflag &= !ICANON;
    ldisc.set_termios(raw);
    assert_eq!(read(&mut ldisc, 100).1, b"one\ntw");
    // Raw -> canonical: typeahead becomes one completed line.
    feed(&mut ldisc, b"ls");
    ldisc.set_termios(Termios::default());
    assert!(ldisc.poll_readable());
    assert_eq!(read(&mut ldisc, 100).1, b"ls");
    assert_eq!(read(&mut ldisc, 100).0, TtyRead::WouldBlock);
}

#[test]
fn flow_control_stops_and_restarts_output() {
    let mut ldisc = LineDiscipline::new();
    let fx = ldisc.input(0x13);
    assert_eq!((fx.echo, fx.wake_readers), (&b""[..], false));
    assert!(ldisc.output_stopped());
    assert!(
        !ldisc.input(b'a').output_restarted,
        "without IXANY only ^Q restarts"
    );
    assert!(ldisc.input(0x11).output_restarted);
    assert!(!ldisc.output_stopped());
    feed(&mut ldisc, b"\n");
    assert_eq!(read(&mut ldisc, 10).1, b"a\n", "^S and ^Q are not data");
    let mut ldisc = with(|t| t.iflag |= IXANY);
    ldisc.input(0x13);
    assert!(ldisc.input(b'x').output_restarted);
}

#[test]
fn input_beyond_the_buffer_is_dropped_but_a_line_can_still_end() {
    let mut ldisc = LineDiscipline::new();
    let long = vec![b'x'; INPUT_CAPACITY + 10];
    let (echo, _) = feed(&mut ldisc, &long);
    assert_eq!(
        echo.len(),
        INPUT_CAPACITY - 1,
        "dropped bytes are not echoed"
    );
    feed(&mut ldisc, b"\n");
    let (r, line) = read(&mut ldisc, INPUT_CAPACITY * 2);
    assert_eq!(r, TtyRead::Data(INPUT_CAPACITY));
    assert_eq!(line.last(), Some(&b'\n'));

    let mut ldisc = busybox_raw();
    feed(&mut ldisc, &long);
    assert_eq!(ldisc.pending_input(), INPUT_CAPACITY);
}

#[test]
fn output_processing() {
    let mut ldisc = LineDiscipline::new();
    let mut out = Vec::new();
    ldisc.process_output(b"a\nb\r\n", &mut |b| out.push(b));
    assert_eq!(out, b"a\r\nb\r\r\n");
    let mut ldisc = with(|t| t.oflag &= !OPOST);
    out.clear();
    ldisc.process_output(b"a\n", &mut |b| out.push(b));
    assert_eq!(out, b"a\n");
}

#[test]
fn receiver_off_drops_input() {
    let mut ldisc = with(|t| t.cflag &= !CREAD);
    let fx = ldisc.input(b'a');
    assert_eq!((fx.echo, fx.wake_readers), (&b""[..], false));
    assert_eq!(ldisc.pending_input(), 0);
}
