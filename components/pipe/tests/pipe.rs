//! Behaviour of `Pipe` at the edges Linux defines: PIPE_BUF atomicity, EOF, EPIPE, faults
//! in the user copies, poll bits.

mod common;

use common::{UserDst, UserSrc, open_pipe, read, write};
use tessera_abi::{Errno, KResult};
use tessera_pipe::{PIPE_BUF, PIPE_CAPACITY, Pipe, PipeRead, PipeWrite, PollEvents};

fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Fills the pipe so that exactly `free` bytes of room remain.
fn fill_leaving(pipe: &mut Pipe, free: usize) {
    let n = pipe.free() - free;
    let mut done = 0;
    while done < n {
        let chunk = (n - done).min(PIPE_BUF);
        assert_eq!(write(pipe, &bytes(chunk, 1)), Ok(PipeWrite::Wrote(chunk)));
        done += chunk;
    }
    assert_eq!(pipe.free(), free);
}

#[test]
fn fast_path_is_one_callback_per_direction() {
    let mut pipe = open_pipe();
    let mut src = UserSrc::new(bytes(100, 0));
    let r = pipe.try_write(100, &mut |d| src.copy_in(d));
    assert_eq!((r, src.calls), (Ok(PipeWrite::Wrote(100)), 1));
    let mut dst = UserDst::new(100);
    let r = pipe.try_read(&mut |s| dst.copy_out(s));
    assert_eq!((r, dst.calls), (Ok(PipeRead::Data(100)), 1));
    assert_eq!(dst.buf, bytes(100, 0));
}

#[test]
fn small_writes_are_all_or_nothing() {
    let mut pipe = open_pipe();
    fill_leaving(&mut pipe, PIPE_BUF - 1);
    assert_eq!(
        write(&mut pipe, &bytes(PIPE_BUF, 2)),
        Ok(PipeWrite::WouldBlock)
    );
    assert_eq!(
        pipe.free(),
        PIPE_BUF - 1,
        "a refused atomic write stores nothing"
    );
    assert_eq!(
        write(&mut pipe, &bytes(PIPE_BUF - 1, 2)),
        Ok(PipeWrite::Wrote(PIPE_BUF - 1))
    );
    assert_eq!(write(&mut pipe, &[1]), Ok(PipeWrite::WouldBlock));
}

#[test]
fn large_writes_take_what_fits() {
    let mut pipe = open_pipe();
    fill_leaving(&mut pipe, 100);
    assert_eq!(
        write(&mut pipe, &bytes(PIPE_BUF + 1, 3)),
        Ok(PipeWrite::Wrote(100))
    );
    assert_eq!(
        write(&mut pipe, &bytes(PIPE_BUF + 1, 3)),
        Ok(PipeWrite::WouldBlock)
    );

    let mut pipe = open_pipe();
    let big = bytes(PIPE_CAPACITY + 5000, 4);
    assert_eq!(write(&mut pipe, &big), Ok(PipeWrite::Wrote(PIPE_CAPACITY)));
    let (r, got) = read(&mut pipe, PIPE_CAPACITY * 2);
    assert_eq!(r, Ok(PipeRead::Data(PIPE_CAPACITY)));
    assert_eq!(got, big[..PIPE_CAPACITY]);
}

#[test]
fn reads_cross_the_wrap_in_one_call() {
    let mut pipe = open_pipe();
    fill_leaving(&mut pipe, 0);
    assert_eq!(
        read(&mut pipe, PIPE_CAPACITY - 10).0,
        Ok(PipeRead::Data(PIPE_CAPACITY - 10))
    );
    let data = bytes(1000, 5);
    let mut src = UserSrc::new(data.clone());
    let r = pipe.try_write(1000, &mut |d| src.copy_in(d));
    // The 10 unread bytes end at the buffer's end, so the room is one slice from offset 0.
    assert_eq!((r, src.calls), (Ok(PipeWrite::Wrote(1000)), 1));
    let mut dst = UserDst::new(2000);
    let r = pipe.try_read(&mut |s| dst.copy_out(s));
    assert_eq!(r, Ok(PipeRead::Data(1010)));
    assert_eq!(dst.calls, 2, "one slice before the wrap, one after");
    assert_eq!(dst.buf[10..], data);
}

