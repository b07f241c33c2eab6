//! The periodic timer: the legacy 8259 PICs and the 8254 PIT channel 0.
//!
//! Simple, present on every PC and emulated faithfully by QEMU, including under `-icount`,
//! where the PIT follows the virtual clock like the TSC does.

use x86_64::instructions::port::Port;

use crate::trap::IRQ_BASE;

/// The PIT's input clock in Hz.
pub const PIT_HZ: u32 = 1_193_182;

fn outb(port: u16, value: u8) {
    // SAFETY: only called with the PIC (0x20/0x21/0xa0/0xa1) and PIT (0x40-0x43) ports, whose
    // programming affects interrupt delivery and nothing in memory.
    unsafe { Port::<u8>::new(port).write(value) };
}

fn inb(port: u16) -> u8 {
    // SAFETY: reading PIC/PIT/system-control ports has no memory effects.
    unsafe { Port::<u8>::new(port).read() }
}

/// Remaps the PICs to vectors 32..48 and masks everything but the timer (IRQ 0).
fn init_pic() {
    for (port, value) in [
        (0x20, 0x11), // ICW1: init, expect ICW4
        (0xa0, 0x11),
        (0x21, IRQ_BASE), // ICW2: vector base
        (0xa1, IRQ_BASE + 8),
        (0x21, 4), // ICW3: slave on IRQ 2
        (0xa1, 2),
        (0x21, 1), // ICW4: 8086 mode
        (0xa1, 1),
        (0x21, 0xfe), // masks: only IRQ 0
        (0xa1, 0xff),
    ] {
        outb(port, value);
    }
}

/// Unmasks one PIC interrupt line (e.g. 4 for COM1 receive).
pub fn unmask_irq(irq: u8) {
    let (port, bit) = if irq < 8 {
        (0x21, irq)
    } else {
        (0xa1, irq - 8)
    };
    outb(port, inb(port) & !(1 << bit));
    if irq >= 8 {
        outb(0x21, inb(0x21) & !(1 << 2));
    }
}

/// Starts the PIT at `hz` interrupts per second.
pub(crate) fn init(hz: u32) {
    init_pic();
    let divisor = (PIT_HZ / hz).clamp(1, 0xffff) as u16;
    outb(0x43, 0x34); // channel 0, lobyte/hibyte, mode 2 (rate generator)
    outb(0x40, divisor as u8);
    outb(0x40, (divisor >> 8) as u8);
}

/// IRQ 7 and 15 may be spurious: the PIC's in-service register says whether they are real.
pub(crate) fn is_spurious(irq: u8) -> bool {
    match irq {
        7 => {
            outb(0x20, 0x0b);
            inb(0x20) & 0x80 == 0
        }
        15 => {
            outb(0xa0, 0x0b);
            let spurious = inb(0xa0) & 0x80 == 0;
            if spurious {
                outb(0x20, 0x20); // the master did see the cascade interrupt
            }
            spurious
        }
        _ => false,
    }
}

pub(crate) fn end_of_interrupt(irq: u8) {
    if irq >= 8 {
        outb(0xa0, 0x20);
    }
    outb(0x20, 0x20);
}

/// Busy-waits for `pit_ticks` periods of the PIT input clock using channel 2 (no interrupt),
/// returning the TSC cycles that passed: the clock's calibration.
pub(crate) fn measure_tsc(pit_ticks: u16) -> u64 {
    outb(0x61, (inb(0x61) & !0x02) | 0x01); // gate channel 2 on, speaker off
    outb(0x43, 0xb0); // channel 2, lobyte/hibyte, mode 0 (interrupt on terminal count)
    outb(0x42, pit_ticks as u8);
    outb(0x42, (pit_ticks >> 8) as u8);
    // Restart the count: mode 0 starts counting when the gate rises.
    let gate = inb(0x61);
    outb(0x61, gate & !0x01);
    outb(0x61, gate | 0x01);
    let start = crate::clock::rdtsc();
    while inb(0x61) & 0x20 == 0 {
        core::hint::spin_loop();
    }
    crate::clock::rdtsc() - start
}
