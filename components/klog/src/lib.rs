//! The kernel log: the kernel's console lines and log records, kept in memory in a ring of
//! bytes, read back with the rules of Linux's `syslog(2)` (`dmesg`, `/proc/kmsg`).
//!
//! Sources: the `syslog(2)` man page, and Linux's `kernel/printk/printk.c` for the details
//! the man page leaves open (which records `READ_ALL` returns when they do not all fit, what
//! `READ` does with a record larger than the buffer, the console level rules).
//!
//! | type | what it is | Linux |
//! |---|---|---|
//! | [`LogBuffer`] | the ring: whole records, the oldest dropped first when full; a clear mark and a reader position | `prb` (the printk ring buffer), `clear_seq`, `syslog_seq` |
//! | [`Klog`] | a [`LogBuffer`] fed by byte streams: text is gathered into lines, each line one record | `printk` with `LOG_CONT` |
//! | [`ConsoleLevel`] | which records reach the console, and `syslog`'s actions 6, 7 and 8 | `console_loglevel`, `saved_console_loglevel` |
//!
//! A record is kept as the text `syslog` returns for it: `<level>[ssss.uuuuuu] text\n`, the
//! syslog priority (facility 0, the kernel), the time since boot in seconds and
//! microseconds (seconds right-aligned in five columns, as Linux prints them), one space,
//! the line. Nothing here allocates, so the ring can be a static the kernel fills from its
//! first line on, before it has a heap.
#![cfg_attr(not(test), no_std)]
#![warn(missing_docs)]

/// Linux's default log buffer size (`CONFIG_LOG_BUF_SHIFT` = 17: 128 KiB), what
/// `SYSLOG_ACTION_SIZE_BUFFER` reports.
pub const DEFAULT_SIZE: usize = 1 << 17;

/// The longest line kept; a longer one is cut (Linux cuts at 1024 bytes with its prefix).
pub const LINE_MAX: usize = 976;

/// syslog priorities of kernel messages (`KERN_*` of `linux/kern_levels.h`).
pub mod level {
    /// System is unusable.
    pub const EMERG: u8 = 0;
    /// Action must be taken immediately.
    pub const ALERT: u8 = 1;
    /// Critical conditions.
    pub const CRIT: u8 = 2;
    /// Error conditions.
    pub const ERR: u8 = 3;
    /// Warning conditions.
    pub const WARNING: u8 = 4;
    /// Normal but significant condition.
    pub const NOTICE: u8 = 5;
    /// Informational.
    pub const INFO: u8 = 6;
    /// Debug-level messages.
    pub const DEBUG: u8 = 7;
}

/// The record prefix for `level` at `ns` nanoseconds since boot: `<6>[    1.234567] `.
fn prefix(level: u8, ns: u64, out: &mut [u8; 40]) -> usize {
    struct Cursor<'a> {
        buf: &'a mut [u8; 40],
        len: usize,
    }
    impl core::fmt::Write for Cursor<'_> {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            let room = self.buf.len() - self.len;
            let n = s.len().min(room);
            self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
            self.len += n;
            Ok(())
        }
    }
    let mut cursor = Cursor { buf: out, len: 0 };
    let secs = ns / 1_000_000_000;
    let micros = (ns % 1_000_000_000) / 1000;
    let _ = core::fmt::write(
        &mut cursor,
        format_args!("<{}>[{secs:>5}.{micros:06}] ", level.min(7)),
    );
    cursor.len
}

/// The ring of records. Positions are byte offsets into the stream of everything ever
/// logged (they only grow); the ring holds the last `N` bytes of that stream, cut at a
/// record boundary.
pub struct LogBuffer<const N: usize> {
    buf: [u8; N],
    /// Start of the oldest record kept.
    head: u64,
    /// End of the newest record.
    tail: u64,
    /// `SYSLOG_ACTION_CLEAR`'s mark: `READ_ALL` returns nothing logged before it.
    clear: u64,
    /// `SYSLOG_ACTION_READ`'s position (`/proc/kmsg`): what it returns next.
    read: u64,
}

impl<const N: usize> Default for LogBuffer<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> LogBuffer<N> {
    /// An empty ring (all zeros: a static of it costs no space in the kernel image).
    pub const fn new() -> Self {
        LogBuffer {
            buf: [0; N],
            head: 0,
            tail: 0,
            clear: 0,
            read: 0,
        }
    }

