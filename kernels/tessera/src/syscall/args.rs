//! System-call arguments decoded as Linux's prototypes type them (`include/linux/syscalls.h`).
//!
//! Every argument arrives as a 64-bit register; what the handler may read of it is the
//! prototype's type, and the decoding is the C conversion Linux's `SYSCALL_DEFINE` applies:
//!
//! | prototype | method | what it keeps |
//! |---|---|---|
//! | `int`, `pid_t`, `clockid_t`, an `int fd` | [`Decode::int`], [`Decode::pid`], [`Decode::fd`] | the low 32 bits, signed |
//! | `unsigned int`, `u32`, an `unsigned int fd`, a flags word of 32 bits | [`Decode::uint`] (`fd` for a descriptor) | the low 32 bits |
//! | `unsigned long` (addresses as numbers, the mm calls' flags) | [`Decode::ulong`] | all 64 bits |
//! | `long`, `off_t` (lseek's offset) | [`Decode::long`] | all 64 bits, signed |
//! | `umode_t` (a mode: `unsigned short`) | [`Decode::mode`] | the low 16 bits |
//! | `size_t` | [`Decode::size`] | all 64 bits, as a `usize` |
//! | `loff_t` | [`Decode::offset`] | all 64 bits; negative is the call's errno |
//! | `T __user *` | [`Decode::ptr`] | a [`UserPtr`]; [`user_range`] checks it with a length (Linux's `access_ok`) |
//!
//! A descriptor is an `int` in some prototypes and an `unsigned int` in others: both are the
//! low 32 bits, read as the fd table's `i32` (where a huge `unsigned int` is negative, which
//! the table refuses with EBADF as Linux's `fget` refuses an fd past its table).
//!
//! The time structures a call reads (`struct __kernel_timespec`, `__kernel_old_timeval`)
//! have Linux's checks in [`timespec_ns`] and [`timeval_ns`]: negative seconds or a
//! sub-second field out of range is EINVAL (`timespec64_valid`), and the conversion
//! saturates at `KTIME_MAX` (`ktime_set`).

use alloc::vec::Vec;

use tessera_abi::{Errno, KResult};

use crate::time::{KTIME_MAX, to_ns};
use crate::user;

/// The arguments of a syscall (rdi, rsi, rdx, r10, r8, r9), as the registers hold them.
pub type Args = [u64; 6];

/// Typed reads of a syscall's arguments, by position (0 to 5). Each is a register read and
/// at most one conversion: inlined, they cost what `a[i] as T` costs.
pub trait Decode {
    /// An `int` argument.
    fn int(&self, i: usize) -> i32;
    /// An `unsigned int` or `u32` argument, or a 32-bit flags word (`int flags` or
    /// `unsigned int flags`: the same bits).
    fn uint(&self, i: usize) -> u32;
    /// An `unsigned long` argument: the whole register.
    fn ulong(&self, i: usize) -> u64;
    /// A `long` or `off_t` argument: the whole register, signed.
    fn long(&self, i: usize) -> i64;
    /// A `umode_t` argument (an `unsigned short`).
    fn mode(&self, i: usize) -> u32;
    /// A `size_t` argument.
    fn size(&self, i: usize) -> usize;
    /// A `pid_t` argument (an `int`).
    fn pid(&self, i: usize) -> i32;
    /// A file descriptor, `int fd` or `unsigned int fd` (module doc).
    fn fd(&self, i: usize) -> i32;
    /// A `loff_t` argument: `negative` when it is below 0 (each call says which errno).
    fn offset(&self, i: usize, negative: Errno) -> KResult<u64>;
    /// A user pointer.
    fn ptr(&self, i: usize) -> UserPtr;
}

impl Decode for Args {
    #[inline(always)]
    fn int(&self, i: usize) -> i32 {
        self[i] as i32
    }
    #[inline(always)]
    fn uint(&self, i: usize) -> u32 {
        self[i] as u32
    }
    #[inline(always)]
    fn ulong(&self, i: usize) -> u64 {
        self[i]
    }
    #[inline(always)]
    fn long(&self, i: usize) -> i64 {
        self[i] as i64
    }
    #[inline(always)]
    fn mode(&self, i: usize) -> u32 {
        u32::from(self[i] as u16)
    }
    #[inline(always)]
    fn size(&self, i: usize) -> usize {
        self[i] as usize
    }
    #[inline(always)]
    fn pid(&self, i: usize) -> i32 {
        self[i] as i32
    }
    #[inline(always)]
    fn fd(&self, i: usize) -> i32 {
        self[i] as i32
    }
    #[inline(always)]
    fn offset(&self, i: usize, negative: Errno) -> KResult<u64> {
        if (self[i] as i64) < 0 {
            Err(negative)
        } else {
            Ok(self[i])
        }
    }
    #[inline(always)]
    fn ptr(&self, i: usize) -> UserPtr {
        UserPtr(self[i])
    }
}

/// An address in user memory, as a program passed it: not checked until used (each copy
/// checks its range, [`user_range`] checks one ahead of time). NULL is 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserPtr(u64);

impl UserPtr {
    /// An address read from user memory (a pointer inside a structure).
    #[inline(always)]
    pub fn new(addr: u64) -> Self {
        Self(addr)
    }

