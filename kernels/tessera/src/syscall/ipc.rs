//! System V IPC calls: arguments decoded with Linux's types (keys, ids, flags, commands and
//! counts are `int`s or `unsigned int`s; sizes `size_t`; `msgtyp` a `long`), the work in
//! `ipc/`.

use alloc::vec::Vec;

use tessera_abi::{Errno, KResult};
use tessera_ipc::sem::{SEMOPM, SemBuf};

use super::Args;
use super::args::Decode;
use crate::ipc::{msg, sem, shm};

pub fn shmget(a: &Args) -> KResult<isize> {
    shm::shmget(a.int(0), a.size(1) as u64, a.int(2))
}

pub fn shmat(a: &Args) -> KResult<isize> {
    shm::shmat(a.int(0), a.ptr(1).addr(), a.int(2))
}

pub fn shmdt(a: &Args) -> KResult<isize> {
    shm::shmdt(a.ptr(0).addr())
}

pub fn shmctl(a: &Args) -> KResult<isize> {
    shm::shmctl(a.int(0), a.int(1), a.ptr(2).addr())
}

pub fn semget(a: &Args) -> KResult<isize> {
    sem::semget(a.int(0), a.int(1), a.int(2))
}

pub fn semop(a: &Args) -> KResult<isize> {
    semtimedop_common(a.int(0), a.ptr(1).addr(), a.uint(2), None)
}

pub fn semtimedop(a: &Args) -> KResult<isize> {
    // Linux reads the timeout first (EFAULT) and checks it after the operations (EINVAL).
    let timeout = if let Some(at) = a.ptr(3).nonnull() {
        let mut b = [0u8; 16];
        at.read_into(&mut b)?;
        Some(b)
    } else {
        None
    };
    semtimedop_common(a.int(0), a.ptr(1).addr(), a.uint(2), timeout)
}

fn semtimedop_common(
    semid: i32,
    sops: u64,
    nsops: u32,
    timeout: Option<[u8; 16]>,
) -> KResult<isize> {
    if nsops < 1 || semid < 0 {
        return Err(Errno::EINVAL);
    }
    if nsops as usize > SEMOPM {
        return Err(Errno::E2BIG);
    }
    let bytes = super::args::UserPtr::new(sops).read_bytes(nsops as usize * SemBuf::SIZE)?;
    let ops: Vec<SemBuf> = bytes
        .chunks_exact(SemBuf::SIZE)
        .map(SemBuf::from_bytes)
        .collect();
    let timeout = timeout
        .map(|raw| super::args::timespec_ns(&raw))
        .transpose()?;
    sem::semtimedop(semid, ops, timeout)
}

pub fn semctl(a: &Args) -> KResult<isize> {
    sem::semctl(a.int(0), a.int(1), a.int(2), a.ulong(3))
}

pub fn msgget(a: &Args) -> KResult<isize> {
    msg::msgget(a.int(0), a.int(1))
}

pub fn msgsnd(a: &Args) -> KResult<isize> {
    // The type is read before anything is checked (EFAULT first).
    let msgp = a.ptr(1);
    let mtype = msgp.read_u64()? as i64;
    msg::msgsnd(
        a.int(0),
        mtype,
        msgp.at(8).addr(),
        a.size(2) as u64,
        a.int(3),
    )
}

pub fn msgrcv(a: &Args) -> KResult<isize> {
    msg::msgrcv(
        a.int(0),
        a.ptr(1).addr(),
        a.size(2) as u64,
        a.ulong(3) as i64,
        a.int(4),
    )
}

pub fn msgctl(a: &Args) -> KResult<isize> {
    msg::msgctl(a.int(0), a.int(1), a.ptr(2).addr())
}