    /// The ring's size in bytes (`SYSLOG_ACTION_SIZE_BUFFER`).
    pub const fn capacity(&self) -> usize {
        N
    }

    fn byte(&self, at: u64) -> u8 {
        self.buf[(at % N as u64) as usize]
    }

    fn copy_out(&self, from: u64, out: &mut [u8]) {
        for (i, b) in out.iter_mut().enumerate() {
            *b = self.byte(from + i as u64);
        }
    }

    /// The start of the record after the one starting at `at`.
    fn next_record(&self, mut at: u64) -> u64 {
        while at < self.tail {
            let b = self.byte(at);
            at += 1;
            if b == b'\n' {
                break;
            }
        }
        at
    }

    /// Appends one record: `text` (one line, without its newline; a newline inside becomes a
    /// space) at priority `level`, `ns` nanoseconds after boot. Drops the oldest records to
    /// make room; a record longer than the whole ring is cut to fit.
    pub fn push(&mut self, level: u8, ns: u64, text: &[u8]) {
        let mut head = [0u8; 40];
        let head_len = prefix(level, ns, &mut head);
        let text = &text[..text.len().min(N.saturating_sub(head_len + 1))];
        let len = (head_len + text.len() + 1) as u64;
        if len > N as u64 {
            return;
        }
        while self.tail + len - self.head > N as u64 {
            self.head = self.next_record(self.head);
        }
        let bytes = head[..head_len]
            .iter()
            .copied()
            .chain(text.iter().map(|&b| if b == b'\n' { b' ' } else { b }))
            .chain(core::iter::once(b'\n'));
        for b in bytes {
            let at = (self.tail % N as u64) as usize;
            self.buf[at] = b;
            self.tail += 1;
        }
    }

    /// `SYSLOG_ACTION_READ_ALL` (and `READ_CLEAR`'s read): the newest whole records that
    /// fit in `out`, logged since the last clear; returns the bytes written. Leaves the
    /// records and the reader position as they are.
    pub fn read_all(&self, out: &mut [u8]) -> usize {
        let mut start = self.head.max(self.clear);
        while self.tail - start > out.len() as u64 {
            start = self.next_record(start);
        }
        let n = (self.tail - start) as usize;
        self.copy_out(start, &mut out[..n]);
        n
    }

    /// `SYSLOG_ACTION_READ` (and `/proc/kmsg`): from the reader position, as many whole
    /// records as fit in `out`, or the first `out.len()` bytes of the next record when not
    /// even that one fits (the rest comes with the next call); advances the position.
    /// Returns 0 when there is nothing unread.
    pub fn read(&mut self, out: &mut [u8]) -> usize {
        let start = self.read.max(self.head);
        let mut end = start;
        loop {
            let next = self.next_record(end);
            if next == end || next - start > out.len() as u64 {
                break;
            }
            end = next;
        }
        if end == start {
            end = self.tail.min(start + out.len() as u64);
        }
        let n = (end - start) as usize;
        self.copy_out(start, &mut out[..n]);
        self.read = end;
        n
    }

    /// `SYSLOG_ACTION_SIZE_UNREAD`: bytes from the reader position to the end.
    pub fn unread(&self) -> usize {
        (self.tail - self.read.max(self.head)) as usize
    }

    /// Bytes ever logged (a count that grows with every record): a change says that
    /// records came.
    pub fn written(&self) -> u64 {
        self.tail
    }

    /// Bytes `read_all` would return with a buffer as large as the ring.
    pub fn len_since_clear(&self) -> usize {
        (self.tail - self.head.max(self.clear)) as usize
    }

    /// `SYSLOG_ACTION_CLEAR`: later `read_all`s return only what is logged from now on. The
    /// reader position of `read` is not moved (as on Linux).
    pub fn clear(&mut self) {
        self.clear = self.tail;
    }
}

/// A [`LogBuffer`] fed with text as it is printed: bytes gather into a line, and each
/// finished line becomes a record with the level and time of its first bytes (Linux's
/// continuation lines). A line longer than [`LINE_MAX`] is cut.
pub struct Klog<const N: usize> {
    ring: LogBuffer<N>,
    line: [u8; LINE_MAX],
    line_len: usize,
    /// Whether a line is being gathered (it may be empty so far: `print!("")`).
    pending: bool,
    line_level: u8,
    line_ns: u64,
}

