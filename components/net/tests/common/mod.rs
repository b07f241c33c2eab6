//! Two network stacks joined by an in-memory Ethernet wire, and helpers to drive them.
#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::rc::Rc;

use tessera_abi::{Errno, KResult};
use tessera_net::{Device, NetConfig, NetStack, SocketId};

type Queue = Rc<RefCell<VecDeque<Vec<u8>>>>;

/// One end of the wire: sends into one queue, receives from the other.
pub struct WireEnd {
    mac: [u8; 6],
    tx: Queue,
    rx: Queue,
    /// While set, frames sent are dropped (a cable pulled out).
    pub cut: Rc<RefCell<bool>>,
}

impl Device for WireEnd {
    fn mac(&self) -> [u8; 6] {
        self.mac
    }

    fn receive(&mut self, buf: &mut [u8]) -> Option<usize> {
        let frame = self.rx.borrow_mut().pop_front()?;
        buf[..frame.len()].copy_from_slice(&frame);
        Some(frame.len())
    }

    fn can_transmit(&mut self) -> bool {
        self.tx.borrow().len() < 512
    }

    fn transmit(&mut self, frame: &[u8]) {
        if !*self.cut.borrow() {
            self.tx.borrow_mut().push_back(frame.to_vec());
        }
    }
}

/// The guest (10.0.2.15) and the host (10.0.2.2) on one wire, and the clock in ms.
pub struct Net {
    pub guest: NetStack<WireEnd>,
    pub host: NetStack<WireEnd>,
    pub now: u64,
    pub cut: Rc<RefCell<bool>>,
}

pub const GUEST_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 15);
pub const HOST_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 2);

impl Net {
    pub fn new() -> Net {
        let (a, b): (Queue, Queue) = Default::default();
        let cut = Rc::new(RefCell::new(false));
        let guest_end = WireEnd {
            mac: [0x52, 0x54, 0, 0x12, 0x34, 0x56],
            tx: a.clone(),
            rx: b.clone(),
            cut: cut.clone(),
        };
        let host_end = WireEnd {
            mac: [0x52, 0x55, 10, 0, 2, 2],
            tx: b,
            rx: a,
            cut: cut.clone(),
        };
        let host_config = NetConfig {
            ip: HOST_IP,
            prefix_len: 24,
            gateway: None,
            random_seed: 2,
        };
        Net {
            guest: NetStack::new(guest_end, NetConfig::qemu_user(1), 0),
            host: NetStack::new(host_end, host_config, 0),
            now: 0,
            cut,
        }
    }

    /// Advances the clock by `ms` in 1 ms steps, polling both stacks at each.
    pub fn run(&mut self, ms: u64) {
        for _ in 0..ms {
            self.now += 1;
            self.guest.poll(self.now);
            self.host.poll(self.now);
        }
    }

    /// Runs until `done` holds (at most `limit_ms`); panics on the limit.
    pub fn run_until(&mut self, limit_ms: u64, mut done: impl FnMut(&mut Net) -> bool) {
        for _ in 0..limit_ms {
            if done(self) {
                return;
            }
            self.run(1);
        }
        assert!(done(self), "condition not reached in {limit_ms} ms");
    }
}

pub fn addr(ip: Ipv4Addr, port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(ip, port)
}

/// Runs a blocking operation: retries on EAGAIN, advancing the clock.
pub fn blocking<T>(
    net: &mut Net,
    limit_ms: u64,
    mut op: impl FnMut(&mut Net) -> KResult<T>,
) -> KResult<T> {
    for _ in 0..limit_ms {
        match op(net) {
            Err(Errno::EAGAIN) => net.run(1),
            other => return other,
        }
    }
    panic!("still EAGAIN after {limit_ms} ms");
}

/// Waits for a connect under way to finish.
pub fn await_connect(net: &mut Net, id: SocketId, limit_ms: u64) -> KResult<()> {
    for _ in 0..limit_ms {
        if let Some(result) = net.guest.connect_result(id) {
            return result;
        }
        net.run(1);
    }
    panic!("connect still in progress after {limit_ms} ms");
}

/// Deterministic pseudo-random bytes (xorshift).
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A checksum that notices reordering (Fletcher-64 style).
pub fn checksum(data: &[u8]) -> u64 {
    let (mut a, mut b) = (1u64, 0u64);
    for &byte in data {
        a = (a + byte as u64) % 0xffff_fffb;
        b = (b + a) % 0xffff_fffb;
    }
    (b << 32) | a
}
