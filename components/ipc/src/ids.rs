//! The id table of one IPC kind (Linux's `struct ipc_ids`, `ipc/util.c`).
//!
//! An id is `seq * SEQ_MULTIPLIER + index`: `index` is the object's slot, `seq` a counter
//! the table bumps each time a slot at or below the last one handed out is reused, so that a
//! stale id of a removed object does not name its slot's next occupant (EINVAL). Slots are
//! handed out cyclically (`idr_alloc_cyclic`) below `max(in_use * 3 / 2, 64)`, capped by the
//! kind's limit on objects (`SHMMNI`, `SEMMNI`, `MSGMNI`), as Linux does.
//!
//! Permissions are `ipcperms`: the owner's, the group's or the others' three bits, by the
//! caller's ids, unless the caller has `CAP_IPC_OWNER`. Tessera runs everything as root, so
//! the kernel's caller always has the capability and the checks never refuse today; they are
//! here, tested, for when credentials come.

use alloc::vec::Vec;

use crate::{Errno, IPC_CREAT, IPC_EXCL, IPC_PRIVATE, MODE_BITS};

/// Ids are `seq * SEQ_MULTIPLIER + index` (Linux's `IPCMNI`, 32768, without
/// `ipcmni_extend`).
pub const SEQ_MULTIPLIER: i32 = 1 << 15;
/// The sequence number wraps to 0 past this (`ipcid_seq_max`: `INT_MAX >> 15`).
pub const SEQ_MAX: i32 = i32::MAX >> 15;
/// Slots are handed out cyclically below at least this many (`ipc_min_cycle`).
const MIN_CYCLE: usize = 64;

/// Who asks: effective ids and the capabilities IPC looks at.
#[derive(Clone, Copy, Debug)]
pub struct Cred {
    pub uid: u32,
    pub gid: u32,
    /// `CAP_IPC_OWNER`: the permission bits do not apply.
    pub ipc_owner: bool,
    /// `CAP_SYS_ADMIN`: may `IPC_SET` and `IPC_RMID` any object.
    pub sys_admin: bool,
}

impl Cred {
    /// Root with every capability: every Tessera process today.
    pub const ROOT: Cred = Cred {
        uid: 0,
        gid: 0,
        ipc_owner: true,
        sys_admin: true,
    };
}

/// An object's key, owner, creator and mode (`struct kern_ipc_perm`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Perm {
    pub key: i32,
    pub uid: u32,
    pub gid: u32,
    pub cuid: u32,
    pub cgid: u32,
    /// The permission bits, and a kind's state bits above them (`SHM_DEST`, `SHM_LOCKED`).
    pub mode: u32,
    pub seq: u16,
}

impl Perm {
    /// `ipcperms`: whether `cred` may access the object for the rwx bits in `flag` (any of
    /// the three triplets counts: Linux folds `flag >> 6 | flag >> 3 | flag`).
    pub fn permits(&self, cred: &Cred, flag: u32) -> bool {
        let requested = (flag >> 6) | (flag >> 3) | flag;
        let mut granted = self.mode;
        if cred.uid == self.cuid || cred.uid == self.uid {
            granted >>= 6;
        } else if cred.gid == self.cgid || cred.gid == self.gid {
            granted >>= 3;
        }
        requested & !granted & 0o7 == 0 || cred.ipc_owner
    }

    /// Whether `cred` may `IPC_SET` or `IPC_RMID` it (`ipcctl_obtain_check`): its creator,
    /// its owner, or `CAP_SYS_ADMIN`; EPERM otherwise.
    pub fn may_change(&self, cred: &Cred) -> Result<(), Errno> {
        if cred.sys_admin || cred.uid == self.cuid || cred.uid == self.uid {
            Ok(())
        } else {
            Err(Errno::EPERM)
        }
    }

    /// `IPC_SET`'s new owner and permission bits (`ipc_update_perm`): EINVAL for an id no
    /// user namespace maps (`(uid_t)-1`).
    pub fn update(&mut self, uid: u32, gid: u32, mode: u32) -> Result<(), Errno> {
        if uid == u32::MAX || gid == u32::MAX {
            return Err(Errno::EINVAL);
        }
        self.uid = uid;
        self.gid = gid;
        self.mode = (self.mode & !MODE_BITS) | (mode & MODE_BITS);
        Ok(())
    }
}