#[test]
fn eof_only_when_empty_and_writerless() {
    let mut pipe = open_pipe();
    assert_eq!(read(&mut pipe, 10).0, Ok(PipeRead::WouldBlock));
    write(&mut pipe, b"tail").unwrap();
    pipe.open_writer();
    assert!(!pipe.close_writer(), "another writer is still open");
    assert!(pipe.close_writer());
    assert_eq!(
        read(&mut pipe, 10),
        (Ok(PipeRead::Data(4)), b"tail".to_vec())
    );
    assert_eq!(read(&mut pipe, 10).0, Ok(PipeRead::Eof));
    assert_eq!(read(&mut pipe, 10).0, Ok(PipeRead::Eof));
}

#[test]
fn writing_without_readers_is_a_broken_pipe() {
    let mut pipe = open_pipe();
    assert!(pipe.close_reader());
    assert_eq!(write(&mut pipe, b"x"), Ok(PipeWrite::BrokenPipe));
    assert_eq!(
        write(&mut pipe, &bytes(PIPE_CAPACITY * 2, 0)),
        Ok(PipeWrite::BrokenPipe)
    );
    assert_eq!(
        write(&mut pipe, b""),
        Ok(PipeWrite::Wrote(0)),
        "a null write succeeds first"
    );
    // A full pipe whose reader leaves: the sleeping writer wakes to EPIPE, not WouldBlock.
    let mut pipe = open_pipe();
    fill_leaving(&mut pipe, 0);
    pipe.close_reader();
    assert_eq!(write(&mut pipe, b"x"), Ok(PipeWrite::BrokenPipe));
}

#[test]
fn faulting_source_writes_the_bytes_before_the_fault() {
    let mut pipe = open_pipe();
    let mut src = UserSrc::new(bytes(100, 6));
    src.valid = 40;
    assert_eq!(
        pipe.try_write(100, &mut |d| src.copy_in(d)),
        Ok(PipeWrite::Wrote(40))
    );
    assert_eq!(pipe.len(), 40);

    let mut src = UserSrc::new(bytes(100, 6));
    src.valid = 0;
    assert_eq!(
        pipe.try_write(100, &mut |d| src.copy_in(d)),
        Err(Errno::EFAULT)
    );
    assert_eq!(pipe.len(), 40, "a fault before any byte stores nothing");

    // The fault hits the second slice, after the wrap.
    // Stored: [100, CAPACITY - 30); room: 30 bytes to the end, then 100 at the start.
    let mut pipe = open_pipe();
    fill_leaving(&mut pipe, 30);
    assert_eq!(read(&mut pipe, 100).0, Ok(PipeRead::Data(100)));
    let mut src = UserSrc::new(bytes(PIPE_BUF * 2, 7));
    src.valid = 30;
    let r = pipe.try_write(PIPE_BUF * 2, &mut |d| src.copy_in(d));
    assert_eq!((r, src.calls), (Ok(PipeWrite::Wrote(30)), 2));
    assert_eq!(pipe.free(), 100);
}

#[test]
fn faulting_destination_keeps_the_unread_bytes() {
    let mut pipe = open_pipe();
    write(&mut pipe, &bytes(50, 8)).unwrap();
    let mut dst = UserDst::new(100);
    dst.valid = 10;
    assert_eq!(
        pipe.try_read(&mut |s| dst.copy_out(s)),
        Ok(PipeRead::Data(10))
    );
    assert_eq!(pipe.len(), 40);

    let mut dst = UserDst::new(100);
    dst.valid = 0;
    assert_eq!(pipe.try_read(&mut |s| dst.copy_out(s)), Err(Errno::EFAULT));
    assert_eq!(pipe.len(), 40);
    assert_eq!(read(&mut pipe, 100).1, bytes(50, 8)[10..]);
}

#[test]
fn zero_length_destination_reads_nothing() {
    let mut pipe = open_pipe();
    write(&mut pipe, b"abc").unwrap();
    assert_eq!(read(&mut pipe, 0).0, Ok(PipeRead::Data(0)));
    assert_eq!(pipe.len(), 3);
}

