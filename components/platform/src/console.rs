//! Kernel output: `print!`/`println!` on the serial console and a `log` backend.

use core::fmt::{self, Write};

use crate::serial::SERIAL;

#[doc(hidden)]
pub fn _print(args: fmt::Arguments) {
    x86_64::instructions::interrupts::without_interrupts(|| {
        let _ = SERIAL.lock().write_fmt(args);
    });
}

/// Writes to the serial console even if the console lock is held: for the panic path only,
/// where the holder will never release it.
pub(crate) fn emergency_print(args: fmt::Arguments) {
    // SAFETY: forcing the lock is sound here because the caller is on the way to stopping the
    // machine; at worst two writers interleave bytes on the UART.
    unsafe { SERIAL.force_unlock() };
    _print(args);
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
        if self.enabled(record.metadata()) {
            let ms = crate::clock::now_ns() / 1_000_000;
            _print(format_args!(
                "[{:>5}.{:03}] {:<5} {}\n",
                ms / 1000,
                ms % 1000,
                record.level(),
                record.args()
            ));
        }
    }

    fn flush(&self) {}
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
