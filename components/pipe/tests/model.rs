//! Property test: random reads, writes, peeks and consumes, reservations and commits, opens
//! and closes against a `VecDeque` model of Linux's pipe rules (PIPE_BUF atomicity, partial
//! large writes, EOF, EPIPE, faults) and of the holds and reservations splice uses.

mod common;

use std::collections::VecDeque;

use common::{UserDst, UserSrc};
use proptest::prelude::*;
use tessera_abi::{Errno, KResult};
use tessera_pipe::{PIPE_BUF, PIPE_CAPACITY, Pipe, PipeRead, PipeWrite, PollEvents};

#[derive(Clone, Debug)]
enum Op {
    /// `write(len)` whose user buffer faults after `valid` bytes (`None`: never).
    Write {
        len: usize,
        valid: Option<usize>,
    },
    /// `read(len)` whose user buffer faults after `valid` bytes.
    Read {
        len: usize,
        valid: Option<usize>,
    },
    /// `try_peek(len)` (the hold taken on data).
    Peek {
        len: usize,
        valid: Option<usize>,
    },
    /// `consume` of this share (per mille) of the held bytes, if held.
    Consume {
        share: usize,
    },
    /// `try_reserve(len)`: the reservation stays open until a `Commit`.
    Reserve {
        len: usize,
    },
    /// Commits the open reservation `which` (modulo their number) with this share of its
    /// room filled.
    Commit {
        which: usize,
        share: usize,
    },
    OpenReader,
    CloseReader,
    OpenWriter,
    CloseWriter,
}

/// Sizes clustered where the rules change: tiny, around PIPE_BUF, around the capacity.
fn size() -> impl Strategy<Value = usize> {
    prop_oneof![
        0..16usize,
        PIPE_BUF - 8..PIPE_BUF + 8,
        PIPE_CAPACITY - 16..PIPE_CAPACITY + 16,
        0..PIPE_CAPACITY + 4096,
    ]
}

fn valid() -> impl Strategy<Value = Option<usize>> {
    prop_oneof![4 => Just(None), 1 => (0..PIPE_BUF * 2).prop_map(Some)]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (size(), valid()).prop_map(|(len, valid)| Op::Write { len, valid }),
        8 => (size(), valid()).prop_map(|(len, valid)| Op::Read { len, valid }),
        3 => (size(), valid()).prop_map(|(len, valid)| Op::Peek { len, valid }),
        3 => (0..=1000usize).prop_map(|share| Op::Consume { share }),
        3 => size().prop_map(|len| Op::Reserve { len }),
        3 => (0..8usize, 0..=1000usize).prop_map(|(which, share)| Op::Commit { which, share }),
        1 => Just(Op::OpenReader),
        1 => Just(Op::CloseReader),
        1 => Just(Op::OpenWriter),
        1 => Just(Op::CloseWriter),
    ]
}

/// What Linux's rules say, on plain data structures.
struct Model {
    data: VecDeque<u8>,
    readers: usize,
    writers: usize,
    /// Bytes a peek copied and holds (`None`: no hold).
    held: Option<usize>,
    /// Open reservations.
    reserved: Vec<usize>,
}

impl Model {
    fn free(&self) -> usize {
        PIPE_CAPACITY - self.data.len() - self.reserved.iter().sum::<usize>()
    }

    /// What a read or a peek answers before copying, if it does not copy.
    fn read_status(&self) -> Option<PipeRead> {
        if self.held.is_some() {
            Some(PipeRead::WouldBlock)
        } else if !self.data.is_empty() {
            None
        } else if self.writers == 0 {
            Some(PipeRead::Eof)
        } else {
            Some(PipeRead::WouldBlock)
        }
    }

    fn write(&mut self, src: &[u8], valid: usize) -> KResult<PipeWrite> {
        let len = src.len();
        if len == 0 {
            return Ok(PipeWrite::Wrote(0));
        }
        if self.readers == 0 {
            return Ok(PipeWrite::BrokenPipe);
        }
        let free = self.free();
        if free == 0 || (len <= PIPE_BUF && free < len) {
            return Ok(PipeWrite::WouldBlock);
        }
        if valid == 0 {
            return Err(Errno::EFAULT);
        }
        let n = len.min(free).min(valid);
        self.data.extend(&src[..n]);
        Ok(PipeWrite::Wrote(n))
    }

    /// A read, or with `peek` a peek (nothing consumed, the hold taken).
    fn read(&mut self, len: usize, valid: usize, peek: bool) -> (KResult<PipeRead>, Vec<u8>) {
        if let Some(r) = self.read_status() {
            return (Ok(r), Vec::new());
        }
        if valid == 0 && len > 0 {
            return (Err(Errno::EFAULT), Vec::new());
        }
        let n = len.min(valid).min(self.data.len());
        if peek {
            self.held = Some(n);
            return (
                Ok(PipeRead::Data(n)),
                self.data.range(..n).copied().collect(),
            );
        }
        (Ok(PipeRead::Data(n)), self.data.drain(..n).collect())
    }

