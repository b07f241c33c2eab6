//! Where an inode keeps the `stat` fields that change: the storage behind each
//! [`StatVariant`] (documented there).

use core::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering, fence};

use tessera_abi::fs::Timespec;

use crate::inode::TmpInode;

/// The `stat` fields a tmpfs inode can change, other than size and blocks (see [`Usage`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attrs {
    /// `S_IALLUGO` bits.
    pub perm: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Hard links (directories: 2 + subdirectories; 0 once removed).
    pub nlink: u32,
    /// Last access.
    pub atime: Timespec,
    /// Last content change.
    pub mtime: Timespec,
    /// Last status change.
    pub ctime: Timespec,
}

impl Attrs {
    /// Content changed: mtime and ctime.
    pub fn modified(&mut self, now: Timespec) {
        self.mtime = now;
        self.ctime = now;
    }

    /// Access with `relatime`: only if the atime is not newer than mtime/ctime or a day old.
    pub fn accessed(&mut self, now: Timespec) {
        if self.atime <= self.mtime
            || self.atime <= self.ctime
            || now.sec - self.atime.sec >= 86_400
        {
            self.atime = now;
        }
    }
}

/// What the contents of an inode use: `st_size` and `st_blocks` (512-byte units).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Usage {
    /// Size in bytes.
    pub size: u64,
    /// Space used, in 512-byte units.
    pub blocks: u64,
}

/// Where an inode keeps the `stat` fields that change, and whether `metadata()` locks: the
/// variant pair `stat-locked` / `stat-lockfree`. Sealed: the storage is tmpfs-internal.
///
/// | Variant | Type | Mutable fields live | `metadata()` | Writers (inode lock held) |
/// |---|---|---|---|---|
/// | `locked` | [`LockedStat`] | in the locked state; size and blocks derived from the contents | takes the inode's lock, copies out | assign plain fields |
/// | `lockfree` | [`LockfreeStat`] | in atomics outside the lock, size and blocks included | relaxed loads, no lock | store the fields that changed |
///
/// Both keep the fields that never change after creation (inode number, type, `rdev`, `dev`,
/// `blksize`) outside the lock.
///
/// # What a lock-free stat can see
/// A `stat` concurrent with a writer may return a mix of old and new fields, as Linux's
/// lockless `generic_fillattr` can: the new size with the old mtime, the new uid with the old
/// gid, the new link count of a rename in progress. Each field on its own is a value some
/// writer stored. A time stamp is one such field: its seconds and nanoseconds are read
/// together under a sequence count (writers are already serialised by the inode lock), so a
/// stamp is never torn into the seconds of one write and the nanoseconds of another. On the
/// kernel (one CPU, no preemption in kernel mode) no writer can be in progress while `stat`
/// runs, so there the two variants return the same values; the difference is the lock.
pub trait StatVariant: sealed::Store + Send + Sync + Sized + 'static {
    /// Variant name for the boot banner: `"locked"` or `"lockfree"`.
    const NAME: &'static str;
}

/// Variant `locked` (the "before"): `metadata()` takes the inode's lock and copies out.
#[derive(Debug)]
pub enum LockedStat {}

/// Variant `lockfree` (the "after"): `metadata()` reads atomics without the lock.
#[derive(Debug)]
pub enum LockfreeStat {}

impl StatVariant for LockedStat {
    const NAME: &'static str = "locked";
}

impl StatVariant for LockfreeStat {
    const NAME: &'static str = "lockfree";
}

pub(crate) mod sealed {
    use super::{Attrs, TmpInode, Usage};

    /// The storage behind a [`StatVariant`](super::StatVariant). `get`, `set` and
    /// `set_usage` are only called with the inode's lock held (`TmpInode::update` and
    /// `content_changed` take the locked state), so writers never race each other; `stat`
    /// decides itself whether to lock.
    pub trait Store: Sized {
        /// Kept inside the inode's lock.
        type InLock: Send;
        /// Kept outside it.
        type Unlocked: Send + Sync;
        /// The storage of a new inode.
        fn new(attrs: Attrs, usage: Usage) -> (Self::InLock, Self::Unlocked);
        /// The current attributes, for a writer.
        fn get(in_lock: &Self::InLock, unlocked: &Self::Unlocked) -> Attrs;
        /// Replace `old` (what `get` gave) with `new`.
        fn set(in_lock: &mut Self::InLock, unlocked: &Self::Unlocked, old: &Attrs, new: &Attrs);
        /// The contents changed to use `usage`.
        fn set_usage(unlocked: &Self::Unlocked, usage: Usage);
        /// What `metadata()` reports, with or without the lock.
        fn stat(inode: &TmpInode<Self>) -> (Attrs, Usage)
        where
            Self: super::StatVariant;
    }
}

impl sealed::Store for LockedStat {
    type InLock = Attrs;
    type Unlocked = ();

    fn new(attrs: Attrs, _usage: Usage) -> (Attrs, ()) {
        (attrs, ())
    }
    fn get(in_lock: &Attrs, _: &()) -> Attrs {
        *in_lock
    }
    fn set(in_lock: &mut Attrs, _: &(), _old: &Attrs, new: &Attrs) {
        *in_lock = *new;
    }
    /// Nothing to store: `stat` computes the usage from the contents, under the lock.
    fn set_usage(_: &(), _usage: Usage) {}
    fn stat(inode: &TmpInode<Self>) -> (Attrs, Usage) {
        let st = inode.state.lock();
        (st.attrs, st.content.usage())
    }
}

