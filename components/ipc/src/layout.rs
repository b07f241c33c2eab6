//! The structures the `*ctl` calls copy, as x86_64 Linux lays them out (`asm-generic/ipcbuf.h`,
//! `arch/x86/include/uapi/asm/shmbuf.h`, `sembuf.h`, `asm-generic/msgbuf.h`,
//! `linux/shm.h`, `linux/sem.h`, `linux/msg.h`). The 64-bit layouts are the only ones: the
//! x86_64 system calls take no `IPC_64` flag (the kernel refuses a command with it, EINVAL).

use crate::ids::Perm;

/// `struct ipc64_perm`.
pub const PERM_SIZE: usize = 48;
/// `struct shmid64_ds`.
pub const SHMID_DS_SIZE: usize = 112;
/// `struct semid64_ds`.
pub const SEMID_DS_SIZE: usize = 104;
/// `struct msqid64_ds`.
pub const MSQID_DS_SIZE: usize = 120;
/// `struct shminfo64`: nine `unsigned long`s.
pub const SHMINFO_SIZE: usize = 72;
/// `struct shm_info`: an int, then five `unsigned long`s.
pub const SHM_INFO_SIZE: usize = 48;
/// `struct seminfo`: ten ints.
pub const SEMINFO_SIZE: usize = 40;
/// `struct msginfo`: seven ints and an unsigned short.
pub const MSGINFO_SIZE: usize = 32;

fn put(buf: &mut [u8], at: usize, bytes: &[u8]) {
    buf[at..at + bytes.len()].copy_from_slice(bytes);
}

fn get_u32(buf: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(buf[at..at + 4].try_into().expect("4 bytes"))
}

fn get_u64(buf: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(buf[at..at + 8].try_into().expect("8 bytes"))
}

/// Writes `ipc64_perm` at the start of `buf`.
fn put_perm(buf: &mut [u8], perm: &Perm) {
    put(buf, 0, &perm.key.to_le_bytes());
    put(buf, 4, &perm.uid.to_le_bytes());
    put(buf, 8, &perm.gid.to_le_bytes());
    put(buf, 12, &perm.cuid.to_le_bytes());
    put(buf, 16, &perm.cgid.to_le_bytes());
    put(buf, 20, &perm.mode.to_le_bytes());
    put(buf, 24, &perm.seq.to_le_bytes());
}

/// What `IPC_SET` takes from a structure's `ipc64_perm`: uid, gid, mode.
pub fn perm_update(buf: &[u8]) -> (u32, u32, u32) {
    (get_u32(buf, 4), get_u32(buf, 8), get_u32(buf, 20))
}

/// `shmid64_ds`'s fields.
pub struct ShmidDs {
    pub segsz: u64,
    pub atime: i64,
    pub dtime: i64,
    pub ctime: i64,
    pub cpid: i32,
    pub lpid: i32,
    pub nattch: u64,
}

pub fn shmid_ds(perm: &Perm, ds: &ShmidDs) -> [u8; SHMID_DS_SIZE] {
    let mut b = [0; SHMID_DS_SIZE];
    put_perm(&mut b, perm);
    put(&mut b, 48, &ds.segsz.to_le_bytes());
    put(&mut b, 56, &ds.atime.to_le_bytes());
    put(&mut b, 64, &ds.dtime.to_le_bytes());
    put(&mut b, 72, &ds.ctime.to_le_bytes());
    put(&mut b, 80, &ds.cpid.to_le_bytes());
    put(&mut b, 84, &ds.lpid.to_le_bytes());
    put(&mut b, 88, &ds.nattch.to_le_bytes());
    b
}

pub fn semid_ds(perm: &Perm, otime: i64, ctime: i64, nsems: u64) -> [u8; SEMID_DS_SIZE] {
    let mut b = [0; SEMID_DS_SIZE];
    put_perm(&mut b, perm);
    put(&mut b, 48, &otime.to_le_bytes());
    put(&mut b, 64, &ctime.to_le_bytes());
    put(&mut b, 80, &nsems.to_le_bytes());
    b
}

