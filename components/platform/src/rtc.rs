//! The CMOS real-time clock (the MC146818 of the PC, ports 0x70/0x71), read once at boot so
//! that the kernel's realtime clock starts at the date the machine's clock says.
//!
//! As the datasheet and Linux's `mc146818_get_time` describe: the registers must not be read
//! while an update is in progress (register A bit 7, UIP), so the reader waits for it to clear,
//! reads every field, and reads again until two passes agree with no update in between.
//! Register B says how the fields are coded: bit 2 set means binary, clear means BCD; bit 1
//! set means 24-hour, clear means 12-hour with bit 7 of the hour marking PM. The year register
//! holds two digits; the century is taken as 20 for 00-69 and 19 for 70-99 (the century
//! register's location is given by ACPI's FADT, which Tessera does not read).
//!
//! QEMU's RTC follows the host's clock in UTC by default (`-rtc base=utc`), so the guest's
//! date is the host's.

use core::sync::atomic::{AtomicU64, Ordering};

use x86_64::instructions::port::Port;

const INDEX: u16 = 0x70;
const DATA: u16 = 0x71;

const SECONDS: u8 = 0x00;
const MINUTES: u8 = 0x02;
const HOURS: u8 = 0x04;
const DAY: u8 = 0x07;
const MONTH: u8 = 0x08;
const YEAR: u8 = 0x09;
const STATUS_A: u8 = 0x0a;
const STATUS_B: u8 = 0x0b;

/// Register A: an update of the time registers is in progress (or starts within 244 us).
const UIP: u8 = 0x80;
/// Register B: the fields are binary, not BCD.
const BINARY: u8 = 0x04;
/// Register B: 24-hour mode.
const HOURS_24: u8 = 0x02;
/// The hour register's PM bit in 12-hour mode.
const PM: u8 = 0x80;

/// How many times to poll UIP, and to re-read, before giving up: an RTC that never settles
/// (or is absent and reads 0xff) leaves the kernel's fallback epoch in place.
const MAX_POLLS: u32 = 1_000_000;
const MAX_PASSES: u32 = 8;

fn read_register(register: u8) -> u8 {
    // SAFETY: ports 0x70/0x71 are the CMOS index and data ports of every PC; selecting a
    // clock register and reading it has no effect beyond the CMOS. The NMI-disable bit
    // (bit 7 of the index) is left clear, as Linux does.
    unsafe {
        Port::<u8>::new(INDEX).write(register);
        Port::<u8>::new(DATA).read()
    }
}

/// The raw time registers, in their own coding.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Raw {
    seconds: u8,
    minutes: u8,
    hours: u8,
    day: u8,
    month: u8,
    year: u8,
}

fn update_in_progress() -> bool {
    read_register(STATUS_A) & UIP != 0
}

/// One pass: wait for no update in progress, then read every field. `None` if UIP never
/// cleared.
fn read_pass() -> Option<Raw> {
    let mut polls = 0;
    while update_in_progress() {
        polls += 1;
        if polls >= MAX_POLLS {
            return None;
        }
        core::hint::spin_loop();
    }
    Some(Raw {
        seconds: read_register(SECONDS),
        minutes: read_register(MINUTES),
        hours: read_register(HOURS),
        day: read_register(DAY),
        month: read_register(MONTH),
        year: read_register(YEAR),
    })
}

fn from_bcd(value: u8) -> u8 {
    (value >> 4) * 10 + (value & 0x0f)
}

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian calendar), by the
/// well-known era arithmetic of Howard Hinnant's `days_from_civil`.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Decodes the registers (with register B's `mode`) into seconds since the Unix epoch;
/// `None` for values no clock holds.
fn decode(raw: Raw, mode: u8) -> Option<u64> {
    let field = |v: u8| if mode & BINARY != 0 { v } else { from_bcd(v) };
    let pm = mode & HOURS_24 == 0 && raw.hours & PM != 0;
    let mut hours = field(raw.hours & !PM);
    if mode & HOURS_24 == 0 {
        // 12-hour mode: 12 AM is midnight, 12 PM is noon.
        hours %= 12;
        if pm {
            hours += 12;
        }
    }
    let (seconds, minutes) = (field(raw.seconds), field(raw.minutes));
    let (day, month, year) = (field(raw.day), field(raw.month), field(raw.year));
    if seconds > 59
        || minutes > 59
        || hours > 23
        || !(1..=31).contains(&day)
        || !(1..=12).contains(&month)
        || year > 99
    {
        return None;
    }
    let year = i64::from(year) + if year < 70 { 2000 } else { 1900 };
    let days = days_from_civil(year, u32::from(month), u32::from(day));
    let secs =
        days * 86_400 + i64::from(hours) * 3600 + i64::from(minutes) * 60 + i64::from(seconds);
    u64::try_from(secs).ok()
}

/// Reads the clock: seconds since the Unix epoch (UTC, as QEMU's RTC keeps by default), or
/// `None` if there is no sensible reading.
fn read() -> Option<u64> {
    let mut last = read_pass()?;
    for _ in 0..MAX_PASSES {
        let again = read_pass()?;
        if again == last {
            return decode(again, read_register(STATUS_B));
        }
        last = again;
    }
    None
}

/// The reading taken at boot, and the monotonic clock (`clock::now_ns`) when it was taken;
/// 0 for "no reading".
static BOOT_SECONDS: AtomicU64 = AtomicU64::new(0);
static BOOT_READ_AT_NS: AtomicU64 = AtomicU64::new(0);

/// Reads the RTC once at boot (after the TSC clock is calibrated).
pub(crate) fn init() {
    if let Some(seconds) = read() {
        BOOT_READ_AT_NS.store(crate::clock::now_ns(), Ordering::Relaxed);
        BOOT_SECONDS.store(seconds, Ordering::Relaxed);
    }
}

/// What the RTC said at boot: (seconds since the Unix epoch, `clock::now_ns()` at the
/// reading), or `None` if it could not be read.
pub fn boot_reading() -> Option<(u64, u64)> {
    match BOOT_SECONDS.load(Ordering::Relaxed) {
        0 => None,
        seconds => Some((seconds, BOOT_READ_AT_NS.load(Ordering::Relaxed))),
    }
}
