//! Behaviour of `Pipe` at the edges Linux defines: PIPE_BUF atomicity, EOF, EPIPE, faults
//! in the user copies, poll bits.

mod common;

use common::{UserDst, UserSrc, open_pipe, read, write};
use tessera_abi::Errno;
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

#[test]
#[should_panic(expected = "close_reader")]
fn closing_an_unopened_end_panics() {
    Pipe::new().close_reader();
}
