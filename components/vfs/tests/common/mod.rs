//! Shared helpers: a VFS over tmpfs for either dentry cache, path shortcuts, the
//! both-variants test macro, and a tiny newc cpio writer.
#![allow(dead_code)]

use std::sync::Arc;

use tessera_abi::KResult;
use tessera_abi::fs::{S_IFREG, Timespec};
use tessera_vfs::{Dcache, Dentry, Inode, OpenHow, Vfs};

/// The file system under the VFS in these tests. Its stat variant does not matter to the
/// VFS; tmpfs's own suite runs both.
pub type Tmpfs = tessera_tmpfs::Tmpfs<tessera_tmpfs::LockfreeStat>;

/// A fixed clock: these tests are about names, not times.
pub fn clock() -> Timespec {
    Timespec::new(1_700_000_000, 0)
}

/// A VFS whose root is a fresh tmpfs.
pub struct Fixture<C: Dcache> {
    pub vfs: Vfs<C>,
    pub root: Arc<Dentry>,
}

impl<C: Dcache + Default> Fixture<C> {
    pub fn new() -> Self {
        Self::with_cache(C::default())
    }
}

impl<C: Dcache> Fixture<C> {
    pub fn with_cache(cache: C) -> Self {
        let vfs = Vfs::with_cache(Tmpfs::new(1, clock).root(), cache);
        let root = vfs.root().clone();
        Fixture { vfs, root }
    }

    /// Resolve from the root, following the last symlink.
    pub fn get(&self, path: &str) -> KResult<Arc<Dentry>> {
        self.vfs
            .resolve(&self.root, &self.root, path.as_bytes(), true)
    }

    /// Resolve from the root without following the last symlink.
    pub fn lget(&self, path: &str) -> KResult<Arc<Dentry>> {
        self.vfs
            .resolve(&self.root, &self.root, path.as_bytes(), false)
    }

    /// Resolve relative to `start`.
    pub fn get_at(&self, start: &Arc<Dentry>, path: &str) -> KResult<Arc<Dentry>> {
        self.vfs.resolve(start, &self.root, path.as_bytes(), true)
    }

    /// Inode number of what `path` names.
    pub fn ino(&self, path: &str) -> u64 {
        self.get(path).unwrap().inode().metadata().unwrap().ino
    }

    pub fn mkdir(&self, path: &str) -> KResult<Arc<Dentry>> {
        self.vfs
            .mkdir(&self.root, &self.root, path.as_bytes(), 0o755)
    }

    /// Create a regular file holding `data`.
    pub fn file(&self, path: &str, data: &[u8]) -> KResult<Arc<Dentry>> {
        let d = self
            .vfs
            .mknod(&self.root, &self.root, path.as_bytes(), S_IFREG | 0o644, 0)?;
        d.inode().write_at(0, data)?;
        Ok(d)
    }

    pub fn symlink(&self, target: &str, path: &str) -> KResult<Arc<Dentry>> {
        self.vfs
            .symlink(target.as_bytes(), &self.root, &self.root, path.as_bytes())
    }

    pub fn unlink(&self, path: &str) -> KResult<()> {
        self.vfs.unlink(&self.root, &self.root, path.as_bytes())
    }

    pub fn rmdir(&self, path: &str) -> KResult<()> {
        self.vfs.rmdir(&self.root, &self.root, path.as_bytes())
    }

    pub fn rename(&self, from: &str, to: &str) -> KResult<()> {
        self.vfs.rename(
            &self.root,
            from.as_bytes(),
            &self.root,
            to.as_bytes(),
            &self.root,
            false,
        )
    }

    pub fn open(&self, path: &str, how: OpenHow) -> KResult<tessera_vfs::Opened> {
        self.vfs.open(&self.root, &self.root, path.as_bytes(), &how)
    }

    /// Absolute path of a dentry, as a string.
    pub fn path_of(d: &Dentry) -> String {
        String::from_utf8(d.path()).unwrap()
    }

    /// Names in a directory (without `.` and `..`), sorted.
    pub fn ls(&self, path: &str) -> Vec<String> {
        let dir = self.get(path).unwrap();
        let mut names = Vec::new();
        dir.inode()
            .readdir(2, &mut |e| {
                names.push(String::from_utf8(e.name.to_vec()).unwrap());
                true
            })
            .unwrap();
        names.sort();
        names
    }
}

/// Everything a file holds.
pub fn read_all(inode: &Arc<dyn Inode>) -> Vec<u8> {
    let mut buf = vec![0u8; inode.metadata().unwrap().size as usize];
    let n = inode.read_at(0, &mut buf).unwrap();
    buf.truncate(n);
    buf
}

/// Instantiate generic test functions `fn name<C: Dcache + Default>()` once per dentry
/// cache variant: `off::name` and `hashbrown::name`.
#[macro_export]
macro_rules! both_caches {
    ($($name:ident),* $(,)?) => {
        mod off {
            $( #[test] fn $name() { super::$name::<tessera_vfs::NoDcache>() } )*
        }
        mod hashbrown {
            $( #[test] fn $name() { super::$name::<tessera_vfs::HashDcache>() } )*
        }
    };
}

/// One member of a newc archive to write.
pub struct Member<'a> {
    pub name: &'a str,
    pub mode: u32,
    pub data: &'a [u8],
    pub ino: u32,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: u32,
    pub rdev: (u32, u32),
}

impl<'a> Member<'a> {
    pub fn new(name: &'a str, mode: u32, data: &'a [u8]) -> Self {
        Member {
            name,
            mode,
            data,
            ino: 0,
            nlink: 1,
            uid: 0,
            gid: 0,
            mtime: 0,
            rdev: (0, 0),
        }
    }
}

/// Append one newc entry to `out` (header, name + NUL, padding, data, padding).
pub fn write_entry(out: &mut Vec<u8>, m: &Member<'_>) {
    let fields = [
        m.ino,
        m.mode,
        m.uid,
        m.gid,
        m.nlink,
        m.mtime,
        m.data.len() as u32,
        0,
        0,
        m.rdev.0,
        m.rdev.1,
        m.name.len() as u32 + 1,
        0,
    ];
    out.extend_from_slice(b"070701");
    for f in fields {
        out.extend_from_slice(format!("{f:08X}").as_bytes());
    }
    out.extend_from_slice(m.name.as_bytes());
    out.push(0);
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
    out.extend_from_slice(m.data);
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

/// A whole archive: the members, then the trailer.
pub fn archive(members: &[Member<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in members {
        write_entry(&mut out, m);
    }
    write_entry(&mut out, &Member::new("TRAILER!!!", 0, b""));
    out
}
