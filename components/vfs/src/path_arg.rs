//! Path arguments of system calls, read from user memory: the `path-buf` config key.
//!
//! Both variants return a [`PathArg`] with Linux's errors: `EFAULT` when the string cannot be
//! read, `ENAMETOOLONG` when it has no NUL within `PATH_MAX` bytes, `ENOENT` when it is empty.
//! They differ in where the bytes go. The kernel passes the user copy in as `read_cstr`, a
//! function that copies the NUL-terminated string at a fixed user address into the buffer it
//! is given and says how long it was (`Ok(Some(len))`, without the NUL), that no NUL came
//! within the buffer (`Ok(None)`), or that the memory is not readable (`Err(())`).

use alloc::vec;
use alloc::vec::Vec;

use tessera_abi::fs::PATH_MAX;
use tessera_abi::{Errno, KResult};

/// Size of [`StackPath`]'s buffer (with the NUL).
pub const STACK_PATH: usize = 256;

/// A path argument (dereferences to its bytes, without the NUL).
#[allow(
    clippy::large_enum_variant,
    reason = "the buffer inline on the stack is the point of `path-buf = \"stack\"`"
)]
pub enum PathArg {
    /// Up to 255 bytes, in a buffer on the stack.
    Stack {
        /// The buffer; `buf[..len]` is the path.
        buf: [u8; STACK_PATH],
        /// Length of the path.
        len: usize,
    },
    /// A path on the heap.
    Heap(Vec<u8>),
}

impl core::ops::Deref for PathArg {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            PathArg::Stack { buf, len } => &buf[..*len],
            PathArg::Heap(path) => path,
        }
    }
}

/// How a path argument is read; the kernel picks one implementor at build time.
pub trait PathReader {
    /// The variant's name in the config (`path-buf = "..."`).
    const NAME: &'static str;
    /// Reads one path through `read_cstr` (see the module documentation).
    fn read(read_cstr: impl FnMut(&mut [u8]) -> Result<Option<usize>, ()>) -> KResult<PathArg>;
}

/// A path of at most `PATH_MAX` bytes read into a heap buffer of that size.
fn read_to_heap(
    mut read_cstr: impl FnMut(&mut [u8]) -> Result<Option<usize>, ()>,
) -> KResult<Vec<u8>> {
    let mut buf = vec![0u8; PATH_MAX];
    match read_cstr(&mut buf) {
        Ok(Some(0)) => Err(Errno::ENOENT),
        Ok(Some(len)) => {
            buf.truncate(len);
            Ok(buf)
        }
        Ok(None) => Err(Errno::ENAMETOOLONG),
        Err(()) => Err(Errno::EFAULT),
    }
}

/// `path-buf = "stack"`: one copy into a 256-byte buffer on the stack and no allocation; only
/// a longer path is read again, into the heap.
pub struct StackPath;

impl PathReader for StackPath {
    const NAME: &'static str = "stack";

    #[inline(always)]
    fn read(mut read_cstr: impl FnMut(&mut [u8]) -> Result<Option<usize>, ()>) -> KResult<PathArg> {
        let mut buf = [0u8; STACK_PATH];
        match read_cstr(&mut buf) {
            Ok(Some(0)) => Err(Errno::ENOENT),
            Ok(Some(len)) => Ok(PathArg::Stack { buf, len }),
            Ok(None) => read_to_heap(read_cstr).map(PathArg::Heap),
            Err(()) => Err(Errno::EFAULT),
        }
    }
}

/// `path-buf = "heap"`, the "before" of this optimization: the bytes are read into a
/// `PATH_MAX` heap buffer, a UTF-8 checked copy is made, then the owned path: three
/// allocations per path argument (Kevlar's blog post "Beating Linux: Syscall Performance in a
/// Rust Kernel" names this pattern as a cost of its path syscalls).
pub struct HeapPath;

impl PathReader for HeapPath {
    const NAME: &'static str = "heap";

    fn read(read_cstr: impl FnMut(&mut [u8]) -> Result<Option<usize>, ()>) -> KResult<PathArg> {
        let bytes = read_to_heap(read_cstr)?;
        // Linux paths are bytes; the checked copy is kept only to pay what the "before" paid.
        let checked = core::str::from_utf8(&bytes).map(alloc::string::String::from);
        let owned = match &checked {
            Ok(text) => text.as_bytes().to_vec(),
            Err(_) => bytes.clone(),
        };
        Ok(PathArg::Heap(owned))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `read_cstr` over a fake user string: `None` for unreadable memory.
    fn user(string: Option<&[u8]>) -> impl FnMut(&mut [u8]) -> Result<Option<usize>, ()> + '_ {
        move |buf: &mut [u8]| {
            let string = string.ok_or(())?;
            let n = string.len().min(buf.len());
            buf[..n].copy_from_slice(&string[..n]);
            Ok(string[..n].iter().position(|&b| b == 0))
        }
    }

    fn suite<R: PathReader>() {
        let path = |s: &[u8]| R::read(user(Some(s))).map(|p| p.to_vec());
        assert_eq!(path(b"/tmp/x\0"), Ok(b"/tmp/x".to_vec()));
        assert_eq!(path(b"\0"), Err(Errno::ENOENT));
        assert_eq!(R::read(user(None)).map(|p| p.to_vec()), Err(Errno::EFAULT));
        for len in [STACK_PATH - 1, STACK_PATH, PATH_MAX - 1] {
            let mut long = vec![b'a'; len];
            long.push(0);
            assert_eq!(path(&long), Ok(vec![b'a'; len]), "length {len}");
        }
        let mut too_long = vec![b'a'; PATH_MAX];
        too_long.push(0);
        assert_eq!(path(&too_long), Err(Errno::ENAMETOOLONG));
        assert_eq!(
            path(&[0xff, 0xfe, 0]),
            Ok(vec![0xff, 0xfe]),
            "bytes, not UTF-8"
        );
    }

    #[test]
    fn stack_path() {
        suite::<StackPath>();
        assert!(matches!(
            StackPath::read(user(Some(b"/short\0"))),
            Ok(PathArg::Stack { len: 6, .. })
        ));
    }

    #[test]
    fn heap_path() {
        suite::<HeapPath>();
    }
}