impl<const N: usize> Default for Klog<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Klog<N> {
    /// An empty log (all zeros).
    pub const fn new() -> Self {
        Klog {
            ring: LogBuffer::new(),
            line: [0; LINE_MAX],
            line_len: 0,
            pending: false,
            line_level: 0,
            line_ns: 0,
        }
    }

    /// Adds printed text at `level`, `ns` after boot: every `\n` ends a record; what follows
    /// the last one waits for the rest of its line. A `\r` is dropped (consoles want CRLF,
    /// the log does not).
    pub fn write(&mut self, level: u8, ns: u64, bytes: &[u8]) {
        for &b in bytes {
            if !self.pending {
                self.pending = true;
                self.line_level = level;
                self.line_ns = ns;
            }
            match b {
                b'\n' => self.flush(),
                b'\r' => {}
                _ => {
                    if self.line_len < LINE_MAX {
                        self.line[self.line_len] = b;
                        self.line_len += 1;
                    }
                }
            }
        }
    }

    /// Ends the line being gathered, if any (a record of its own comes next).
    pub fn flush(&mut self) {
        if self.pending {
            self.ring
                .push(self.line_level, self.line_ns, &self.line[..self.line_len]);
            self.line_len = 0;
            self.pending = false;
        }
    }

    /// Adds one whole record (a `log` record): a line still being gathered ends first.
    pub fn record(&mut self, level: u8, ns: u64, text: &[u8]) {
        self.flush();
        self.ring.push(level, ns, text);
    }

    /// The records (to read them).
    pub fn ring(&self) -> &LogBuffer<N> {
        &self.ring
    }

    /// The records (to read them with [`LogBuffer::read`] or clear them).
    pub fn ring_mut(&mut self) -> &mut LogBuffer<N> {
        &mut self.ring
    }
}

/// Linux's `console_loglevel` and what `syslog` does to it: a record reaches the console
/// when its level is below the console level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConsoleLevel {
    level: u8,
    /// The level `CONSOLE_OFF` saved for `CONSOLE_ON`; `None` when nothing is saved.
    saved: Option<u8>,
}

/// Why a `syslog` console action was refused (EINVAL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidLevel;

impl ConsoleLevel {
    /// Linux's default (`CONSOLE_LOGLEVEL_DEFAULT`): every level but debug reaches the console.
    pub const DEFAULT: u8 = 7;
    /// With the kernel's `debug` option (`CONSOLE_LOGLEVEL_DEBUG`): everything does.
    pub const DEBUG: u8 = 10;
    /// The lowest level `syslog` may set (`CONSOLE_LOGLEVEL_MIN`): emergencies still print.
    pub const MIN: u8 = 1;

    /// Starts at `level`.
    pub const fn new(level: u8) -> Self {
        ConsoleLevel { level, saved: None }
    }

    /// The current level.
    pub const fn level(&self) -> u8 {
        self.level
    }

    /// Whether a record of `level` is printed on the console.
    pub const fn prints(&self, level: u8) -> bool {
        level < self.level
    }

    /// `SYSLOG_ACTION_CONSOLE_LEVEL`: 1 to 8, else EINVAL. Forgets a level saved by
    /// `console_off` (a later `console_on` does nothing).
    pub fn set(&mut self, level: i64) -> Result<(), InvalidLevel> {
        if !(1..=8).contains(&level) {
            return Err(InvalidLevel);
        }
        self.level = (level as u8).max(Self::MIN);
        self.saved = None;
        Ok(())
    }

    /// `SYSLOG_ACTION_CONSOLE_OFF`: only emergencies reach the console; the level is saved
    /// (once: a second `off` keeps the first saved level).
    pub fn off(&mut self) {
        if self.saved.is_none() {
            self.saved = Some(self.level);
        }
        self.level = Self::MIN;
    }

    /// `SYSLOG_ACTION_CONSOLE_ON`: back to the level saved by `off`, if any.
    pub fn on(&mut self) {
        if let Some(saved) = self.saved.take() {
            self.level = saved;
        }
    }
}
