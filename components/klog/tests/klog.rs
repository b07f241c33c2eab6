//! The kernel log's ring and syslog reading rules, checked against what Linux 6.1 does
//! (`syslog(2)`, `kernel/printk/printk.c`), as far as a ring of text can show it.

use tessera_klog::{ConsoleLevel, InvalidLevel, Klog, LogBuffer, level};

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn read_all<const N: usize>(ring: &LogBuffer<N>, len: usize) -> String {
    let mut out = vec![0u8; len];
    let n = ring.read_all(&mut out);
    text(&out[..n])
}

fn read<const N: usize>(ring: &mut LogBuffer<N>, len: usize) -> String {
    let mut out = vec![0u8; len];
    let n = ring.read(&mut out);
    text(&out[..n])
}

#[test]
fn records_carry_level_and_time_as_linux_prints_them() {
    let mut ring = LogBuffer::<4096>::new();
    ring.push(level::NOTICE, 0, b"Linux version");
    ring.push(level::INFO, 1_234_567_890, b"second");
    ring.push(level::DEBUG, 123_456_000_000_999, b"late");
    assert_eq!(
        read_all(&ring, 4096),
        "<5>[    0.000000] Linux version\n<6>[    1.234567] second\n<7>[123456.000000] late\n"
    );
    assert_eq!(ring.capacity(), 4096);
}

#[test]
fn read_all_returns_the_newest_whole_records_that_fit() {
    let mut ring = LogBuffer::<4096>::new();
    for i in 0..5 {
        ring.push(level::INFO, 0, format!("line {i}").as_bytes());
    }
    let one = "<6>[    0.000000] line 4\n".len();
    assert_eq!(read_all(&ring, one), "<6>[    0.000000] line 4\n");
    assert_eq!(read_all(&ring, one + 1), "<6>[    0.000000] line 4\n");
    assert_eq!(read_all(&ring, one - 1), "", "not even one record fits");
    assert_eq!(read_all(&ring, 2 * one).matches('\n').count(), 2);
    assert_eq!(read_all(&ring, 0), "");
    // Reading all does not consume anything.
    assert_eq!(ring.unread(), 5 * one);
}

#[test]
fn a_full_ring_drops_whole_records_oldest_first() {
    let mut ring = LogBuffer::<100>::new();
    let mut pushed = Vec::new();
    for i in 0..50 {
        let line = format!("message {i:02}");
        ring.push(level::INFO, 0, line.as_bytes());
        pushed.push(format!("<6>[    0.000000] {line}\n"));
        let all = read_all(&ring, 100);
        assert!(all.len() <= 100);
        // What is kept is a suffix of what was logged, whole records only.
        let kept = all.matches('\n').count();
        assert!(kept >= 1);
        assert_eq!(all, pushed[pushed.len() - kept..].concat());
        assert_eq!(ring.len_since_clear(), all.len());
    }
    // 31 bytes a record: three fit in 100.
    assert_eq!(read_all(&ring, 1000).matches('\n').count(), 3);
}

#[test]
fn a_record_longer_than_the_ring_is_cut() {
    let mut ring = LogBuffer::<64>::new();
    ring.push(level::INFO, 0, &[b'x'; 200]);
    let all = read_all(&ring, 64);
    assert_eq!(all.len(), 64);
    assert!(all.starts_with("<6>[    0.000000] xxx") && all.ends_with("x\n"));
}

#[test]
fn newlines_inside_a_record_become_spaces() {
    let mut ring = LogBuffer::<256>::new();
    ring.push(level::ERR, 0, b"a\nb");
    assert_eq!(read_all(&ring, 256), "<3>[    0.000000] a b\n");
}

#[test]
fn clear_hides_older_records_from_read_all_only() {
    let mut ring = LogBuffer::<4096>::new();
    ring.push(level::INFO, 0, b"before");
    let before = ring.unread();
    ring.clear();
    assert_eq!(read_all(&ring, 4096), "");
    assert_eq!(ring.len_since_clear(), 0);
    assert_eq!(
        ring.unread(),
        before,
        "the reader position is not moved by CLEAR"
    );
    ring.push(level::INFO, 0, b"after");
    assert_eq!(read_all(&ring, 4096), "<6>[    0.000000] after\n");
    assert_eq!(
        read(&mut ring, 4096),
        "<6>[    0.000000] before\n<6>[    0.000000] after\n"
    );
}

