//! System V IPC without the kernel: what `shmget`, `semget`, `msgget` and their companions
//! decide, after Linux's `ipc/util.c`, `ipc/sem.c`, `ipc/msg.c` and `ipc/shm.c`.
//!
//! | module | what it holds |
//! |---|---|
//! | [`ids`] | the id table of one kind: keys, `IPC_PRIVATE`, `IPC_CREAT`/`IPC_EXCL`, ids made of a slot and a sequence number, the permission checks |
//! | [`sem`] | a semaphore set: `semop`'s all-or-nothing operations, `SEM_UNDO` adjustments, the queue of waiting operations and who they count as (`semncnt`, `semzcnt`) |
//! | [`msg`] | a message queue: the byte limit (`msg_qbytes`), `msgrcv`'s type rules (`0`, `> 0`, `< 0`, `MSG_EXCEPT`, `MSG_COPY`), `E2BIG` and `MSG_NOERROR`, hand-over to waiting receivers |
//! | [`shm`] | shared memory's limits and `shmat`'s address rules |
//! | [`layout`] | the structures user space reads and writes (`ipc64_perm`, `shmid64_ds`, `semid64_ds`, `msqid64_ds`, the `*info` records), as x86_64 Linux lays them out |
//!
//! The kernel keeps the tables behind its locks, blocks and wakes tasks, copies to and from
//! user memory and maps shared memory; everything here is plain data, tested on the host.
//! A waiting task is a type parameter `W` (the kernel's handle on it): operations that
//! complete a waiter's request hand back the waiter and its result, for the kernel to wake.

#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod ids;
pub mod layout;
pub mod msg;
pub mod sem;
pub mod shm;

pub use ids::{Cred, Ids, Perm};
pub use tessera_abi::Errno;

/// `key_t` for an object no key finds (`IPC_PRIVATE`).
pub const IPC_PRIVATE: i32 = 0;
/// Create the object if the key names none.
pub const IPC_CREAT: i32 = 0o1000;
/// With `IPC_CREAT`: fail with EEXIST if the key names one.
pub const IPC_EXCL: i32 = 0o2000;
/// Do not wait (semop, msgsnd, msgrcv).
pub const IPC_NOWAIT: i32 = 0o4000;

/// The `*ctl` commands every kind takes.
pub const IPC_RMID: i32 = 0;
pub const IPC_SET: i32 = 1;
pub const IPC_STAT: i32 = 2;
pub const IPC_INFO: i32 = 3;

/// The permission bits an object keeps from its creation flags and `IPC_SET` (`S_IRWXUGO`).
pub const MODE_BITS: u32 = 0o777;
