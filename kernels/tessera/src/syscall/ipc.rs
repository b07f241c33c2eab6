//! System V IPC calls: arguments decoded with Linux's types (keys, ids, flags, commands and
//! counts are `int`s or `unsigned int`s; sizes `size_t`; `msgtyp` a `long`), the work in
//! `ipc/`.

use alloc::vec::Vec;

use tessera_abi::{Errno, KResult};
use tessera_ipc::sem::{SEMOPM, SemBuf};

use super::Args;
use crate::ipc::{msg, sem, shm};
use crate::user;

/// The low 32 bits of an argument as a C `int`.
fn int(arg: u64) -> i32 {
    arg as u32 as i32
}

pub fn shmget(a: &Args) -> KResult<isize> {
    shm::shmget(int(a[0]), a[1], int(a[2]))
}

pub fn shmat(a: &Args) -> KResult<isize> {
    shm::shmat(int(a[0]), a[1], int(a[2]))
}

pub fn shmdt(a: &Args) -> KResult<isize> {
    shm::shmdt(a[0])
}

pub fn shmctl(a: &Args) -> KResult<isize> {
    shm::shmctl(int(a[0]), int(a[1]), a[2])
}

pub fn semget(a: &Args) -> KResult<isize> {
    sem::semget(int(a[0]), int(a[1]), int(a[2]))
}

pub fn semop(a: &Args) -> KResult<isize> {
    semtimedop_common(int(a[0]), a[1], a[2] as u32, None)
}

pub fn semtimedop(a: &Args) -> KResult<isize> {
    // Linux reads the timeout first (EFAULT) and checks it after the operations (EINVAL).
    let timeout = if a[3] != 0 {
        let mut b = [0u8; 16];
        user::read_into(a[3], &mut b)?;
        let sec = i64::from_le_bytes(b[..8].try_into().expect("8 bytes"));
        let nsec = i64::from_le_bytes(b[8..].try_into().expect("8 bytes"));
        Some((sec, nsec))
    } else {
        None
    };
    semtimedop_common(int(a[0]), a[1], a[2] as u32, timeout)
}

fn semtimedop_common(
    semid: i32,
    sops: u64,
    nsops: u32,
    timeout: Option<(i64, i64)>,
) -> KResult<isize> {
    if nsops < 1 || semid < 0 {
        return Err(Errno::EINVAL);
    }
    if nsops as usize > SEMOPM {
        return Err(Errno::E2BIG);
    }
    let bytes = user::read_bytes(sops, nsops as usize * SemBuf::SIZE)?;
    let ops: Vec<SemBuf> = bytes
        .chunks_exact(SemBuf::SIZE)
        .map(SemBuf::from_bytes)
        .collect();
    let timeout = match timeout {
        Some((sec, nsec)) if sec < 0 || !(0..1_000_000_000).contains(&nsec) => {
            return Err(Errno::EINVAL);
        }
        Some((sec, nsec)) => Some(crate::time::to_ns(sec as u64, nsec as u64)),
        None => None,
    };
    sem::semtimedop(semid, ops, timeout)
}

pub fn semctl(a: &Args) -> KResult<isize> {
    sem::semctl(int(a[0]), int(a[1]), int(a[2]), a[3])
}

pub fn msgget(a: &Args) -> KResult<isize> {
    msg::msgget(int(a[0]), int(a[1]))
}

pub fn msgsnd(a: &Args) -> KResult<isize> {
    // The type is read before anything is checked (EFAULT first).
    let mtype = user::read_u64(a[1])? as i64;
    msg::msgsnd(int(a[0]), mtype, a[1].wrapping_add(8), a[2], int(a[3]))
}

pub fn msgrcv(a: &Args) -> KResult<isize> {
    msg::msgrcv(int(a[0]), a[1], a[2], a[3] as i64, int(a[4]))
}

pub fn msgctl(a: &Args) -> KResult<isize> {
    msg::msgctl(int(a[0]), int(a[1]), a[2])
}
