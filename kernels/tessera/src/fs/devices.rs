//! Character devices behind device nodes: null, zero, full, random/urandom, tty and console.
//!
//! `mount -t devtmpfs` gives a tmpfs filled with these nodes ([`populate_devtmpfs`]); opening
//! a node maps its device number to the device here.

use alloc::sync::Arc;
use alloc::vec::Vec;

use tessera_abi::{Errno, KResult};
use tessera_vfs::Inode;

use super::file::{FileOps, MapTarget};
use super::stat::{S_IFCHR, Stat, makedev};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Null,
    Zero,
    Full,
    Random,
}

struct Simple {
    kind: Kind,
    rdev: u64,
}

impl Simple {
    /// A read of zeroes or random bytes into user memory (see `read_user`); out of line, so
    /// that `/dev/null`'s read stays a return.
    #[inline(never)]
    fn fill_user(&self, offset: u64, addr: u64, len: usize, nonblock: bool) -> KResult<usize> {
        // As much as asked (Linux's read_iter_zero and urandom_read_iter), a chunk at a time:
        // zeroes written straight to the user, random bytes through a chunk-sized buffer.
        // Between chunks the others may run, and a pending signal ends the read with what
        // it has (a fault too, once something was read).
        let mut buf = match self.kind {
            Kind::Null => return Ok(0), // read_user answers it
            Kind::Zero | Kind::Full => Vec::new(),
            Kind::Random => alloc::vec![0u8; len.min(super::file::USER_CHUNK)],
        };
        let mut done = 0;
        while done < len {
            let at = addr + done as u64;
            let n = (len - done).min(super::file::USER_CHUNK);
            let copied = if buf.is_empty() {
                tessera_platform::usercopy::fill_user_bytes(at, 0, n).map_err(|_| Errno::EFAULT)
            } else {
                self.read(offset, &mut buf[..n], nonblock)?;
                crate::user::write_bytes(at, &buf[..n])
            };
            match copied {
                Ok(()) => done += n,
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
            }
            if done < len
                && (crate::process::signal::has_deliverable(&crate::process::current())
                    || !crate::process::sched::keep_going())
            {
                break;
            }
        }
        Ok(done)
    }
}

impl FileOps for Simple {
    fn read(&self, _offset: u64, buf: &mut [u8], _nonblock: bool) -> KResult<usize> {
        match self.kind {
            Kind::Null => Ok(0),
            Kind::Zero | Kind::Full => {
                buf.fill(0);
                Ok(buf.len())
            }
            Kind::Random => {
                crate::random::fill(buf);
                Ok(buf.len())
            }
        }
    }

    fn write(&self, _offset: u64, buf: &[u8], _nonblock: bool) -> KResult<usize> {
        match self.kind {
            Kind::Full => Err(Errno::ENOSPC),
            _ => Ok(buf.len()),
        }
    }

    fn read_user(&self, offset: u64, addr: u64, len: usize, nonblock: bool) -> KResult<usize> {
        match self.kind {
            Kind::Null => Ok(0),
            // Zeroes that fit one chunk: straight to the user, no loop.
            Kind::Zero | Kind::Full if len <= super::file::USER_CHUNK => {
                tessera_platform::usercopy::fill_user_bytes(addr, 0, len)
                    .map_err(|_| Errno::EFAULT)?;
                Ok(len)
            }
            _ => self.fill_user(offset, addr, len, nonblock),
        }
    }

    fn write_user(&self, _offset: u64, _addr: u64, len: usize, _nonblock: bool) -> KResult<usize> {
        // The data goes nowhere, so it is not even read (as on Linux).
        match self.kind {
            Kind::Full => Err(Errno::ENOSPC),
            _ => Ok(len),
        }
    }

    fn stat(&self) -> KResult<Stat> {
        Ok(Stat {
            mode: S_IFCHR | 0o666,
            rdev: self.rdev,
            nlink: 1,
            blksize: 4096,
            dev: 5,
            ..Stat::default()
        })
    }

    fn seekable(&self) -> bool {
        // lseek on these succeeds (and means nothing), as on Linux.
        true
    }

    fn positional(&self) -> bool {
        false
    }

    /// /dev/zero maps as anonymous memory (Linux's `mmap_zero`); the others have no mmap.
    fn mmap(&self) -> KResult<MapTarget> {
        match self.kind {
            Kind::Zero => Ok(MapTarget::Zeroes),
            _ => Err(Errno::ENODEV),
        }
    }
}

/// (name, major, minor, mode) of the nodes devtmpfs provides.
const NODES: [(&[u8], u32, u32, u32); 8] = [
    (b"null", 1, 3, 0o666),
    (b"zero", 1, 5, 0o666),
    (b"full", 1, 7, 0o666),
    (b"random", 1, 8, 0o666),
    (b"urandom", 1, 9, 0o666),
    (b"tty", 5, 0, 0o666),
    (b"console", 5, 1, 0o600),
    (b"ttyS0", 4, 64, 0o660),
];

/// The device a node's number names.
pub fn open(rdev: u64) -> KResult<Arc<dyn FileOps>> {
    let simple = |kind| -> Arc<dyn FileOps> { Arc::new(Simple { kind, rdev }) };
    Ok(match rdev {
        r if r == makedev(1, 3) => simple(Kind::Null),
        r if r == makedev(1, 5) => simple(Kind::Zero),
        r if r == makedev(1, 7) => simple(Kind::Full),
        r if r == makedev(1, 8) || r == makedev(1, 9) => simple(Kind::Random),
        r if r == makedev(5, 0) || r == makedev(5, 1) || r == makedev(4, 64) => {
            super::console::file()
        }
        _ => return Err(Errno::ENXIO),
    })
}

/// Fills a fresh tmpfs with the device nodes (what `mount -t devtmpfs` shows).
pub fn populate_devtmpfs(root: &Arc<dyn Inode>) -> KResult<()> {
    for (name, major, minor, mode) in NODES {
        root.create(name, S_IFCHR | mode, makedev(major, minor))?;
    }
    root.mkdir(b"pts", 0o755)?;
    root.mkdir(b"shm", 0o1777)?;
    root.symlink(b"fd", b"/proc/self/fd")?;
    Ok(())
}
