//! Canonical mode as a shell user sees it: line editing, echo, signals, EOF.

mod common;

use common::{feed, read, with};
use tessera_abi::termios::*;
use tessera_tty::{LineDiscipline, TtyRead, TtySignal};

#[test]
fn a_line_is_readable_only_once_complete() {
    let mut ldisc = LineDiscipline::new();
    let fx = ldisc.input(b'a');
    assert_eq!((fx.echo, fx.wake_readers), (&b"a"[..], false));
    assert_eq!(read(&mut ldisc, 10).0, TtyRead::WouldBlock);
    assert!(!ldisc.poll_readable());
    let fx = ldisc.input(b'\r');
    assert_eq!(
        (fx.echo, fx.wake_readers),
        (&b"\r\n"[..], true),
        "ICRNL, then ONLCR"
    );
    assert!(ldisc.poll_readable());
    assert_eq!(ldisc.pending_input(), 2);
    assert_eq!(read(&mut ldisc, 10), (TtyRead::Data(2), b"a\n".to_vec()));
}

#[test]
fn canonical_reads_return_one_line_at_a_time() {
    let mut ldisc = LineDiscipline::new();
    feed(&mut ldisc, b"one\ntwo\nthr");
    assert_eq!(read(&mut ldisc, 100).1, b"one\n");
    assert_eq!(
        read(&mut ldisc, 2).1,
        b"tw",
        "a short buffer gets the start of the line"
    );
    assert_eq!(read(&mut ldisc, 100).1, b"o\n");
    assert_eq!(
        read(&mut ldisc, 100).0,
        TtyRead::WouldBlock,
        "\"thr\" is still being edited"
    );
    assert_eq!(ldisc.pending_input(), 0);
}

#[test]
fn erase_removes_one_character_on_screen_and_in_the_line() {
    let mut ldisc = LineDiscipline::new();
    let (echo, _) = feed(&mut ldisc, b"cat\x7f\x7fp\n");
    assert_eq!(echo, b"cat\x08 \x08\x08 \x08p\r\n");
    assert_eq!(read(&mut ldisc, 100).1, b"cp\n");
    // Erasing an empty line does nothing, not even echo.
    assert_eq!(feed(&mut ldisc, b"\x7f").0, b"");
}

#[test]
fn erase_without_echoe_echoes_the_erase_character() {
    let mut ldisc = with(|t| t.lflag &= !ECHOE);
    assert_eq!(feed(&mut ldisc, b"ab\x7f").0, b"ab^?");
}

#[test]
fn control_characters_echo_as_caret_and_erase_as_two_columns() {
    let mut ldisc = LineDiscipline::new();
    let (echo, _) = feed(&mut ldisc, b"a\x01\x7f");
    assert_eq!(echo, b"a^A\x08 \x08\x08 \x08");
    let mut ldisc = with(|t| t.lflag &= !ECHOCTL);
    assert_eq!(
        feed(&mut ldisc, b"a\x01\x7f").0,
        b"a\x01",
        "raw control: nothing to rub out"
    );
}

#[test]
fn kill_erases_the_whole_line() {
    let mut ldisc = LineDiscipline::new();
    let (echo, _) = feed(&mut ldisc, b"rm -rf\x15ls\n");
    assert_eq!(
        echo,
        [&b"rm -rf"[..], &b"\x08 \x08".repeat(6), b"ls\r\n"].concat()
    );
    assert_eq!(read(&mut ldisc, 100).1, b"ls\n");

    // Without ECHOKE: echo the kill character, then a newline under ECHOK.
    let mut ldisc = with(|t| t.lflag &= !ECHOKE);
    assert_eq!(feed(&mut ldisc, b"ab\x15").0, b"ab^U\r\n");
    let mut ldisc = with(|t| t.lflag &= !(ECHOKE | ECHOK));
    assert_eq!(feed(&mut ldisc, b"ab\x15").0, b"ab^U");
}

#[test]
fn word_erase_removes_trailing_blanks_and_one_word() {
    let mut ldisc = LineDiscipline::new();
    feed(&mut ldisc, b"echo foo_1 bar  \x17\n");
    assert_eq!(read(&mut ldisc, 100).1, b"echo foo_1 \n");
    feed(&mut ldisc, b"a/b.c\x17\x17\n");
    assert_eq!(
        read(&mut ldisc, 100).1,
        b"a/\n",
        "punctuation separates words"
    );
    // Without IEXTEN, ^W is an ordinary (echoed) character.
    let mut ldisc = with(|t| t.lflag &= !IEXTEN);
    assert_eq!(feed(&mut ldisc, b"a\x17").0, b"a^W");
}

#[test]
fn erasing_a_tab_backs_up_to_where_it_started() {
    let mut ldisc = LineDiscipline::new();
    let mut screen = Vec::new();
    ldisc.process_output(b"$ ", &mut |b| screen.push(b)); // the prompt: column 2
    let (echo, _) = feed(&mut ldisc, b"ab\t\x7f");
    // The tab went from column 4 to 8: four backspaces undo it.
    assert_eq!(echo, b"ab\t\x08\x08\x08\x08");
    let (echo, _) = feed(&mut ldisc, b"\x7f");
    assert_eq!(echo, b"\x08 \x08");
}