/// The mutable fields of a [`LockfreeStat`] inode, one atomic each. Time stamps are
/// (seconds, nanoseconds) pairs guarded by `times_seq`.
pub struct AtomicAttrs {
    perm: AtomicU32,
    uid: AtomicU32,
    gid: AtomicU32,
    nlink: AtomicU32,
    size: AtomicU64,
    blocks: AtomicU64,
    /// Sequence count of the time stamps: odd while a writer stores them.
    times_seq: AtomicU32,
    /// atime, mtime, ctime as (sec, nsec).
    times: [(AtomicI64, AtomicI64); 3],
}

impl AtomicAttrs {
    fn load_times(&self) -> [Timespec; 3] {
        // Relaxed loads of plain fields: `stat` promises each field, not a snapshot. The time
        // stamps use a seqcount (Boehm's fence-based seqlock): retry while a writer is inside.
        loop {
            let before = self.times_seq.load(Ordering::Acquire);
            if before & 1 == 0 {
                let t = self.times.each_ref().map(|(s, n)| {
                    Timespec::new(s.load(Ordering::Relaxed), n.load(Ordering::Relaxed))
                });
                fence(Ordering::Acquire);
                if self.times_seq.load(Ordering::Relaxed) == before {
                    return t;
                }
            }
            core::hint::spin_loop();
        }
    }

    /// Store the time stamps that differ; the caller is the only writer (inode lock held).
    fn store_times(&self, old: [Timespec; 3], new: [Timespec; 3]) {
        if old == new {
            return;
        }
        let seq = self.times_seq.load(Ordering::Relaxed);
        self.times_seq.store(seq.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::Release);
        for ((o, n), (sec, nsec)) in old.iter().zip(&new).zip(&self.times) {
            if o != n {
                sec.store(n.sec, Ordering::Relaxed);
                nsec.store(n.nsec, Ordering::Relaxed);
            }
        }
        self.times_seq.store(seq.wrapping_add(2), Ordering::Release);
    }
}

/// Store `new` into `cell` if it differs from `old` (a writer reads before it writes).
fn store_changed(cell: &AtomicU32, old: u32, new: u32) {
    if old != new {
        cell.store(new, Ordering::Relaxed);
    }
}

impl sealed::Store for LockfreeStat {
    type InLock = ();
    type Unlocked = AtomicAttrs;

    fn new(a: Attrs, usage: Usage) -> ((), AtomicAttrs) {
        let stamp = |t: Timespec| (AtomicI64::new(t.sec), AtomicI64::new(t.nsec));
        let cells = AtomicAttrs {
            perm: AtomicU32::new(a.perm),
            uid: AtomicU32::new(a.uid),
            gid: AtomicU32::new(a.gid),
            nlink: AtomicU32::new(a.nlink),
            size: AtomicU64::new(usage.size),
            blocks: AtomicU64::new(usage.blocks),
            times_seq: AtomicU32::new(0),
            times: [stamp(a.atime), stamp(a.mtime), stamp(a.ctime)],
        };
        ((), cells)
    }

    fn get(_: &(), c: &AtomicAttrs) -> Attrs {
        // The caller holds the lock every writer holds: plain relaxed loads see the last store.
        let [atime, mtime, ctime] = c
            .times
            .each_ref()
            .map(|(s, n)| Timespec::new(s.load(Ordering::Relaxed), n.load(Ordering::Relaxed)));
        Attrs {
            perm: c.perm.load(Ordering::Relaxed),
            uid: c.uid.load(Ordering::Relaxed),
            gid: c.gid.load(Ordering::Relaxed),
            nlink: c.nlink.load(Ordering::Relaxed),
            atime,
            mtime,
            ctime,
        }
    }

    fn set(_: &mut (), c: &AtomicAttrs, old: &Attrs, new: &Attrs) {
        store_changed(&c.perm, old.perm, new.perm);
        store_changed(&c.uid, old.uid, new.uid);
        store_changed(&c.gid, old.gid, new.gid);
        store_changed(&c.nlink, old.nlink, new.nlink);
        c.store_times(
            [old.atime, old.mtime, old.ctime],
            [new.atime, new.mtime, new.ctime],
        );
    }

    fn set_usage(c: &AtomicAttrs, usage: Usage) {
        c.size.store(usage.size, Ordering::Relaxed);
        c.blocks.store(usage.blocks, Ordering::Relaxed);
    }

    fn stat(inode: &TmpInode<Self>) -> (Attrs, Usage) {
        let c = &inode.cells;
        let [atime, mtime, ctime] = c.load_times();
        let attrs = Attrs {
            perm: c.perm.load(Ordering::Relaxed),
            uid: c.uid.load(Ordering::Relaxed),
            gid: c.gid.load(Ordering::Relaxed),
            nlink: c.nlink.load(Ordering::Relaxed),
            atime,
            mtime,
            ctime,
        };
        let usage = Usage {
            size: c.size.load(Ordering::Relaxed),
            blocks: c.blocks.load(Ordering::Relaxed),
        };
        (attrs, usage)
    }
}
