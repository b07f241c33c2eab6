//! `struct stat` and `struct statx` as Linux x86_64 lays them out.

pub use tessera_abi::fs::{S_IFCHR, S_IFIFO, S_IFMT, S_IFREG, makedev};
use tessera_abi::fs::{STATX_BASIC_STATS, major, minor};

/// A time stamp.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Time {
    pub sec: i64,
    pub nsec: u32,
}

/// What stat reports about a file.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stat {
    pub dev: u64,
    pub ino: u64,
    pub nlink: u64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u64,
    pub size: u64,
    pub blksize: u64,
    pub blocks: u64,
    pub atime: Time,
    pub mtime: Time,
    pub ctime: Time,
}

fn put(buf: &mut [u8], at: usize, bytes: &[u8]) {
    buf[at..at + bytes.len()].copy_from_slice(bytes);
}

impl Stat {
    /// The 144-byte `struct stat`.
    pub fn to_stat_bytes(self) -> [u8; 144] {
        let mut b = [0u8; 144];
        put(&mut b, 0, &self.dev.to_le_bytes());
        put(&mut b, 8, &self.ino.to_le_bytes());
        put(&mut b, 16, &self.nlink.to_le_bytes());
        put(&mut b, 24, &self.mode.to_le_bytes());
        put(&mut b, 28, &self.uid.to_le_bytes());
        put(&mut b, 32, &self.gid.to_le_bytes());
        put(&mut b, 40, &self.rdev.to_le_bytes());
        put(&mut b, 48, &self.size.to_le_bytes());
        put(&mut b, 56, &self.blksize.to_le_bytes());
        put(&mut b, 64, &self.blocks.to_le_bytes());
        for (at, t) in [(72, self.atime), (88, self.mtime), (104, self.ctime)] {
            put(&mut b, at, &t.sec.to_le_bytes());
            put(&mut b, at + 8, &u64::from(t.nsec).to_le_bytes());
        }
        b
    }

    /// The 256-byte `struct statx`: every basic field (STATX_BASIC_STATS) and what `extra`
    /// adds (its mask bits, attributes, birth time and mount id). Fields nothing filled are
    /// 0, as Linux's `cp_statx` leaves them.
    pub fn to_statx_bytes(self, extra: &StatxExtra) -> [u8; 256] {
        let mut b = [0u8; 256];
        put(&mut b, 0, &(STATX_BASIC_STATS | extra.mask).to_le_bytes());
        put(&mut b, 4, &(self.blksize as u32).to_le_bytes());
        put(&mut b, 8, &extra.attributes.to_le_bytes());
        put(&mut b, 16, &(self.nlink as u32).to_le_bytes());
        put(&mut b, 20, &self.uid.to_le_bytes());
        put(&mut b, 24, &self.gid.to_le_bytes());
        put(&mut b, 28, &(self.mode as u16).to_le_bytes());
        put(&mut b, 32, &self.ino.to_le_bytes());
        put(&mut b, 40, &self.size.to_le_bytes());
        put(&mut b, 48, &self.blocks.to_le_bytes());
        put(&mut b, 56, &extra.attributes_mask.to_le_bytes());
        let btime = extra.btime.unwrap_or_default();
        for (at, t) in [
            (64, self.atime),
            (80, btime),
            (96, self.ctime),
            (112, self.mtime),
        ] {
            put(&mut b, at, &t.sec.to_le_bytes());
            put(&mut b, at + 8, &t.nsec.to_le_bytes());
        }
        put(&mut b, 128, &major(self.rdev).to_le_bytes());
        put(&mut b, 132, &minor(self.rdev).to_le_bytes());
        put(&mut b, 136, &major(self.dev).to_le_bytes());
        put(&mut b, 140, &minor(self.dev).to_le_bytes());
        put(&mut b, 144, &extra.mnt_id.to_le_bytes());
        b
    }
}

/// What statx reports beyond `struct stat` (Linux 6.1's `vfs_statx`, `vfs_getattr_nosec`
/// and the file system's `getattr`).
#[derive(Clone, Copy, Debug, Default)]
pub struct StatxExtra {
    /// `stx_mask` bits besides STATX_BASIC_STATS (STATX_BTIME, STATX_MNT_ID).
    pub mask: u32,
    /// `stx_attributes` (STATX_ATTR_*).
    pub attributes: u64,
    /// `stx_attributes_mask`: the attributes the file system can report.
    pub attributes_mask: u64,
    /// `stx_btime`, when the file system keeps it and it was asked for.
    pub btime: Option<Time>,
    /// `stx_mnt_id`.
    pub mnt_id: u64,
}