/// `msqid64_ds`'s fields.
pub struct MsqidDs {
    pub stime: i64,
    pub rtime: i64,
    pub ctime: i64,
    pub cbytes: u64,
    pub qnum: u64,
    pub qbytes: u64,
    pub lspid: i32,
    pub lrpid: i32,
}

pub fn msqid_ds(perm: &Perm, ds: &MsqidDs) -> [u8; MSQID_DS_SIZE] {
    let mut b = [0; MSQID_DS_SIZE];
    put_perm(&mut b, perm);
    put(&mut b, 48, &ds.stime.to_le_bytes());
    put(&mut b, 56, &ds.rtime.to_le_bytes());
    put(&mut b, 64, &ds.ctime.to_le_bytes());
    put(&mut b, 72, &ds.cbytes.to_le_bytes());
    put(&mut b, 80, &ds.qnum.to_le_bytes());
    put(&mut b, 88, &ds.qbytes.to_le_bytes());
    put(&mut b, 96, &ds.lspid.to_le_bytes());
    put(&mut b, 100, &ds.lrpid.to_le_bytes());
    b
}

/// `msg_qbytes` of an `IPC_SET` buffer.
pub fn msqid_qbytes(buf: &[u8]) -> u64 {
    get_u64(buf, 88)
}

/// `shminfo64` (`IPC_INFO`): shmmax, shmmin, shmmni, shmseg, shmall.
pub fn shminfo(
    shmmax: u64,
    shmmin: u64,
    shmmni: u64,
    shmseg: u64,
    shmall: u64,
) -> [u8; SHMINFO_SIZE] {
    let mut b = [0; SHMINFO_SIZE];
    for (i, v) in [shmmax, shmmin, shmmni, shmseg, shmall]
        .into_iter()
        .enumerate()
    {
        put(&mut b, i * 8, &v.to_le_bytes());
    }
    b
}

/// `shm_info` (`SHM_INFO`): used_ids, shm_tot, shm_rss, shm_swp and the two swap counts.
pub fn shm_info(used_ids: i32, tot: u64, rss: u64) -> [u8; SHM_INFO_SIZE] {
    let mut b = [0; SHM_INFO_SIZE];
    put(&mut b, 0, &used_ids.to_le_bytes());
    put(&mut b, 8, &tot.to_le_bytes());
    put(&mut b, 16, &rss.to_le_bytes());
    b
}

/// `seminfo`: semmap, semmni, semmns, semmnu, semmsl, semopm, semume, semusz, semvmx, semaem.
pub fn seminfo(fields: [i32; 10]) -> [u8; SEMINFO_SIZE] {
    let mut b = [0; SEMINFO_SIZE];
    for (i, v) in fields.into_iter().enumerate() {
        put(&mut b, i * 4, &v.to_le_bytes());
    }
    b
}

/// `msginfo`: msgpool, msgmap, msgmax, msgmnb, msgmni, msgssz, msgtql, msgseg.
pub fn msginfo(fields: [i32; 7], msgseg: u16) -> [u8; MSGINFO_SIZE] {
    let mut b = [0; MSGINFO_SIZE];
    for (i, v) in fields.into_iter().enumerate() {
        put(&mut b, i * 4, &v.to_le_bytes());
    }
    put(&mut b, 28, &msgseg.to_le_bytes());
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perm_round_trip() {
        let perm = Perm {
            key: -2,
            uid: 1,
            gid: 2,
            cuid: 3,
            cgid: 4,
            mode: 0o1640,
            seq: 5,
        };
        let b = semid_ds(&perm, 7, 8, 9);
        assert_eq!(perm_update(&b), (1, 2, 0o1640));
        assert_eq!(&b[0..4], &(-2i32).to_le_bytes());
        assert_eq!(&b[24..26], &5u16.to_le_bytes());
        assert_eq!(get_u64(&b, 80), 9);
        let m = msqid_ds(
            &perm,
            &MsqidDs {
                stime: 0,
                rtime: 0,
                ctime: 0,
                cbytes: 1,
                qnum: 2,
                qbytes: 3,
                lspid: 4,
                lrpid: 5,
            },
        );
        assert_eq!(msqid_qbytes(&m), 3);
        assert_eq!(get_u32(&m, 100), 5);
    }
}
