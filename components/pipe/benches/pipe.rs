//! Host benchmark: data through a `Pipe` the way the kernel moves it, in ns per operation.
//!
//! `cargo bench -p tessera-pipe` prints real figures (cargo passes `--bench`). Without that
//! argument, as when `cargo test --all-targets` runs this target, it does a tiny smoke run so
//! the code stays exercised; those numbers mean nothing.
//!
//! The callbacks are plain `copy_from_slice`, standing in for the kernel's user copies, so the
//! figures are the pipe's own cost plus two memcpys.

use std::hint::black_box;
use std::time::Instant;

use tessera_abi::KResult;
use tessera_pipe::{PIPE_BUF, PIPE_CAPACITY, Pipe, PipeRead, PipeWrite};

/// Writes all of `src`, one call.
fn write(pipe: &mut Pipe, src: &[u8]) -> usize {
    let mut pos = 0;
    let r = pipe.try_write(src.len(), &mut |dst: &mut [u8]| -> KResult<usize> {
        dst.copy_from_slice(&src[pos..pos + dst.len()]);
        pos += dst.len();
        Ok(dst.len())
    });
    match r {
        Ok(PipeWrite::Wrote(n)) => n,
        other => panic!("bench write: {other:?}"),
    }
}

/// Reads into `dst`, one call.
fn read(pipe: &mut Pipe, dst: &mut [u8]) -> usize {
    let mut got = 0;
    let r = pipe.try_read(&mut |src: &[u8]| -> KResult<usize> {
        let n = src.len().min(dst.len() - got);
        dst[got..got + n].copy_from_slice(&src[..n]);
        got += n;
        Ok(n)
    });
    match r {
        Ok(PipeRead::Data(n)) => n,
        other => panic!("bench read: {other:?}"),
    }
}

/// Best ns/op over `rounds` of `iters` calls of `op`.
fn best(rounds: usize, iters: usize, mut op: impl FnMut()) -> f64 {
    (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iters {
                op();
            }
            start.elapsed().as_nanos() as f64 / iters as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn open_pipe() -> Pipe {
    let mut pipe = Pipe::new();
    pipe.open_reader();
    pipe.open_writer();
    pipe
}

fn main() {
    let real = std::env::args().any(|a| a == "--bench");
    let (rounds, iters) = if real { (20, 100_000) } else { (1, 16) };
    let src = vec![0x5a_u8; PIPE_CAPACITY];
    let mut dst = vec![0_u8; PIPE_CAPACITY];

    println!(
        "tessera-pipe{}",
        if real {
            ""
        } else {
            " (smoke run: numbers are meaningless)"
        }
    );
    let row = |name: &str, ns: f64| println!("  {name:<44} {ns:>10.1} ns/op");

    let mut pipe = open_pipe();
    row(
        "write 4 KiB + read 4 KiB (empty pipe)",
        best(rounds, iters, || {
            assert_eq!(write(&mut pipe, black_box(&src[..PIPE_BUF])), PIPE_BUF);
            assert_eq!(read(&mut pipe, black_box(&mut dst[..PIPE_BUF])), PIPE_BUF);
        }),
    );

    // A 3-byte lag keeps the ring from rewinding, so the slices wrap every 16th operation.
    let mut pipe = open_pipe();
    write(&mut pipe, &src[..3]);
    row(
        "write 4 KiB + read 4 KiB (wrapping)",
        best(rounds, iters, || {
            assert_eq!(write(&mut pipe, black_box(&src[..PIPE_BUF])), PIPE_BUF);
            assert_eq!(read(&mut pipe, black_box(&mut dst[..PIPE_BUF])), PIPE_BUF);
        }),
    );

    let mut pipe = open_pipe();
    row(
        "write 1 B + read 1 B",
        best(rounds, iters, || {
            assert_eq!(write(&mut pipe, black_box(&src[..1])), 1);
            assert_eq!(read(&mut pipe, black_box(&mut dst[..1])), 1);
        }),
    );

    let mut pipe = open_pipe();
    row(
        "fill 64 KiB + drain 64 KiB (one call each)",
        best(rounds, iters / 16, || {
            assert_eq!(write(&mut pipe, black_box(&src)), PIPE_CAPACITY);
            assert_eq!(read(&mut pipe, black_box(&mut dst)), PIPE_CAPACITY);
        }),
    );
}