#[test]
fn poll_bits_follow_linux() {
    let mut pipe = open_pipe();
    let ready_out = PollEvents::OUT | PollEvents::WRNORM;
    let ready_in = PollEvents::IN | PollEvents::RDNORM;
    assert_eq!(pipe.poll_read(), PollEvents::empty());
    assert_eq!(pipe.poll_write(), ready_out);
    write(&mut pipe, b"x").unwrap();
    assert_eq!(pipe.poll_read(), ready_in);
    fill_leaving(&mut pipe, PIPE_BUF);
    assert_eq!(pipe.poll_write(), ready_out);
    write(&mut pipe, b"x").unwrap();
    assert_eq!(
        pipe.poll_write(),
        PollEvents::empty(),
        "no room for an atomic write"
    );
    pipe.close_reader();
    assert_eq!(pipe.poll_write(), PollEvents::ERR);
    pipe.close_writer();
    assert_eq!(pipe.poll_read(), ready_in | PollEvents::HUP);
    assert_eq!(PollEvents::HUP.bits(), 0x10);
}

/// Peeks up to `len` bytes (the hold taken).
fn peek(pipe: &mut Pipe, len: usize) -> (KResult<PipeRead>, Vec<u8>) {
    let mut dst = UserDst::new(len);
    let r = pipe.try_peek(&mut |src| dst.copy_out(src));
    (r, dst.buf)
}

#[test]
fn peek_then_consume_takes_only_what_went() {
    let mut pipe = open_pipe();
    write(&mut pipe, &bytes(100, 9)).unwrap();
    assert_eq!(
        peek(&mut pipe, 60),
        (Ok(PipeRead::Data(60)), bytes(100, 9)[..60].to_vec())
    );
    assert_eq!(pipe.len(), 100, "peeking consumes nothing");
    pipe.consume(25);
    assert_eq!(pipe.len(), 75);
    assert_eq!(read(&mut pipe, 200).1, bytes(100, 9)[25..]);
}

#[test]
fn held_bytes_keep_other_readers_waiting() {
    let mut pipe = open_pipe();
    write(&mut pipe, b"abcdef").unwrap();
    assert_eq!(peek(&mut pipe, 10).0, Ok(PipeRead::Data(6)));
    assert_eq!(read(&mut pipe, 10), (Ok(PipeRead::WouldBlock), vec![]));
    assert_eq!(peek(&mut pipe, 10).0, Ok(PipeRead::WouldBlock));
    assert_eq!(pipe.read_status(), PipeRead::WouldBlock);
    // Even with the writers gone: the holder may leave bytes behind.
    pipe.close_writer();
    assert_eq!(read(&mut pipe, 10).0, Ok(PipeRead::WouldBlock));
    // tee reads through a hold.
    let mut seen = Vec::new();
    let copied = pipe.peek(&mut |s| {
        seen.extend_from_slice(s);
        Ok(s.len())
    });
    assert_eq!((copied, seen.as_slice()), (Ok(6), &b"abcdef"[..]));
    pipe.consume(2);
    assert_eq!(pipe.read_status(), PipeRead::Data(4));
    assert_eq!(
        read(&mut pipe, 10),
        (Ok(PipeRead::Data(4)), b"cdef".to_vec())
    );
    assert_eq!(peek(&mut pipe, 10).0, Ok(PipeRead::Eof));
}

#[test]
fn peek_outcomes_are_reads_outcomes() {
    let mut pipe = open_pipe();
    assert_eq!(peek(&mut pipe, 10).0, Ok(PipeRead::WouldBlock));
    assert_eq!(pipe.read_status(), PipeRead::WouldBlock);
    write(&mut pipe, b"xyz").unwrap();
    let mut dst = UserDst::new(10);
    dst.valid = 0;
    assert_eq!(pipe.try_peek(&mut |s| dst.copy_out(s)), Err(Errno::EFAULT));
    assert_eq!(
        pipe.read_status(),
        PipeRead::Data(3),
        "a failed peek takes no hold"
    );
    pipe.close_writer();
    assert_eq!(read(&mut pipe, 10).0, Ok(PipeRead::Data(3)));
    assert_eq!(peek(&mut pipe, 10).0, Ok(PipeRead::Eof));
    assert_eq!(pipe.read_status(), PipeRead::Eof);
}