#[test]
fn read_consumes_whole_records_or_a_part_of_one_that_does_not_fit() {
    let mut ring = LogBuffer::<4096>::new();
    ring.push(level::INFO, 0, b"first record");
    ring.push(level::INFO, 0, b"second");
    let total = ring.unread();
    // As Linux: a READ of 10 bytes returns 10 bytes of the first record.
    assert_eq!(read(&mut ring, 10), "<6>[    0.");
    assert_eq!(ring.unread(), total - 10);
    // The rest of the first record fits; the second does not fit after it.
    let rest = "000000] first record\n";
    assert_eq!(read(&mut ring, rest.len() + 5), rest);
    assert_eq!(read(&mut ring, 4096), "<6>[    0.000000] second\n");
    assert_eq!(ring.unread(), 0);
    assert_eq!(read(&mut ring, 4096), "");
    assert_eq!(read(&mut ring, 0), "");
}

#[test]
fn read_skips_what_the_ring_dropped() {
    let mut ring = LogBuffer::<64>::new();
    for i in 0..10 {
        ring.push(level::INFO, 0, format!("m{i}").as_bytes());
    }
    let got = read(&mut ring, 64);
    assert_eq!(got, read_all(&ring, 64));
    assert!(got.ends_with("m9\n"));
    assert_eq!(ring.unread(), 0);
}

#[test]
fn printed_text_is_gathered_into_lines() {
    let mut log = Klog::<4096>::new();
    log.write(level::INFO, 5_000, b"one ");
    log.write(level::ERR, 9_000_000, b"line\r\ntwo\n\nthree");
    assert_eq!(
        read_all(log.ring(), 4096),
        "<6>[    0.000005] one line\n<3>[    0.009000] two\n<3>[    0.009000] \n"
    );
    // A log record ends the pending line first.
    log.record(level::WARNING, 10_000_000, b"warn");
    assert!(
        read_all(log.ring(), 4096).ends_with("<3>[    0.009000] three\n<4>[    0.010000] warn\n")
    );
    log.flush();
    log.flush();
    assert_eq!(read_all(log.ring(), 4096).matches('\n').count(), 5);
    log.ring_mut().clear();
    assert_eq!(log.ring().len_since_clear(), 0);
}

#[test]
fn long_lines_are_cut() {
    let mut log = Klog::<8192>::new();
    log.write(level::INFO, 0, &[b'y'; 3000]);
    log.write(level::INFO, 0, b"\n");
    let all = read_all(log.ring(), 8192);
    assert_eq!(
        all.len(),
        "<6>[    0.000000] ".len() + tessera_klog::LINE_MAX + 1
    );
}

#[test]
fn console_level_follows_linux() {
    let mut console = ConsoleLevel::new(ConsoleLevel::DEFAULT);
    assert!(console.prints(level::INFO));
    assert!(!console.prints(level::DEBUG));
    assert_eq!(console.set(0), Err(InvalidLevel));
    assert_eq!(console.set(9), Err(InvalidLevel));
    assert_eq!(console.set(-1), Err(InvalidLevel));
    console.set(4).unwrap();
    assert!(console.prints(level::ERR) && !console.prints(level::WARNING));
    console.off();
    assert_eq!(console.level(), ConsoleLevel::MIN);
    assert!(console.prints(level::EMERG) && !console.prints(level::ALERT));
    console.off();
    console.on();
    assert_eq!(
        console.level(),
        4,
        "off twice, on once: the first saved level"
    );
    console.on();
    assert_eq!(console.level(), 4);
    console.off();
    console.set(6).unwrap();
    console.on();
    assert_eq!(console.level(), 6, "a set level forgets what off saved");
}