    /// The address.
    #[inline(always)]
    pub fn addr(self) -> u64 {
        self.0
    }

    #[inline(always)]
    pub fn is_null(self) -> bool {
        self.0 == 0
    }

    /// `None` for NULL: for the arguments NULL makes optional.
    #[inline(always)]
    pub fn nonnull(self) -> Option<Self> {
        (self.0 != 0).then_some(self)
    }

    /// The address `bytes` further on (saturating: past the end of the address space is
    /// never user memory, so a copy there is EFAULT).
    #[inline(always)]
    pub fn at(self, bytes: u64) -> Self {
        Self(self.0.saturating_add(bytes))
    }

    pub fn read_into(self, buf: &mut [u8]) -> KResult<()> {
        user::read_into(self.0, buf)
    }

    pub fn read_bytes(self, len: usize) -> KResult<Vec<u8>> {
        user::read_bytes(self.0, len)
    }

    pub fn write_bytes(self, data: &[u8]) -> KResult<()> {
        user::write_bytes(self.0, data)
    }

    pub fn read_u64(self) -> KResult<u64> {
        user::read_u64(self.0)
    }

    pub fn write_u32(self, value: u32) -> KResult<()> {
        user::write_u32(self.0, value)
    }

    pub fn write_u64(self, value: u64) -> KResult<()> {
        user::write_u64(self.0, value)
    }

    /// A path (`const char __user *filename`): EFAULT, ENAMETOOLONG, ENOENT. Inlined as
    /// `user::read_path` is: the path may be a page-sized buffer on the stack, which a call
    /// boundary would copy.
    #[inline(always)]
    pub fn read_path(self) -> KResult<user::UserPath> {
        user::read_path(self.0)
    }

    /// A NULL-terminated array of strings (`const char __user *const __user *argv`).
    pub fn read_string_array(self) -> KResult<Vec<Vec<u8>>> {
        user::read_string_array(self.0)
    }

    /// A `struct __kernel_timespec` in ns ([`timespec_ns`]); EFAULT, EINVAL.
    pub fn read_timespec(self) -> KResult<u64> {
        let mut raw = [0u8; TIMESPEC_SIZE];
        self.read_into(&mut raw)?;
        timespec_ns(&raw)
    }
}

/// `ptr` if `len` bytes from it lie in the user half, else EFAULT: Linux's `access_ok`
/// ([`user::access_ok`]), which a call makes before it does anything with a buffer it
/// knows the length of.
#[inline]
pub fn user_range(ptr: UserPtr, len: u64) -> KResult<UserPtr> {
    if user::access_ok(ptr.0, len) {
        Ok(ptr)
    } else {
        Err(Errno::EFAULT)
    }
}

/// Bytes of a `struct __kernel_timespec` (and of a `__kernel_old_timeval`).
pub const TIMESPEC_SIZE: usize = 16;
pub const TIMEVAL_SIZE: usize = 16;

const NSEC_PER_SEC: u64 = 1_000_000_000;

fn halves(raw: &[u8]) -> (i64, i64) {
    let word = |at: usize| i64::from_le_bytes(raw[at..at + 8].try_into().expect("8 bytes"));
    (word(0), word(8))
}

/// The first 16 bytes of `raw` as a `timespec` in ns: EINVAL unless `tv_sec >= 0` and
/// `0 <= tv_nsec < 10^9` (`timespec64_valid`); saturating at `KTIME_MAX` (`ktime_set`).
pub fn timespec_ns(raw: &[u8]) -> KResult<u64> {
    let (sec, nsec) = halves(raw);
    if sec < 0 || !(0..NSEC_PER_SEC as i64).contains(&nsec) {
        return Err(Errno::EINVAL);
    }
    Ok(to_ns(sec as u64, nsec as u64).min(KTIME_MAX))
}

/// The first 16 bytes of `raw` as a `timeval` in ns: EINVAL unless `tv_sec >= 0` and
/// `0 <= tv_usec < 10^6` (Linux converts it to a timespec and checks that); saturating.
pub fn timeval_ns(raw: &[u8]) -> KResult<u64> {
    let (sec, usec) = halves(raw);
    if sec < 0 || !(0..1_000_000).contains(&usec) {
        return Err(Errno::EINVAL);
    }
    Ok(to_ns(sec as u64, usec as u64 * 1000).min(KTIME_MAX))
}

/// `ns` as a `struct __kernel_timespec`.
pub fn timespec_bytes(ns: u64) -> [u8; TIMESPEC_SIZE] {
    let mut b = [0u8; TIMESPEC_SIZE];
    b[..8].copy_from_slice(&(ns / NSEC_PER_SEC).to_le_bytes());
    b[8..].copy_from_slice(&(ns % NSEC_PER_SEC).to_le_bytes());
    b
}

/// `ns` as a `struct __kernel_old_timeval` (microseconds, rounded down).
pub fn timeval_bytes(ns: u64) -> [u8; TIMEVAL_SIZE] {
    let mut b = [0u8; TIMEVAL_SIZE];
    b[..8].copy_from_slice(&(ns / NSEC_PER_SEC).to_le_bytes());
    b[8..].copy_from_slice(&((ns % NSEC_PER_SEC) / 1000).to_le_bytes());
    b
}
