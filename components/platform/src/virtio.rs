//! The virtio-net card (PCI IDs 1af4:1000 transitional, 1af4:1041 modern), driven by the
//! `virtio-drivers` crate through its modern PCI transport, behind a safe [`NetDevice`].
//!
//! This module implements the crate's [`Hal`]: virtqueue memory comes from the kernel's page
//! allocator (the [`FrameSource`] given to [`probe_net`]) and is reached through the direct
//! map; buffers are shared with the device by their physical address (all kernel memory is
//! mapped linearly, so a buffer is physically contiguous and needs no bounce copy); device
//! registers are reached through the direct map too (it covers at least the first 4 GiB,
//! where the firmware puts the BARs).
//!
//! Frames move through fixed buffers the driver owns: [`RX_BUFFERS`] receive buffers stay
//! queued to the device and are copied out by [`NetDevice::receive`]; transmit buffers are
//! copied into, queued, and reclaimed once the device has used them. Nothing waits on the
//! device: the kernel polls, from the card's interrupt ([`NetDevice::irq`]) and its timer.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::ptr::NonNull;

use spin::Once;
use virtio_drivers::device::net::VirtIONetRaw;
use virtio_drivers::transport::pci::PciTransport;
use virtio_drivers::transport::pci::bus::{ConfigurationAccess, DeviceFunction, PciRoot};
use virtio_drivers::{BufferDirection, Hal, PhysAddr};

use crate::heap::FrameSource;
use crate::mm::{KERNEL_VMA, PAGE_SIZE, PHYS_OFFSET, direct_map_end, phys_to_virt};
use crate::pci;

/// Descriptors in each virtqueue; also the number of receive buffers kept queued.
const QUEUE_SIZE: usize = 128;
/// Receive buffers handed to the device.
pub const RX_BUFFERS: usize = QUEUE_SIZE;
/// One buffer: the virtio-net header (12 bytes) and a 1514-byte frame fit in 2 KiB, which the
/// heap serves from one page, so the buffer is physically contiguous.
const BUFFER: usize = 2048;
/// Transmit buffers in flight at most.
const TX_BUFFERS: usize = QUEUE_SIZE / 2;

/// Where DMA memory comes from (set by [`probe_net`]).
static FRAMES: Once<&'static dyn FrameSource> = Once::new();

fn order_of(pages: usize) -> u32 {
    pages.next_power_of_two().trailing_zeros()
}

/// The physical address of a kernel virtual address (direct map or kernel image).
fn virt_to_phys(vaddr: u64) -> u64 {
    if vaddr >= KERNEL_VMA {
        vaddr - KERNEL_VMA
    } else {
        assert!(
            (PHYS_OFFSET..PHYS_OFFSET + direct_map_end()).contains(&vaddr),
            "DMA buffer {vaddr:#x} outside the direct map"
        );
        vaddr - PHYS_OFFSET
    }
}

struct KernelHal;

// SAFETY: dma_alloc returns zeroed, exclusively owned, physically contiguous frames with their
// direct-map address; share returns the physical address of memory the caller keeps alive;
// mmio_phys_to_virt maps device memory that probe_net checked lies in the direct map.
unsafe impl Hal for KernelHal {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (PhysAddr, NonNull<u8>) {
        let Some(pfn) = FRAMES.get().and_then(|f| f.alloc_frames(order_of(pages))) else {
            return (0, NonNull::dangling());
        };
        let paddr = (pfn * PAGE_SIZE) as u64;
        let vaddr = phys_to_virt(paddr) as *mut u8;
        // SAFETY: the frames were just allocated for us (2^order >= pages of them) and are
        // mapped at vaddr in the direct map; nothing else refers to them yet.
        unsafe { core::ptr::write_bytes(vaddr, 0, pages * PAGE_SIZE) };
        (
            paddr,
            NonNull::new(vaddr).expect("direct map addresses are not null"),
        )
    }

    unsafe fn dma_dealloc(paddr: PhysAddr, _vaddr: NonNull<u8>, pages: usize) -> i32 {
        if let Some(frames) = FRAMES.get() {
            frames.free_frames(paddr as usize / PAGE_SIZE, order_of(pages));
        }
        0
    }

