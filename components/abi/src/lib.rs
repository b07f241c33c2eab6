//! Numbers and layouts of the Linux x86_64 ABI, shared by Tessera's components and kernel.
//!
//! One module per area; each owns its constants so that components do not redefine them.
//! Plain data: no behaviour beyond conversions.
#![cfg_attr(not(test), no_std)]

pub mod auxv;
pub mod errno;
pub mod events;
pub mod fs;
pub mod futex;
pub mod mm;
pub mod net;
pub mod poll;
pub mod process;
pub mod signal;
pub mod sysno;
pub mod system;
pub mod termios;
pub mod time;

pub use errno::Errno;

/// Result of a kernel operation that fails with a Linux error number.
pub type KResult<T> = Result<T, Errno>;