    fn reserve(&mut self, len: usize) -> PipeWrite {
        if len == 0 {
            return PipeWrite::Wrote(0);
        }
        if self.readers == 0 {
            return PipeWrite::BrokenPipe;
        }
        match len.min(self.free()) {
            0 => PipeWrite::WouldBlock,
            k => {
                self.reserved.push(k);
                PipeWrite::Wrote(k)
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn pipe_matches_model(ops in prop::collection::vec(op(), 1..80)) {
        let mut pipe = Pipe::new();
        pipe.open_reader();
        pipe.open_writer();
        let mut model = Model {
            data: VecDeque::new(),
            readers: 1,
            writers: 1,
            held: None,
            reserved: Vec::new(),
        };
        let mut stamp = 0u8;

        for op in ops {
            match op {
                Op::Write { len, valid } => {
                    let data: Vec<u8> = (0..len).map(|_| { stamp = stamp.wrapping_add(1); stamp }).collect();
                    let valid = valid.unwrap_or(len);
                    let mut src = UserSrc::new(data.clone());
                    src.valid = valid;
                    let got = pipe.try_write(len, &mut |d| src.copy_in(d));
                    prop_assert_eq!(got, model.write(&data, valid));
                    prop_assert!(src.calls <= 2, "at most one slice before and one after the wrap");
                }
                Op::Read { len, valid } => {
                    let mut dst = UserDst::new(len);
                    dst.valid = valid.unwrap_or(len);
                    let got = pipe.try_read(&mut |s| dst.copy_out(s));
                    let (want, bytes) = model.read(len, dst.valid, false);
                    prop_assert_eq!(got, want);
                    prop_assert_eq!(dst.buf, bytes);
                }
                Op::Peek { len, valid } => {
                    let mut dst = UserDst::new(len);
                    dst.valid = valid.unwrap_or(len);
                    let got = pipe.try_peek(&mut |s| dst.copy_out(s));
                    let (want, bytes) = model.read(len, dst.valid, true);
                    prop_assert_eq!(got, want);
                    prop_assert_eq!(dst.buf, bytes);
                }
                Op::Consume { share } => {
                    if let Some(held) = model.held.take() {
                        let n = held * share / 1000;
                        pipe.consume(n);
                        model.data.drain(..n);
                    }
                }
                Op::Reserve { len } => {
                    prop_assert_eq!(pipe.try_reserve(len), model.reserve(len));
                }
                Op::Commit { which, share } => {
                    if !model.reserved.is_empty() {
                        let k = model.reserved.remove(which % model.reserved.len());
                        let data: Vec<u8> = (0..k * share / 1000).map(|_| { stamp = stamp.wrapping_add(1); stamp }).collect();
                        pipe.commit(k, &data);
                        model.data.extend(&data);
                    }
                }
                Op::OpenReader => { pipe.open_reader(); model.readers += 1; }
                Op::OpenWriter => { pipe.open_writer(); model.writers += 1; }
                Op::CloseReader if model.readers > 0 => {
                    model.readers -= 1;
                    prop_assert_eq!(pipe.close_reader(), model.readers == 0);
                }
                Op::CloseWriter if model.writers > 0 => {
                    model.writers -= 1;
                    prop_assert_eq!(pipe.close_writer(), model.writers == 0);
                }
                Op::CloseReader | Op::CloseWriter => {}
            }
            prop_assert_eq!(pipe.len(), model.data.len());
            prop_assert_eq!(pipe.free(), model.free());
            prop_assert_eq!(
                pipe.read_status(),
                model.read_status().unwrap_or(PipeRead::Data(model.data.len()))
            );
            let mut all = Vec::new();
            let peeked = pipe.peek(&mut |s| { all.extend_from_slice(s); Ok(s.len()) });
            prop_assert_eq!(peeked, Ok(model.data.len()));
            prop_assert!(all.iter().eq(model.data.iter()), "peek sees every byte, in order");
            prop_assert_eq!(pipe.poll_read().contains(PollEvents::IN), !model.data.is_empty());
            prop_assert_eq!(pipe.poll_read().contains(PollEvents::HUP), model.writers == 0);
            prop_assert_eq!(pipe.poll_write().contains(PollEvents::OUT), model.free() >= PIPE_BUF);
            prop_assert_eq!(pipe.poll_write().contains(PollEvents::ERR), model.readers == 0);
        }
    }
}