/// One object and its permissions.
pub struct Entry<T> {
    pub perm: Perm,
    pub object: T,
}

/// The objects of one kind, by slot.
pub struct Ids<T> {
    slots: Vec<Option<Entry<T>>>,
    in_use: usize,
    /// The most objects at once (`SHMMNI`, `SEMMNI`, `MSGMNI`).
    limit: usize,
    seq: i32,
    /// The last slot handed out (-1 before the first).
    last: isize,
    /// Where the cyclic search for a free slot starts.
    next: usize,
}

/// The slot of an id (`ipcid_to_idx`).
pub fn index_of(id: i32) -> usize {
    (id % SEQ_MULTIPLIER) as usize
}

impl<T> Ids<T> {
    pub const fn new(limit: usize) -> Self {
        Ids {
            slots: Vec::new(),
            in_use: 0,
            limit,
            seq: 0,
            last: -1,
            next: 0,
        }
    }

    /// How many objects exist.
    pub fn in_use(&self) -> usize {
        self.in_use
    }

    /// The highest slot in use, -1 when none (`ipc_get_maxidx`; what the `*_INFO`
    /// commands return).
    pub fn max_index(&self) -> i32 {
        if self.in_use == 0 {
            return -1;
        }
        if self.in_use == self.limit {
            return self.limit as i32 - 1;
        }
        self.slots
            .iter()
            .rposition(Option::is_some)
            .map_or(-1, |i| i as i32)
    }

    /// The object an id names (`ipc_obtain_object_check`): EINVAL for a negative id, an
    /// empty slot or a sequence number that is not the occupant's.
    pub fn get(&self, id: i32) -> Result<&Entry<T>, Errno> {
        if id < 0 {
            return Err(Errno::EINVAL);
        }
        match self.slots.get(index_of(id)) {
            Some(Some(entry)) if i32::from(entry.perm.seq) == id / SEQ_MULTIPLIER => Ok(entry),
            _ => Err(Errno::EINVAL),
        }
    }

    /// [`Ids::get`], to change it.
    pub fn get_mut(&mut self, id: i32) -> Result<&mut Entry<T>, Errno> {
        self.get(id)?;
        Ok(self.slots[index_of(id)].as_mut().expect("checked"))
    }

    /// The object in a slot, whatever the sequence number (`SHM_STAT`, `SEM_STAT`,
    /// `MSG_STAT` take an index): EINVAL when empty or out of range.
    pub fn get_by_index(&self, index: i32) -> Result<(i32, &Entry<T>), Errno> {
        let slot = usize::try_from(index).map_err(|_| Errno::EINVAL)?;
        match self.slots.get(slot) {
            Some(Some(entry)) => Ok((Self::id(slot, entry), entry)),
            _ => Err(Errno::EINVAL),
        }
    }

    fn id(slot: usize, entry: &Entry<T>) -> i32 {
        i32::from(entry.perm.seq) * SEQ_MULTIPLIER + slot as i32
    }

