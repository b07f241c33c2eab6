//! System-wide calls: `reboot` magic numbers and commands, `getrandom` flags and the size of
//! `uname`'s fields (`linux/reboot.h`, `linux/random.h`, `linux/utsname.h`).

/// `LINUX_REBOOT_MAGIC1` (`linux/reboot.h`): `reboot`'s first argument, against accidents.
pub const LINUX_REBOOT_MAGIC1: u32 = 0xfee1_dead;
/// `LINUX_REBOOT_CMD_RESTART` (`linux/reboot.h`): restart the machine.
pub const LINUX_REBOOT_CMD_RESTART: u32 = 0x0123_4567;
/// `LINUX_REBOOT_CMD_HALT` (`linux/reboot.h`): halt the machine.
pub const LINUX_REBOOT_CMD_HALT: u32 = 0xcdef_0123;
/// `LINUX_REBOOT_CMD_POWER_OFF` (`linux/reboot.h`): power the machine off.
pub const LINUX_REBOOT_CMD_POWER_OFF: u32 = 0x4321_fedc;

/// `GRND_NONBLOCK` (`linux/random.h`): `getrandom` fails with EAGAIN rather than block.
pub const GRND_NONBLOCK: u32 = 0x0001;
/// `GRND_RANDOM` (`linux/random.h`): draw from the blocking pool (no difference today).
pub const GRND_RANDOM: u32 = 0x0002;
/// `GRND_INSECURE` (`linux/random.h`): never block, even before the pool is seeded.
pub const GRND_INSECURE: u32 = 0x0004;

/// Bytes of each field of `struct new_utsname`, NUL included (`__NEW_UTS_LEN + 1` of
/// `linux/utsname.h`); `uname` fills six of them.
pub const UTSNAME_FIELD_LEN: usize = 65;
