//! The COM1 16550 UART: the kernel's console.

use spin::Mutex;
use x86_64::instructions::port::Port;

const COM1: u16 = 0x3f8;

pub(crate) struct Serial {
    data: Port<u8>,
    line_status: Port<u8>,
}

pub(crate) static SERIAL: Mutex<Serial> = Mutex::new(Serial {
    data: Port::new(COM1),
    line_status: Port::new(COM1 + 5),
});

/// Programs 115200 baud, 8N1, FIFOs on, receive interrupt enabled (for the console later).
pub(crate) fn init() {
    let setup: [(u16, u8); 7] = [
        (1, 0x00), // interrupts off while programming
        (3, 0x80), // DLAB on
        (0, 0x01), // divisor 1: 115200 baud
        (1, 0x00),
        (3, 0x03), // 8 bits, no parity, one stop bit, DLAB off
        (2, 0xc7), // FIFO on, cleared, 14-byte threshold
        (4, 0x0b), // DTR, RTS, OUT2 (OUT2 gates the IRQ line)
    ];
    for (offset, value) in setup {
        let mut port = Port::<u8>::new(COM1 + offset);
        // SAFETY: COM1's registers are standard PC I/O ports; writing them only configures the UART.
        unsafe { port.write(value) };
    }
}

impl Serial {
    pub(crate) fn write_byte(&mut self, byte: u8) {
        // SAFETY: reading the line status and writing the data register of COM1 has no effect
        // beyond the UART.
        unsafe {
            while self.line_status.read() & 0x20 == 0 {
                core::hint::spin_loop();
            }
            self.data.write(byte);
        }
    }

    /// A received byte, if one is waiting.
    pub(crate) fn try_read_byte(&mut self) -> Option<u8> {
        // SAFETY: as in write_byte.
        unsafe { (self.line_status.read() & 1 != 0).then(|| self.data.read()) }
    }
}

impl core::fmt::Write for Serial {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for byte in s.bytes() {
            if byte == b'\n' {
                self.write_byte(b'\r');
            }
            self.write_byte(byte);
        }
        Ok(())
    }
}

/// Asks the UART to interrupt (IRQ 4) when a byte arrives.
pub(crate) fn enable_receive_interrupt() {
    let mut ier = Port::<u8>::new(COM1 + 1);
    // SAFETY: setting bit 0 of COM1's interrupt-enable register only enables its receive IRQ.
    unsafe { ier.write(0x01) };
}
