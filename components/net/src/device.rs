//! The network device the stack runs on, and its adapter to smoltcp's `phy::Device`.
//!
//! A [`Device`] moves whole Ethernet frames; the kernel implements it over the virtio-net
//! driver of the platform layer, the tests over in-memory wires. The adapter adds one thing
//! smoltcp lacks: frames addressed to the interface itself (its MAC, its IP addresses,
//! 127.0.0.0/8) never reach the device but come back as received frames, so that the guest
//! can talk to itself (`127.0.0.1`, or its own `10.0.2.15`).

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::net::Ipv4Addr;

use smoltcp::phy::{self, DeviceCapabilities, Medium};
use smoltcp::time::Instant;

/// The largest Ethernet frame the stack sends or accepts (MTU 1500 plus the 14-byte header).
pub const MAX_FRAME: usize = 1514;

/// A network interface card, as the stack sees it: whole Ethernet frames in and out.
pub trait Device {
    /// The card's hardware (MAC) address.
    fn mac(&self) -> [u8; 6];
    /// Copies the next received frame into `buf` (at least [`MAX_FRAME`] bytes) and returns
    /// its length, or `None` when nothing has arrived.
    fn receive(&mut self, buf: &mut [u8]) -> Option<usize>;
    /// Whether [`Device::transmit`] can queue a frame now.
    fn can_transmit(&mut self) -> bool;
    /// Queues one frame for transmission (only called after `can_transmit` said yes).
    fn transmit(&mut self, frame: &[u8]);
}

/// A device with no wire: sends go nowhere, nothing arrives. The stack still serves
/// loopback traffic (which never reaches the device) on a machine without a network card.
#[derive(Debug, Default)]
pub struct NoDevice;

impl Device for NoDevice {
    fn mac(&self) -> [u8; 6] {
        // A locally administered unicast address.
        [0x02, 0, 0, 0, 0, 1]
    }

    fn receive(&mut self, _buf: &mut [u8]) -> Option<usize> {
        None
    }

    fn can_transmit(&mut self) -> bool {
        true
    }

    fn transmit(&mut self, _frame: &[u8]) {}
}

/// Frames the interface sent to itself, waiting to be received.
#[derive(Default)]
pub(crate) struct SelfQueue {
    frames: VecDeque<Vec<u8>>,
    /// The interface's MAC and IPv4 addresses: what "itself" means.
    mac: [u8; 6],
    ips: Vec<Ipv4Addr>,
}

/// Most frames queued to ourselves: beyond it they are dropped (TCP retransmits).
const SELF_QUEUE_MAX: usize = 256;

impl SelfQueue {
    pub(crate) fn new(mac: [u8; 6], ips: Vec<Ipv4Addr>) -> Self {
        SelfQueue {
            frames: VecDeque::new(),
            mac,
            ips,
        }
    }

    fn is_own_ip(&self, ip: Ipv4Addr) -> bool {
        ip.is_loopback() || self.ips.contains(&ip)
    }

    /// Whether an outgoing frame is addressed to this interface: sent to its MAC, an IPv4
    /// packet to one of its addresses, or an ARP request for one of them.
    fn is_for_self(&self, frame: &[u8]) -> bool {
        if frame.len() < 14 {
            return false;
        }
        if frame[..6] == self.mac {
            return true;
        }
        let ethertype = u16::from_be_bytes([frame[12], frame[13]]);
        let payload = &frame[14..];
        match ethertype {
            0x0800 if payload.len() >= 20 => self.is_own_ip(Ipv4Addr::new(
                payload[16],
                payload[17],
                payload[18],
                payload[19],
            )),
            // ARP: the target protocol address is at offset 24 of the ARP packet.
            0x0806 if payload.len() >= 28 => self.is_own_ip(Ipv4Addr::new(
                payload[24],
                payload[25],
                payload[26],
                payload[27],
            )),
            _ => false,
        }
    }
}

/// smoltcp's view of a [`Device`] plus the self queue, for one poll.
pub(crate) struct Phy<'a, D: Device> {
    pub(crate) device: &'a mut D,
    pub(crate) selfq: &'a mut SelfQueue,
    pub(crate) rx: &'a mut [u8; MAX_FRAME + 64],
}

pub(crate) struct RxToken<'a>(&'a [u8]);

pub(crate) struct TxToken<'a, D: Device> {
    device: &'a mut D,
    selfq: &'a mut SelfQueue,
}

impl phy::RxToken for RxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.0)
    }
}

impl<D: Device> phy::TxToken for TxToken<'_, D> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut frame = [0u8; MAX_FRAME];
        let len = len.min(MAX_FRAME);
        let result = f(&mut frame[..len]);
        let frame = &mut frame[..len];
        if self.selfq.is_for_self(frame) {
            if self.selfq.frames.len() < SELF_QUEUE_MAX {
                // Addressed to our own MAC, so that the receive path accepts it.
                frame[..6].copy_from_slice(&self.selfq.mac);
                self.selfq.frames.push_back(frame.to_vec());
            }
        } else {
            self.device.transmit(frame);
        }
        result
    }
}

impl<D: Device> phy::Device for Phy<'_, D> {
    type RxToken<'a>
        = RxToken<'a>
    where
        Self: 'a;
    type TxToken<'a>
        = TxToken<'a, D>
    where
        Self: 'a;

    fn receive(&mut self, _now: Instant) -> Option<(RxToken<'_>, TxToken<'_, D>)> {
        let len = match self.selfq.frames.pop_front() {
            Some(frame) => {
                self.rx[..frame.len()].copy_from_slice(&frame);
                frame.len()
            }
            None => self.device.receive(&mut self.rx[..])?,
        };
        Some((
            RxToken(&self.rx[..len]),
            TxToken {
                device: self.device,
                selfq: self.selfq,
            },
        ))
    }

    fn transmit(&mut self, _now: Instant) -> Option<TxToken<'_, D>> {
        // Frames to ourselves need no room in the card; when it is full, those still pass.
        self.device.can_transmit().then_some(TxToken {
            device: self.device,
            selfq: self.selfq,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = MAX_FRAME;
        caps.max_burst_size = None;
        caps
    }
}

impl SelfQueue {
    /// Whether looped-back frames wait to be received (the stack must poll again).
    pub(crate) fn pending(&self) -> bool {
        !self.frames.is_empty()
    }
}
