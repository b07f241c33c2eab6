//! Futexes and robust lists (`linux/futex.h`).
//!
//! `futex(2)`'s `op` is an `int` and its values `u32`: every constant here is a `u32`, to be
//! compared with the argument truncated to 32 bits.

/// `FUTEX_WAIT`: sleep while the futex word holds the given value (relative timeout,
/// `CLOCK_MONOTONIC`).
pub const FUTEX_WAIT: u32 = 0;
/// `FUTEX_WAKE`: wake up to the given number of waiters.
pub const FUTEX_WAKE: u32 = 1;
/// `FUTEX_FD`: removed in Linux 2.6.26 (ENOSYS).
pub const FUTEX_FD: u32 = 2;
/// `FUTEX_REQUEUE`: wake some waiters, move others to a second futex.
pub const FUTEX_REQUEUE: u32 = 3;
/// `FUTEX_CMP_REQUEUE`: `FUTEX_REQUEUE` if the word still holds `val3` (else EAGAIN).
pub const FUTEX_CMP_REQUEUE: u32 = 4;
/// `FUTEX_WAKE_OP`: change a second word, wake the first futex's waiters and, if the old
/// value of the second word passes a comparison, the second's.
pub const FUTEX_WAKE_OP: u32 = 5;
/// `FUTEX_LOCK_PI`: take a priority-inheritance lock (absolute timeout, `CLOCK_REALTIME`).
pub const FUTEX_LOCK_PI: u32 = 6;
/// `FUTEX_UNLOCK_PI`: release it, handing it to the first waiter.
pub const FUTEX_UNLOCK_PI: u32 = 7;
/// `FUTEX_TRYLOCK_PI`: take it only if that needs no waiting.
pub const FUTEX_TRYLOCK_PI: u32 = 8;
/// `FUTEX_WAIT_BITSET`: `FUTEX_WAIT` with a wake-up mask and an absolute timeout.
pub const FUTEX_WAIT_BITSET: u32 = 9;
/// `FUTEX_WAKE_BITSET`: `FUTEX_WAKE` for the waiters whose mask shares a bit with `val3`.
pub const FUTEX_WAKE_BITSET: u32 = 10;
/// `FUTEX_WAIT_REQUEUE_PI`: wait to be requeued onto a PI futex.
pub const FUTEX_WAIT_REQUEUE_PI: u32 = 11;
/// `FUTEX_CMP_REQUEUE_PI`: requeue onto a PI futex.
pub const FUTEX_CMP_REQUEUE_PI: u32 = 12;
/// `FUTEX_LOCK_PI2`: `FUTEX_LOCK_PI` with a `CLOCK_MONOTONIC` timeout unless
/// `FUTEX_CLOCK_REALTIME` is given.
pub const FUTEX_LOCK_PI2: u32 = 13;

/// `FUTEX_PRIVATE_FLAG`: the futex is not shared between processes.
pub const FUTEX_PRIVATE_FLAG: u32 = 128;
/// `FUTEX_CLOCK_REALTIME`: timeouts are measured on `CLOCK_REALTIME`.
pub const FUTEX_CLOCK_REALTIME: u32 = 256;
/// `FUTEX_CMD_MASK`: the operation bits, without the two flags above.
pub const FUTEX_CMD_MASK: u32 = !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);

/// `FUTEX_BITSET_MATCH_ANY`: the mask of `FUTEX_WAIT` and `FUTEX_WAKE`.
pub const FUTEX_BITSET_MATCH_ANY: u32 = 0xffff_ffff;

/// `FUTEX_WAITERS`: a PI or robust futex word has waiters in the kernel.
pub const FUTEX_WAITERS: u32 = 0x8000_0000;
/// `FUTEX_OWNER_DIED`: the owner of a PI or robust futex died holding it.
pub const FUTEX_OWNER_DIED: u32 = 0x4000_0000;
/// `FUTEX_TID_MASK`: the owner's thread id in a PI or robust futex word.
pub const FUTEX_TID_MASK: u32 = 0x3fff_ffff;

/// `FUTEX_OP_SET` (`FUTEX_WAKE_OP`'s operation, bits 28-30 of `val3`): store `oparg`.
pub const FUTEX_OP_SET: u32 = 0;
/// `FUTEX_OP_ADD`: add `oparg`.
pub const FUTEX_OP_ADD: u32 = 1;
/// `FUTEX_OP_OR`: or `oparg` in.
pub const FUTEX_OP_OR: u32 = 2;
/// `FUTEX_OP_ANDN`: clear the bits of `oparg`.
pub const FUTEX_OP_ANDN: u32 = 3;
/// `FUTEX_OP_XOR`: exclusive-or `oparg` in.
pub const FUTEX_OP_XOR: u32 = 4;
/// `FUTEX_OP_OPARG_SHIFT`: this bit of the operation field makes `oparg` mean `1 << oparg`.
pub const FUTEX_OP_OPARG_SHIFT: u32 = 8;

