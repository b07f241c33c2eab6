//! Kernel output: `print!`/`println!` on the serial console and a `log` backend, both also
//! kept in the kernel log ([`crate::klog`]).

use core::fmt::{self, Write};

use crate::klog::{self, level};
use crate::serial::{SERIAL, Serial};

/// Writes printed text to the UART and to the kernel log.
struct Printed<'a> {
    serial: &'a mut Serial,
    ns: u64,
    emergency: bool,
}

impl Write for Printed<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        klog::record_printed(self.ns, s.as_bytes(), self.emergency);
        self.serial.write_str(s)
    }
}

fn print(args: fmt::Arguments, emergency: bool) {
    x86_64::instructions::interrupts::without_interrupts(|| {
        let ns = crate::clock::now_ns();
        let mut serial = SERIAL.lock();
        let _ = Printed {
            serial: &mut serial,
            ns,
            emergency,
        }
        .write_fmt(args);
    });
}

#[doc(hidden)]
pub fn _print(args: fmt::Arguments) {
    print(args, false);
}

/// Writes to the serial console even if the console lock is held: for the panic path only,
/// where the holder will never release it.
pub(crate) fn emergency_print(args: fmt::Arguments) {
    // SAFETY: forcing the lock is sound here because the caller is on the way to stopping the
    // machine; at worst two writers interleave bytes on the UART.
    unsafe { SERIAL.force_unlock() };
    print(args, true);
}

/// Prints to the serial console.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => ($crate::console::_print(format_args!($($arg)*)));
}

/// Prints a line to the serial console.
#[macro_export]
macro_rules! println {
    () => ($crate::print!("\n"));
    ($($arg:tt)*) => ($crate::console::_print(format_args!("{}\n", format_args!($($arg)*))));
}

struct SerialLogger;

impl log::Log for SerialLogger {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let syslog_level = match record.level() {
            log::Level::Error => level::ERR,
            log::Level::Warn => level::WARNING,
            log::Level::Info => level::INFO,
            log::Level::Debug | log::Level::Trace => level::DEBUG,
        };
        x86_64::instructions::interrupts::without_interrupts(|| {
            let ns = crate::clock::now_ns();
            let mut serial = SERIAL.lock();
            klog::with_ring(|ring| {
                ring.flush();
                let mut line = RecordLine {
                    ring,
                    level: syslog_level,
                    ns,
                };
                let _ = write!(line, "{}", record.args());
                ring.flush();
            });
            if klog::console_prints(syslog_level) {
                let ms = ns / 1_000_000;
                let _ = serial.write_fmt(format_args!(
                    "[{:>5}.{:03}] {:<5} {}\n",
                    ms / 1000,
                    ms % 1000,
                    record.level(),
                    record.args()
                ));
            }
        });
    }

    fn flush(&self) {}
}

/// Writes a `log` record's text into the kernel log at its level.
struct RecordLine<'a> {
    ring: &'a mut tessera_klog::Klog<{ tessera_klog::DEFAULT_SIZE }>,
    level: u8,
    ns: u64,
}

impl Write for RecordLine<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.ring.write(self.level, self.ns, s.as_bytes());
        Ok(())
    }
}

static LOGGER: SerialLogger = SerialLogger;

/// Installs the serial logger with the given maximum level ("error" ... "trace").
pub fn init_log(level: &str) {
    let filter = match level {
        "error" => log::LevelFilter::Error,
        "warn" => log::LevelFilter::Warn,
        "debug" => log::LevelFilter::Debug,
        "trace" => log::LevelFilter::Trace,
        _ => log::LevelFilter::Info,
    };
    klog::set_boot_console_level(filter >= log::LevelFilter::Debug);
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(filter);
}

/// Writes raw bytes to the serial console (no newline translation: the tty does that).
pub fn write_raw(bytes: &[u8]) {
    x86_64::instructions::interrupts::without_interrupts(|| {
        let mut serial = SERIAL.lock();
        for &byte in bytes {
            serial.write_byte(byte);
        }
    });
}

/// A byte received on the serial console, if one is waiting.
pub fn try_read_byte() -> Option<u8> {
    x86_64::instructions::interrupts::without_interrupts(|| SERIAL.lock().try_read_byte())
}

/// Calls `hook` (in interrupt context) whenever the serial console receives data.
pub fn on_input(hook: fn()) {
    crate::serial::enable_receive_interrupt();
    crate::trap::set_irq_hook(4, hook);
}