    unsafe fn mmio_phys_to_virt(paddr: PhysAddr, size: usize) -> NonNull<u8> {
        assert!(
            paddr + size as u64 <= direct_map_end(),
            "device memory {paddr:#x} beyond the direct map"
        );
        NonNull::new(phys_to_virt(paddr) as *mut u8).expect("direct map addresses are not null")
    }

    unsafe fn share(buffer: NonNull<[u8]>, _direction: BufferDirection) -> PhysAddr {
        virt_to_phys(buffer.as_ptr() as *mut u8 as u64)
    }

    unsafe fn unshare(_paddr: PhysAddr, _buffer: NonNull<[u8]>, _direction: BufferDirection) {
        // Shared in place: nothing to copy back, and x86 DMA is cache-coherent.
    }
}

/// PCI configuration access for the virtio-drivers PCI code, through the I/O ports.
struct PortCam;

fn location(f: DeviceFunction) -> pci::Location {
    pci::Location {
        bus: f.bus,
        device: f.device,
        function: f.function,
    }
}

impl ConfigurationAccess for PortCam {
    fn read_word(&self, device_function: DeviceFunction, register_offset: u8) -> u32 {
        pci::read(location(device_function), register_offset)
    }

    fn write_word(&mut self, device_function: DeviceFunction, register_offset: u8, data: u32) {
        pci::write(location(device_function), register_offset, data);
    }

    unsafe fn unsafe_clone(&self) -> Self {
        PortCam
    }
}

type Buffer = Box<[u8; BUFFER]>;

/// The virtio-net card.
pub struct NetDevice {
    // Declared first so that it drops first: the queues are detached from the device before
    // the buffers below are freed.
    raw: VirtIONetRaw<KernelHal, PciTransport, QUEUE_SIZE>,
    /// Receive buffers queued to the device, by descriptor token.
    rx: Vec<Option<Buffer>>,
    /// Transmit buffers the device owns, by token, with the length queued.
    tx_busy: Vec<Option<(Buffer, usize)>>,
    tx_free: Vec<Buffer>,
    mac: [u8; 6],
    irq: Option<u8>,
}

/// Finds the first virtio-net card and starts it, taking DMA memory from `frames`. `None`
/// when the machine has no card (or it cannot be started; the reason is logged).
pub fn probe_net(frames: &'static dyn FrameSource) -> Option<NetDevice> {
    FRAMES.call_once(|| frames);
    let found = pci::find(0x1af4, &[0x1000, 0x1041])?;
    pci::enable(found.location);
    let function = DeviceFunction {
        bus: found.location.bus,
        device: found.location.device,
        function: found.location.function,
    };
    let mut root = PciRoot::new(PortCam);
    // Every memory BAR must lie in the direct map (see KernelHal::mmio_phys_to_virt).
    let mut bar = 0;
    while bar < 6 {
        let info = root.bar_info(function, bar).ok().flatten();
        if let Some((address, size)) = info.as_ref().and_then(|i| i.memory_address_size())
            && address + size > direct_map_end()
        {
            log::warn!("virtio-net: BAR {bar} at {address:#x} is beyond the direct map");
            return None;
        }
        let wide = info.is_some_and(|i| i.takes_two_entries());
        bar += if wide { 2 } else { 1 };
    }
    let transport = match PciTransport::new::<KernelHal, _>(&mut root, function) {
        Ok(transport) => transport,
        Err(e) => {
            log::warn!("virtio-net: no PCI transport: {e}");
            return None;
        }
    };
    let raw = match VirtIONetRaw::new(transport) {
        Ok(raw) => raw,
        Err(e) => {
            log::warn!("virtio-net: cannot start the device: {e}");
            return None;
        }
    };
    let mut device = NetDevice {
        mac: raw.mac_address(),
        raw,
        rx: (0..QUEUE_SIZE).map(|_| None).collect(),
        tx_busy: (0..QUEUE_SIZE).map(|_| None).collect(),
        tx_free: (0..TX_BUFFERS).map(|_| Box::new([0u8; BUFFER])).collect(),
        irq: found.irq,
    };
    for _ in 0..RX_BUFFERS {
        if !device.queue_rx(Box::new([0u8; BUFFER])) {
            break;
        }
    }
    Some(device)
}

