//! Regular files, directories and symlinks of the VFS as open files.

use alloc::sync::Arc;

use tessera_abi::{Errno, KResult};
use tessera_vfs::{DirEntry, FileType};

use super::DentryRef;
use super::file::{FileOps, MapTarget, USER_CHUNK};
use super::stat::{Stat, Time};

pub struct InodeFile {
    dentry: DentryRef,
    /// Held by a file opened for writing: the file cannot be executed meanwhile.
    _write: Option<super::write_access::WriteAccess>,
}

impl InodeFile {
    pub fn new(dentry: DentryRef, write: Option<super::write_access::WriteAccess>) -> Self {
        InodeFile {
            dentry,
            _write: write,
        }
    }
}

/// stat of a VFS inode.
pub fn stat_of(inode: &Arc<dyn tessera_vfs::Inode>) -> KResult<Stat> {
    let m = inode.metadata()?;
    let time = |t: tessera_abi::fs::Timespec| Time {
        sec: t.sec,
        nsec: t.nsec as u32,
    };
    Ok(Stat {
        dev: m.dev,
        ino: m.ino,
        nlink: u64::from(m.nlink),
        mode: m.mode,
        uid: m.uid,
        gid: m.gid,
        rdev: m.rdev,
        size: m.size,
        blksize: u64::from(m.blksize),
        blocks: m.blocks,
        atime: time(m.atime),
        mtime: time(m.mtime),
        ctime: time(m.ctime),
    })
}

impl Drop for InodeFile {
    /// The last open file of a deleted file lets go of it: its cached pages go with it.
    /// (The dentry cache keeps a linked file's dentry, so this costs a compare per close.)
    fn drop(&mut self) {
        if Arc::strong_count(&self.dentry) == 1 {
            crate::mm::pagecache::forget_if_last(self.dentry.inode());
        }
    }
}

/// A read or write of `len` bytes of user memory in chunks of at most [`USER_CHUNK`] through
/// one kernel buffer: `step(done, buffer)` moves one chunk and returns how many bytes it
/// moved. Stops at a short chunk (end of file, full file system); an error after some bytes
/// moved returns the count, as Linux's regular-file reads and writes do.
fn chunked(len: usize, mut step: impl FnMut(u64, &mut [u8]) -> KResult<usize>) -> KResult<usize> {
    let mut buf = alloc::vec![0u8; len.min(USER_CHUNK)];
    let mut done = 0;
    while done < len {
        let chunk = (len - done).min(buf.len());
        match step(done as u64, &mut buf[..chunk]) {
            Ok(n) => {
                done += n;
                if n < chunk {
                    break;
                }
            }
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(done)
}

/// `addr + done`, EFAULT past the end of the address space.
fn user_at(addr: u64, done: u64) -> KResult<u64> {
    addr.checked_add(done).ok_or(Errno::EFAULT)
}

impl FileOps for InodeFile {
    /// The whole `len` (up to end of file), where the default reads one chunk.
    fn read_user(&self, offset: u64, addr: u64, len: usize, nonblock: bool) -> KResult<usize> {
        chunked(len, |done, buf| {
            let n = self.read(offset + done, buf, nonblock)?;
            crate::user::write_bytes(user_at(addr, done)?, &buf[..n])?;
            Ok(n)
        })
    }

    /// The whole `len`, where the default writes one chunk.
    fn write_user(&self, offset: u64, addr: u64, len: usize, nonblock: bool) -> KResult<usize> {
        chunked(len, |done, buf| {
            crate::user::read_into(user_at(addr, done)?, buf)?;
            self.write(offset + done, buf, nonblock)
        })
    }

    fn read(&self, offset: u64, buf: &mut [u8], _nonblock: bool) -> KResult<usize> {
        if self.dentry.is_dir() {
            return Err(Errno::EISDIR);
        }
        let n = self.dentry.inode().read_at(offset, buf)?;
        crate::mm::pagecache::overlay_read(self.dentry.inode(), offset, &mut buf[..n]);
        Ok(n)
    }

    fn write(&self, offset: u64, buf: &[u8], _nonblock: bool) -> KResult<usize> {
        if self.dentry.is_dir() {
            return Err(Errno::EISDIR);
        }
        let n = self.dentry.inode().write_at(offset, buf)?;
        crate::mm::pagecache::write_through(self.dentry.inode(), offset, &buf[..n]);
        Ok(n)
    }

    fn stat(&self) -> KResult<Stat> {
        stat_of(self.dentry.inode())
    }

    fn seekable(&self) -> bool {
        true
    }

    fn size(&self) -> u64 {
        self.dentry.inode().metadata().map_or(0, |m| m.size)
    }

    fn truncate(&self, len: u64) -> KResult<()> {
        if self.dentry.inode().file_type() != FileType::Regular {
            return Err(Errno::EINVAL);
        }
        super::truncate(self.dentry.inode(), len)
    }

    fn getdents(&self, cookie: u64, buf: &mut [u8]) -> KResult<(usize, u64)> {
        if !self.dentry.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        let mut used = 0;
        let mut next = cookie;
        let mut too_small = false;
        self.dentry
            .inode()
            .readdir(cookie, &mut |entry: &DirEntry<'_>| {
                let reclen = (19 + entry.name.len() + 1).next_multiple_of(8);
                if used + reclen > buf.len() {
                    too_small = used == 0;
                    return false;
                }
                let rec = &mut buf[used..used + reclen];
                rec.fill(0);
                rec[0..8].copy_from_slice(&entry.ino.to_le_bytes());
                rec[8..16].copy_from_slice(&entry.next.to_le_bytes());
                rec[16..18].copy_from_slice(&(reclen as u16).to_le_bytes());
                rec[18] = entry.kind.dirent_type();
                rec[19..19 + entry.name.len()].copy_from_slice(entry.name);
                used += reclen;
                next = entry.next;
                true
            })?;
        if too_small {
            return Err(Errno::EINVAL);
        }
        Ok((used, next))
    }

    fn dentry(&self) -> Option<DentryRef> {
        Some(self.dentry.clone())
    }

    /// The file systems say which of their files can be mapped (`Inode::mappable`): tmpfs
    /// regular files; not procfs files or directories.
    fn mmap(&self) -> KResult<MapTarget> {
        let inode = self.dentry.inode();
        if inode.mappable() {
            Ok(MapTarget::File(inode.clone()))
        } else {
            Err(Errno::ENODEV)
        }
    }
}
