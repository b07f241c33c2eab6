//! Simulated user memory for the tests: buffers whose first `valid` bytes are mapped, so a
//! copy faults (`EFAULT`) past them the way the kernel's user copies do.
// Each test binary uses its own subset of these helpers.
#![allow(dead_code)]

use tessera_abi::{Errno, KResult};
use tessera_pipe::{Pipe, PipeRead, PipeWrite};

/// A user source buffer for `write`: `data`, of which only the first `valid` bytes can be read.
pub struct UserSrc {
    pub data: Vec<u8>,
    pub valid: usize,
    pub pos: usize,
    /// How many times `copy_in` ran, to check the fast path's call count.
    pub calls: usize,
}

impl UserSrc {
    pub fn new(data: Vec<u8>) -> UserSrc {
        let valid = data.len();
        UserSrc {
            data,
            valid,
            pos: 0,
            calls: 0,
        }
    }

    /// The callback the kernel would pass: copies the next bytes, faults at `valid`.
    pub fn copy_in(&mut self, dst: &mut [u8]) -> KResult<usize> {
        self.calls += 1;
        let n = dst.len().min(self.valid.saturating_sub(self.pos));
        if n == 0 && !dst.is_empty() {
            return Err(Errno::EFAULT);
        }
        dst[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// A user destination buffer for `read`: `len` bytes, of which the first `valid` are writable.
pub struct UserDst {
    pub buf: Vec<u8>,
    pub valid: usize,
    pub calls: usize,
}

impl UserDst {
    pub fn new(len: usize) -> UserDst {
        UserDst {
            buf: Vec::with_capacity(len),
            valid: len,
            calls: 0,
        }
    }

    /// Capacity the read asked for.
    fn len(&self) -> usize {
        self.buf.capacity()
    }

    /// The callback the kernel would pass: takes what fits, faults at `valid`.
    pub fn copy_out(&mut self, src: &[u8]) -> KResult<usize> {
        self.calls += 1;
        let room = self.len() - self.buf.len();
        let mapped = self.valid.saturating_sub(self.buf.len());
        let n = src.len().min(room).min(mapped);
        if n == 0 && mapped < room && !src.is_empty() {
            return Err(Errno::EFAULT);
        }
        self.buf.extend_from_slice(&src[..n]);
        Ok(n)
    }
}

/// Writes `data` in one call.
pub fn write(pipe: &mut Pipe, data: &[u8]) -> KResult<PipeWrite> {
    let mut src = UserSrc::new(data.to_vec());
    pipe.try_write(data.len(), &mut |dst| src.copy_in(dst))
}

/// Reads up to `len` bytes in one call.
pub fn read(pipe: &mut Pipe, len: usize) -> (KResult<PipeRead>, Vec<u8>) {
    let mut dst = UserDst::new(len);
    let r = pipe.try_read(&mut |src| dst.copy_out(src));
    (r, dst.buf)
}

/// A pipe with one reader and one writer, as `pipe2` makes it.
pub fn open_pipe() -> Pipe {
    let mut pipe = Pipe::new();
    pipe.open_reader();
    pipe.open_writer();
    pipe
}
