//! `struct stat` and `struct statx` as Linux x86_64 lays them out.

use crate::user::StructWriter;

pub use tessera_abi::fs::{S_IFCHR, S_IFIFO, S_IFMT, S_IFREG};

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

fn major(dev: u64) -> u32 {
    (((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0xfff)) as u32
}

fn minor(dev: u64) -> u32 {
    (((dev >> 12) & 0xffff_ff00) | (dev & 0xff)) as u32
}

/// Linux's `makedev`.
pub const fn makedev(major: u32, minor: u32) -> u64 {
    let (major, minor) = (major as u64, minor as u64);
    ((major & 0xffff_f000) << 32)
        | ((major & 0xfff) << 8)
        | ((minor & 0xffff_ff00) << 12)
        | (minor & 0xff)
}

impl Stat {
    /// The 144-byte `struct stat`.
    pub fn to_stat_bytes(&self) -> [u8; 144] {
        let mut w = StructWriter::new(144);
        w.u64(0, self.dev)
            .u64(8, self.ino)
            .u64(16, self.nlink)
            .u32(24, self.mode)
            .u32(28, self.uid);
        w.u32(32, self.gid)
            .u64(40, self.rdev)
            .u64(48, self.size)
            .u64(56, self.blksize)
            .u64(64, self.blocks);
        for (at, t) in [(72, self.atime), (88, self.mtime), (104, self.ctime)] {
            w.u64(at, t.sec as u64).u64(at + 8, u64::from(t.nsec));
        }
        w.bytes.try_into().expect("144 bytes")
    }

    /// The 256-byte `struct statx` with every basic field (STATX_BASIC_STATS).
    pub fn to_statx_bytes(&self) -> [u8; 256] {
        const STATX_BASIC_STATS: u32 = 0x7ff;
        let mut w = StructWriter::new(256);
        w.u32(0, STATX_BASIC_STATS)
            .u32(4, self.blksize as u32)
            .u32(16, self.nlink as u32);
        w.u32(20, self.uid)
            .u32(24, self.gid)
            .u16(28, self.mode as u16)
            .u64(32, self.ino);
        w.u64(40, self.size).u64(48, self.blocks);
        for (at, t) in [
            (64, self.atime),
            (80, self.ctime),
            (96, self.ctime),
            (112, self.mtime),
        ] {
            w.u64(at, t.sec as u64).u32(at + 8, t.nsec);
        }
        w.u32(128, major(self.rdev))
            .u32(132, minor(self.rdev))
            .u32(136, major(self.dev))
            .u32(140, minor(self.dev));
        w.bytes.try_into().expect("256 bytes")
    }
}