#[test]
fn peeks_cross_the_wrap() {
    let mut pipe = open_pipe();
    fill_leaving(&mut pipe, 0);
    assert_eq!(
        read(&mut pipe, PIPE_CAPACITY - 10).0,
        Ok(PipeRead::Data(PIPE_CAPACITY - 10))
    );
    let tail = bytes(500, 3);
    write(&mut pipe, &tail).unwrap();
    let mut calls = 0;
    let mut seen = Vec::new();
    let copied = pipe.peek(&mut |s| {
        calls += 1;
        seen.extend_from_slice(s);
        Ok(s.len())
    });
    assert_eq!((copied, calls), (Ok(510), 2));
    assert_eq!(seen[10..], tail);
    // A destination that fills in the first slice stops there.
    let (r, got) = peek(&mut pipe, 4);
    assert_eq!((r, got.len()), (Ok(PipeRead::Data(4)), 4));
    pipe.consume(10);
    assert_eq!(read(&mut pipe, 1000).1, tail);
}

#[test]
#[should_panic(expected = "consume without try_peek")]
fn consuming_without_a_hold_panics() {
    let mut pipe = open_pipe();
    write(&mut pipe, b"a").unwrap();
    pipe.consume(1);
}

#[test]
fn reserved_room_is_kept_for_its_writer() {
    let mut pipe = open_pipe();
    fill_leaving(&mut pipe, 3000);
    assert_eq!(pipe.try_reserve(2000), PipeWrite::Wrote(2000));
    assert_eq!(pipe.free(), 1000);
    // An atomic write needs all its bytes to fit in what is left.
    assert_eq!(write(&mut pipe, &bytes(1500, 1)), Ok(PipeWrite::WouldBlock));
    assert_eq!(
        write(&mut pipe, &bytes(1000, 1)),
        Ok(PipeWrite::Wrote(1000))
    );
    assert_eq!(pipe.try_reserve(10), PipeWrite::WouldBlock);
    assert_eq!(pipe.poll_write(), PollEvents::empty());
    // The reader drains everything; the reservation is committed after the other write.
    let (r, _) = read(&mut pipe, PIPE_CAPACITY);
    assert_eq!(r, Ok(PipeRead::Data(PIPE_CAPACITY - 2000)));
    pipe.commit(2000, b"late");
    assert_eq!(pipe.free(), PIPE_CAPACITY - 4);
    assert_eq!(read(&mut pipe, 100).1, b"late");
}

#[test]
fn reservations_take_what_room_there_is() {
    let mut pipe = open_pipe();
    fill_leaving(&mut pipe, 10);
    assert_eq!(
        pipe.try_reserve(PIPE_BUF),
        PipeWrite::Wrote(10),
        "no PIPE_BUF rule"
    );
    pipe.commit(10, &bytes(10, 2));
    assert_eq!(pipe.try_reserve(1), PipeWrite::WouldBlock);
    assert_eq!(pipe.try_reserve(0), PipeWrite::Wrote(0));
    pipe.close_reader();
    assert_eq!(pipe.try_reserve(1), PipeWrite::BrokenPipe);

    // Two reservations at once, committed in either order; a commit of fewer bytes than
    // reserved frees the rest.
    let mut pipe = open_pipe();
    assert_eq!(pipe.try_reserve(100), PipeWrite::Wrote(100));
    assert_eq!(
        pipe.try_reserve(PIPE_CAPACITY),
        PipeWrite::Wrote(PIPE_CAPACITY - 100)
    );
    pipe.commit(PIPE_CAPACITY - 100, b"second");
    pipe.commit(100, b"");
    assert_eq!(pipe.free(), PIPE_CAPACITY - 6);
    assert_eq!(read(&mut pipe, 100).1, b"second");
}

#[test]
fn commits_cross_the_wrap() {
    let mut pipe = open_pipe();
    fill_leaving(&mut pipe, 0);
    assert_eq!(
        read(&mut pipe, PIPE_CAPACITY - 10).0,
        Ok(PipeRead::Data(PIPE_CAPACITY - 10))
    );
    // 10 bytes stored at the buffer's end; room: the rest of the buffer, wrapping.
    assert_eq!(pipe.try_reserve(50), PipeWrite::Wrote(50));
    let data = bytes(50, 4);
    pipe.commit(50, &data);
    let (r, got) = read(&mut pipe, 100);
    assert_eq!(r, Ok(PipeRead::Data(60)));
    assert_eq!(got[10..], data);
}

#[test]
#[should_panic(expected = "commit")]
fn committing_past_the_reservation_panics() {
    let mut pipe = open_pipe();
    assert_eq!(pipe.try_reserve(2), PipeWrite::Wrote(2));
    pipe.commit(2, b"abc");
}

#[test]
#[should_panic(expected = "close_reader")]
fn closing_an_unopened_end_panics() {
    Pipe::new().close_reader();
}