/// `FUTEX_OP_CMP_EQ` (`FUTEX_WAKE_OP`'s comparison, bits 24-27 of `val3`): old == cmparg.
pub const FUTEX_OP_CMP_EQ: u32 = 0;
/// `FUTEX_OP_CMP_NE`: old != cmparg.
pub const FUTEX_OP_CMP_NE: u32 = 1;
/// `FUTEX_OP_CMP_LT`: old < cmparg (signed).
pub const FUTEX_OP_CMP_LT: u32 = 2;
/// `FUTEX_OP_CMP_LE`: old <= cmparg (signed).
pub const FUTEX_OP_CMP_LE: u32 = 3;
/// `FUTEX_OP_CMP_GT`: old > cmparg (signed).
pub const FUTEX_OP_CMP_GT: u32 = 4;
/// `FUTEX_OP_CMP_GE`: old >= cmparg (signed).
pub const FUTEX_OP_CMP_GE: u32 = 5;

/// `FUTEX_WAKE_OP`'s `val3`, decoded: `(op << 28) | (cmp << 24) | (oparg << 12) | cmparg`,
/// both arguments 12-bit signed fields (`FUTEX_OP` in `linux/futex.h`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WakeOp {
    /// `FUTEX_OP_SET` .. `FUTEX_OP_XOR` (others are ENOSYS).
    pub op: u32,
    /// `FUTEX_OP_CMP_EQ` .. `FUTEX_OP_CMP_GE` (others are ENOSYS).
    pub cmp: u32,
    /// The operand, already shifted (`1 << oparg`, as an `int`) with `FUTEX_OP_OPARG_SHIFT`.
    pub oparg: i32,
    /// The comparison's operand.
    pub cmparg: i32,
}

impl WakeOp {
    /// Decodes `val3`. A shift out of 0..=31 is taken modulo 32, as Linux does (with a
    /// warning in its log).
    pub fn decode(encoded: u32) -> WakeOp {
        let field = |value: u32| ((value << 20) as i32) >> 20;
        let mut oparg = field((encoded >> 12) & 0xfff);
        if encoded & (FUTEX_OP_OPARG_SHIFT << 28) != 0 {
            oparg = (1u32 << (oparg as u32 & 31)) as i32;
        }
        WakeOp {
            op: (encoded >> 28) & 7,
            cmp: (encoded >> 24) & 15,
            oparg,
            cmparg: field(encoded & 0xfff),
        }
    }
}

/// `sizeof(struct robust_list_head)`: `list.next`, `futex_offset` (a `long`),
/// `list_op_pending`: what `set_robust_list` requires its length to be.
pub const ROBUST_LIST_HEAD_SIZE: u64 = 24;
/// Offset of `futex_offset` in `struct robust_list_head`.
pub const ROBUST_LIST_FUTEX_OFFSET: u64 = 8;
/// Offset of `list_op_pending` in `struct robust_list_head`.
pub const ROBUST_LIST_OP_PENDING: u64 = 16;
/// `ROBUST_LIST_LIMIT`: most entries the exit walk visits (a guard against loops).
pub const ROBUST_LIST_LIMIT: u32 = 2048;
/// Bit 0 of a robust list pointer: the entry is a PI futex.
pub const ROBUST_LIST_PI: u64 = 1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wake_op_fields() {
        // FUTEX_OP(FUTEX_OP_ADD, -1, FUTEX_OP_CMP_GT, 5)
        let op = WakeOp::decode((1 << 28) | (4 << 24) | (0xfff << 12) | 5);
        assert_eq!(
            op,
            WakeOp {
                op: FUTEX_OP_ADD,
                cmp: FUTEX_OP_CMP_GT,
                oparg: -1,
                cmparg: 5
            }
        );
        assert_eq!(WakeOp::decode(0x800).cmparg, -2048);
        assert_eq!(WakeOp::decode(0x7ff).cmparg, 2047);
        // Unknown operations and comparisons decode as they are (the kernel says ENOSYS).
        assert_eq!(WakeOp::decode(0x7f00_0000).op, 7);
        assert_eq!(WakeOp::decode(0x7f00_0000).cmp, 15);
    }

    #[test]
    fn wake_op_shift() {
        let op = WakeOp::decode(((FUTEX_OP_OPARG_SHIFT | FUTEX_OP_OR) << 28) | (3 << 12));
        assert_eq!(op.op, FUTEX_OP_OR);
        assert_eq!(op.oparg, 8);
        // 31 gives the sign bit; 32 and -1 are taken modulo 32.
        let top = WakeOp::decode((FUTEX_OP_OPARG_SHIFT << 28) | (31 << 12));
        assert_eq!(top.oparg as u32, 0x8000_0000);
        assert_eq!(
            WakeOp::decode((FUTEX_OP_OPARG_SHIFT << 28) | (32 << 12)).oparg,
            1
        );
        assert_eq!(
            WakeOp::decode((FUTEX_OP_OPARG_SHIFT << 28) | (0xfff << 12)).oparg as u32,
            0x8000_0000
        );
    }
}