impl NetDevice {
    /// The card's MAC address.
    pub fn mac(&self) -> [u8; 6] {
        self.mac
    }

    /// The PIC line the card interrupts on, if the firmware routed one.
    pub fn irq(&self) -> Option<u8> {
        self.irq
    }

    /// Acknowledges the card's interrupt (reading its ISR lowers the line); whether it had
    /// raised one.
    pub fn ack_interrupt(&mut self) -> bool {
        !self.raw.ack_interrupt().is_empty()
    }

    /// Hands a buffer to the device for receiving; false if the queue is full.
    fn queue_rx(&mut self, mut buffer: Buffer) -> bool {
        // SAFETY: the buffer is stored in self.rx under its token until the device returns it
        // (receive), and is not touched before; it lives on the heap, so moving the Box into
        // the vector does not move the memory the device writes.
        match unsafe { self.raw.receive_begin(&mut buffer[..]) } {
            Ok(token) => {
                self.rx[usize::from(token)] = Some(buffer);
                true
            }
            Err(_) => false,
        }
    }

    /// Copies the next received frame into `buf` and returns its length (frames longer than
    /// `buf` are cut); `None` when nothing has arrived.
    pub fn receive(&mut self, buf: &mut [u8]) -> Option<usize> {
        let token = self.raw.poll_receive()?;
        let mut buffer = self.rx[usize::from(token)]
            .take()
            .expect("the device returned a buffer it was given");
        // SAFETY: the same buffer that receive_begin queued under this token.
        let result = unsafe { self.raw.receive_complete(token, &mut buffer[..]) };
        let len = match result {
            Ok((header, len)) => {
                let n = len.min(buf.len());
                buf[..n].copy_from_slice(&buffer[header..header + n]);
                Some(n)
            }
            Err(_) => None,
        };
        self.queue_rx(buffer);
        // A malformed completion is dropped; report an empty frame rather than "nothing
        // more", so the caller keeps draining.
        Some(len.unwrap_or(0))
    }

    /// Takes back the transmit buffers the device has finished with.
    fn reclaim_tx(&mut self) {
        while let Some(token) = self.raw.poll_transmit() {
            let (buffer, len) = self.tx_busy[usize::from(token)]
                .take()
                .expect("the device completed a transmission it was given");
            // SAFETY: the same buffer (and length) that transmit_begin queued under this token.
            let _ = unsafe { self.raw.transmit_complete(token, &buffer[..len]) };
            self.tx_free.push(buffer);
        }
    }

    /// Whether [`NetDevice::transmit`] has room now.
    pub fn can_transmit(&mut self) -> bool {
        self.reclaim_tx();
        !self.tx_free.is_empty() && self.raw.can_send()
    }

    /// Queues one Ethernet frame; false (frame dropped) when there is no room.
    pub fn transmit(&mut self, frame: &[u8]) -> bool {
        if !self.can_transmit() {
            return false;
        }
        let mut buffer = self.tx_free.pop().expect("can_transmit checked");
        let Ok(header) = self.raw.fill_buffer_header(&mut buffer[..]) else {
            self.tx_free.push(buffer);
            return false;
        };
        let len = header + frame.len().min(BUFFER - header);
        buffer[header..len].copy_from_slice(&frame[..len - header]);
        // SAFETY: the buffer is stored in tx_busy under its token until the device has used
        // it (reclaim_tx) and is not touched meanwhile; its heap memory does not move.
        match unsafe { self.raw.transmit_begin(&buffer[..len]) } {
            Ok(token) => {
                self.tx_busy[usize::from(token)] = Some((buffer, len));
                true
            }
            Err(_) => {
                self.tx_free.push(buffer);
                false
            }
        }
    }
}