    /// Every object with its id.
    pub fn iter(&self) -> impl Iterator<Item = (i32, &Entry<T>)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(slot, e)| e.as_ref().map(|e| (Self::id(slot, e), e)))
    }

    /// Every object with its id, to change them.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (i32, &mut Entry<T>)> {
        self.slots
            .iter_mut()
            .enumerate()
            .filter_map(|(slot, e)| e.as_mut().map(|e| (Self::id(slot, e), e)))
    }

    /// The id of the object with this key (never `IPC_PRIVATE`'s).
    fn find_key(&self, key: i32) -> Option<i32> {
        if key == IPC_PRIVATE {
            return None;
        }
        self.iter()
            .find(|(_, e)| e.perm.key == key)
            .map(|(id, _)| id)
    }

    /// `shmget`, `semget`, `msgget` (`ipcget`): a new object for `IPC_PRIVATE` or an
    /// unknown key with `IPC_CREAT` (ENOENT without), EEXIST for a known key with
    /// `IPC_CREAT | IPC_EXCL`; a known key's object after the kind's own checks (`check`,
    /// e.g. a segment smaller than asked: EINVAL) and the permission bits of `flags`
    /// (EACCES). `create` makes the object (its own errors: EINVAL, ENOSPC...), and a full
    /// table is ENOSPC.
    pub fn get_or_create(
        &mut self,
        key: i32,
        flags: i32,
        cred: &Cred,
        check: impl FnOnce(&T) -> Result<(), Errno>,
        create: impl FnOnce() -> Result<T, Errno>,
    ) -> Result<i32, Errno> {
        match self.find_key(key) {
            None if key != IPC_PRIVATE && flags & IPC_CREAT == 0 => Err(Errno::ENOENT),
            None => {
                let object = create()?;
                self.add(key, flags as u32 & MODE_BITS, cred, object)
            }
            Some(_) if flags & IPC_CREAT != 0 && flags & IPC_EXCL != 0 => Err(Errno::EEXIST),
            Some(id) => {
                let entry = self.get(id).expect("found");
                check(&entry.object)?;
                if !entry.perm.permits(cred, flags as u32) {
                    return Err(Errno::EACCES);
                }
                Ok(id)
            }
        }
    }

    /// Adds an object (`ipc_addid`): ENOSPC when the table is full.
    pub fn add(&mut self, key: i32, mode: u32, cred: &Cred, object: T) -> Result<i32, Errno> {
        if self.in_use >= self.limit {
            return Err(Errno::ENOSPC);
        }
        let end = (self.in_use * 3 / 2).max(MIN_CYCLE).min(self.limit);
        let free = |from: usize, slots: &Vec<Option<Entry<T>>>| {
            (from..end).find(|&i| slots.get(i).is_none_or(Option::is_none))
        };
        let slot = free(self.next, &self.slots)
            .or_else(|| free(0, &self.slots))
            .ok_or(Errno::ENOSPC)?;
        self.next = slot + 1;
        if slot as isize <= self.last {
            self.seq += 1;
            if self.seq >= SEQ_MAX {
                self.seq = 0;
            }
        }
        self.last = slot as isize;
        if self.slots.len() <= slot {
            self.slots.resize_with(slot + 1, || None);
        }
        let perm = Perm {
            key,
            uid: cred.uid,
            gid: cred.gid,
            cuid: cred.uid,
            cgid: cred.gid,
            mode,
            seq: self.seq as u16,
        };
        let entry = Entry { perm, object };
        let id = Self::id(slot, &entry);
        self.slots[slot] = Some(entry);
        self.in_use += 1;
        Ok(id)
    }

    /// Removes the object `id` names (`ipc_rmid`).
    pub fn remove(&mut self, id: i32) -> Result<Entry<T>, Errno> {
        self.get(id)?;
        self.in_use -= 1;
        let entry = self.slots[index_of(id)].take().expect("checked");
        while self.slots.last().is_some_and(Option::is_none) {
            self.slots.pop();
        }
        Ok(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Ids<u32> {
        Ids::new(128)
    }

    #[test]
    fn private_keys_always_create() {
        let mut ids = table();
        let a = ids.get_or_create(IPC_PRIVATE, 0o600, &Cred::ROOT, |_| Ok(()), || Ok(1));
        let b = ids.get_or_create(IPC_PRIVATE, 0o600, &Cred::ROOT, |_| Ok(()), || Ok(2));
        assert_eq!((a, b), (Ok(0), Ok(1)));
        assert_eq!(ids.get(1).unwrap().perm.mode, 0o600);
    }

    #[test]
    fn keys_creat_and_excl() {
        let mut ids = table();
        let ok = |_: &u32| Ok(());
        assert_eq!(
            ids.get_or_create(7, 0, &Cred::ROOT, ok, || Ok(1)),
            Err(Errno::ENOENT)
        );
        let id = ids
            .get_or_create(7, IPC_CREAT | 0o640, &Cred::ROOT, ok, || Ok(1))
            .unwrap();
        assert_eq!(ids.get_or_create(7, 0, &Cred::ROOT, ok, || Ok(2)), Ok(id));
        assert_eq!(
            ids.get_or_create(7, IPC_CREAT, &Cred::ROOT, ok, || Ok(2)),
            Ok(id)
        );
        let excl = IPC_CREAT | IPC_EXCL;
        assert_eq!(
            ids.get_or_create(7, excl, &Cred::ROOT, ok, || Ok(2)),
            Err(Errno::EEXIST)
        );
        // IPC_EXCL alone does nothing.
        assert_eq!(
            ids.get_or_create(7, IPC_EXCL, &Cred::ROOT, ok, || Ok(2)),
            Ok(id)
        );
        // The kind's check runs before the permissions.
        let small = |_: &u32| Err(Errno::EINVAL);
        assert_eq!(
            ids.get_or_create(7, 0, &Cred::ROOT, small, || Ok(2)),
            Err(Errno::EINVAL)
        );
    }

    #[test]
    fn sequence_numbers_make_stale_ids_invalid() {
        let mut ids = table();
        let a = ids.add(0, 0, &Cred::ROOT, 1).unwrap();
        let b = ids.add(0, 0, &Cred::ROOT, 2).unwrap();
        assert_eq!((a, b), (0, 1));
        ids.remove(a).unwrap();
        assert_eq!(ids.get(a).err(), Some(Errno::EINVAL));
        // Slots are cyclic: the next one is 2, then 3...
        assert_eq!(ids.add(0, 0, &Cred::ROOT, 3), Ok(2));
        // The cycle is max(in_use * 3 / 2, 64) slots long (capped by the limit).
        for slot in 3..64 {
            assert_eq!(ids.add(0, 0, &Cred::ROOT, 0), Ok(slot));
        }
        assert_eq!(ids.add(0, 0, &Cred::ROOT, 0), Ok(64));
        assert_eq!(ids.max_index(), 64);
        assert_eq!(ids.get(-1).err(), Some(Errno::EINVAL));
        // At the end of the cycle, a freed slot comes back with the next sequence number.
        let mut small: Ids<u32> = Ids::new(4);
        for slot in 0..4 {
            assert_eq!(small.add(0, 0, &Cred::ROOT, slot), Ok(slot as i32));
        }
        small.remove(0).unwrap();
        assert_eq!(small.add(0, 0, &Cred::ROOT, 4), Ok(SEQ_MULTIPLIER));
        assert_eq!(small.get(0).err(), Some(Errno::EINVAL));
        assert_eq!(small.get(SEQ_MULTIPLIER).map(|e| e.object), Ok(4));
        assert_eq!(small.get_by_index(0).map(|(id, _)| id), Ok(SEQ_MULTIPLIER));
    }

    #[test]
    fn full_table_is_enospc() {
        let mut ids: Ids<()> = Ids::new(3);
        for _ in 0..3 {
            ids.add(0, 0, &Cred::ROOT, ()).unwrap();
        }
        assert_eq!(ids.add(0, 0, &Cred::ROOT, ()), Err(Errno::ENOSPC));
        assert_eq!(ids.max_index(), 2);
    }

    #[test]
    fn permission_bits() {
        let user = Cred {
            uid: 1000,
            gid: 100,
            ipc_owner: false,
            sys_admin: false,
        };
        let mut perm = Perm {
            key: 1,
            uid: 1000,
            gid: 100,
            cuid: 0,
            cgid: 0,
            mode: 0o640,
            seq: 0,
        };
        assert!(perm.permits(&user, 0o600));
        assert!(!perm.permits(&user, 0o100));
        let group = Cred { uid: 1, ..user };
        assert!(perm.permits(&group, 0o040));
        assert!(!perm.permits(&group, 0o200));
        let other = Cred {
            uid: 1,
            gid: 1,
            ..user
        };
        assert!(!perm.permits(&other, 0o004));
        assert!(perm.permits(&Cred::ROOT, 0o777));
        assert_eq!(perm.may_change(&other), Err(Errno::EPERM));
        assert_eq!(perm.may_change(&user), Ok(()));
        assert_eq!(perm.update(u32::MAX, 0, 0), Err(Errno::EINVAL));
        perm.mode |= 0o1000;
        perm.update(5, 6, 0o7777).unwrap();
        assert_eq!((perm.uid, perm.gid, perm.mode), (5, 6, 0o1777));
    }
}