#[test]
fn utf8_erase_removes_whole_code_points() {
    let mut ldisc = with(|t| t.iflag |= IUTF8);
    let (echo, _) = feed(&mut ldisc, "né\x7f\n".as_bytes());
    assert_eq!(echo, "né\x08 \x08\r\n".as_bytes());
    assert_eq!(read(&mut ldisc, 100).1, b"n\n");
}

#[test]
fn eof_at_line_start_reads_as_end_of_file() {
    let mut ldisc = LineDiscipline::new();
    let fx = ldisc.input(0x04);
    assert_eq!(
        (fx.echo, fx.wake_readers),
        (&b""[..], true),
        "^D is not echoed"
    );
    assert_eq!(read(&mut ldisc, 10).0, TtyRead::Eof);
    assert_eq!(
        read(&mut ldisc, 10).0,
        TtyRead::WouldBlock,
        "EOF is consumed by one read"
    );
}

#[test]
fn eof_after_text_ends_the_line_without_itself() {
    let mut ldisc = LineDiscipline::new();
    feed(&mut ldisc, b"abc\x04\x04");
    assert_eq!(read(&mut ldisc, 10), (TtyRead::Data(3), b"abc".to_vec()));
    assert_eq!(read(&mut ldisc, 10).0, TtyRead::Eof);
}

#[test]
fn eol_characters_end_lines_and_are_kept() {
    let mut ldisc = with(|t| {
        t.cc[VEOL] = b';';
        t.cc[VEOL2] = b'|';
    });
    feed(&mut ldisc, b"a;b|");
    assert_eq!(read(&mut ldisc, 10).1, b"a;");
    assert_eq!(read(&mut ldisc, 10).1, b"b|");
}

#[test]
fn interrupt_flushes_the_line_and_signals() {
    let mut ldisc = LineDiscipline::new();
    feed(&mut ldisc, b"done\nhalf");
    let fx = ldisc.input(0x03);
    assert_eq!((fx.echo, fx.signal), (&b"^C"[..], Some(TtySignal::Int)));
    assert_eq!(
        read(&mut ldisc, 10).0,
        TtyRead::WouldBlock,
        "both lines were flushed"
    );
    feed(&mut ldisc, b"x\n");
    assert_eq!(read(&mut ldisc, 10).1, b"x\n");
    assert_eq!(
        feed(&mut ldisc, b"\x1c\x1a").1,
        [TtySignal::Quit, TtySignal::Tstp]
    );
}

#[test]
fn noflsh_keeps_input_and_isig_off_makes_them_data() {
    let mut ldisc = with(|t| t.lflag |= NOFLSH);
    feed(&mut ldisc, b"ab\n\x03");
    assert_eq!(read(&mut ldisc, 10).1, b"ab\n");
    let mut ldisc = with(|t| t.lflag &= !ISIG);
    assert_eq!(feed(&mut ldisc, b"\x03\n"), (b"^C\r\n".to_vec(), vec![]));
    assert_eq!(read(&mut ldisc, 10).1, b"\x03\n");
}

#[test]
fn literal_next_quotes_a_special_character() {
    let mut ldisc = LineDiscipline::new();
    let (echo, signals) = feed(&mut ldisc, b"\x16\x03\x16\x7f\n");
    assert_eq!(echo, b"^\x08^C^\x08^?\r\n");
    assert!(signals.is_empty());
    assert_eq!(read(&mut ldisc, 10).1, b"\x03\x7f\n");
}

#[test]
fn reprint_echoes_the_line_again() {
    let mut ldisc = LineDiscipline::new();
    assert_eq!(feed(&mut ldisc, b"ls\x12").0, b"ls^R\r\nls");
}

#[test]
fn cr_mapping_flags() {
    let mut ldisc = with(|t| t.iflag = IGNCR);
    feed(&mut ldisc, b"a\r\n");
    assert_eq!(read(&mut ldisc, 10).1, b"a\n");
    let mut ldisc = with(|t| t.iflag = INLCR);
    feed(&mut ldisc, b"a\n\r");
    assert_eq!(
        read(&mut ldisc, 10).0,
        TtyRead::WouldBlock,
        "NL became CR; CR is not mapped"
    );
    let mut ldisc = with(|t| t.iflag = ISTRIP | ICRNL);
    feed(&mut ldisc, &[b'a' | 0x80, b'\r']);
    assert_eq!(read(&mut ldisc, 10).1, b"a\n");
}

#[test]
fn echonl_echoes_newline_without_echo() {
    let mut ldisc = with(|t| t.lflag = (t.lflag & !ECHO) | ECHONL);
    assert_eq!(feed(&mut ldisc, b"secret\n").0, b"\r\n");
}

#[test]
fn zero_length_reads_return_zero() {
    let mut ldisc = LineDiscipline::new();
    feed(&mut ldisc, b"\x04");
    assert_eq!(read(&mut ldisc, 0).0, TtyRead::Data(0));
    assert_eq!(read(&mut ldisc, 1).0, TtyRead::Eof);
}
