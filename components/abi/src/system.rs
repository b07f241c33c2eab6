//! System-wide calls: `reboot` magic numbers and commands, `getrandom` flags, the size of
//! `uname`'s fields and `syslog`'s actions (`linux/reboot.h`, `linux/random.h`,
//! `linux/utsname.h`, the `syslog(2)` man page).

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

/// `syslog` action 0: close the log (does nothing).
pub const SYSLOG_ACTION_CLOSE: u32 = 0;
/// `syslog` action 1: open the log (does nothing).
pub const SYSLOG_ACTION_OPEN: u32 = 1;
/// `syslog` action 2: read unread records, waiting for some (what `/proc/kmsg` reads).
pub const SYSLOG_ACTION_READ: u32 = 2;
/// `syslog` action 3: read the newest records that fit, leaving them unread.
pub const SYSLOG_ACTION_READ_ALL: u32 = 3;
/// `syslog` action 4: read all, then clear.
pub const SYSLOG_ACTION_READ_CLEAR: u32 = 4;
/// `syslog` action 5: later `READ_ALL`s start from now.
pub const SYSLOG_ACTION_CLEAR: u32 = 5;
/// `syslog` action 6: only emergencies reach the console.
pub const SYSLOG_ACTION_CONSOLE_OFF: u32 = 6;
/// `syslog` action 7: undo `CONSOLE_OFF`.
pub const SYSLOG_ACTION_CONSOLE_ON: u32 = 7;
/// `syslog` action 8: set the console level (1 to 8).
pub const SYSLOG_ACTION_CONSOLE_LEVEL: u32 = 8;
/// `syslog` action 9: bytes `READ` would still return.
pub const SYSLOG_ACTION_SIZE_UNREAD: u32 = 9;
/// `syslog` action 10: the size of the log buffer.
pub const SYSLOG_ACTION_SIZE_BUFFER: u32 = 10;
