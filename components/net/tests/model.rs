//! Property tests of TCP against a byte-queue model: whatever the sizes of the writes and
//! reads, the interleaving with the clock and who closes first, each direction of a
//! connection delivers exactly the bytes accepted by `send`, in order, then end of stream;
//! and `send` never accepts more than it was offered.

mod common;

use common::*;
use proptest::prelude::*;
use std::net::Ipv4Addr;
use tessera_abi::Errno;
use tessera_net::{NetStack, Protocol, SocketId};

#[derive(Clone, Debug)]
enum Op {
    /// (from the guest?, bytes offered)
    Send(bool, usize),
    /// (at the guest?, buffer size)
    Recv(bool, usize),
    /// Milliseconds of clock.
    Run(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (any::<bool>(), 0..70_000usize).prop_map(|(g, n)| Op::Send(g, n)),
        3 => (any::<bool>(), 1..50_000usize).prop_map(|(g, n)| Op::Recv(g, n)),
        2 => (1..20u64).prop_map(Op::Run),
    ]
}

/// The two ends of one connection: (guest socket, host socket).
fn connected(net: &mut Net) -> (SocketId, SocketId) {
    let l = net.host.socket(Protocol::Tcp).unwrap();
    net.host.bind(l, addr(Ipv4Addr::UNSPECIFIED, 80)).unwrap();
    net.host.listen(l, 1).unwrap();
    let c = net.guest.socket(Protocol::Tcp).unwrap();
    net.guest.connect(c, addr(HOST_IP, 80)).unwrap();
    await_connect(net, c, 2_000).unwrap();
    let (s, _) = blocking(net, 2_000, |n| n.host.accept(l)).unwrap();
    (c, s)
}

fn side(net: &mut Net, guest: bool) -> &mut NetStack<WireEnd> {
    if guest { &mut net.guest } else { &mut net.host }
}

/// Reads everything left at `id` until end of stream.
fn drain(net: &mut Net, guest: bool, id: SocketId) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = vec![0u8; 16384];
    for _ in 0..100_000 {
        match side(net, guest).recv(id, &mut buf, false) {
            Ok((0, _, _)) => return got,
            Ok((n, _, _)) => got.extend_from_slice(&buf[..n]),
            Err(Errno::EAGAIN) => net.run(1),
            Err(e) => panic!("recv: {e:?}"),
        }
    }
    panic!("no end of stream");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn each_direction_delivers_what_send_accepted(ops in proptest::collection::vec(op(), 1..40)) {
        let mut net = Net::new();
        let (c, s) = connected(&mut net);
        let id = |guest: bool| if guest { c } else { s };
        // sent[0]: guest -> host, sent[1]: host -> guest; received likewise by direction.
        let mut sent: [Vec<u8>; 2] = Default::default();
        let mut received: [Vec<u8>; 2] = Default::default();
        let mut counter = 0u8;
        for op in ops {
            match op {
                Op::Send(guest, len) => {
                    let data: Vec<u8> = (0..len)
                        .map(|_| { counter = counter.wrapping_add(1); counter })
                        .collect();
                    let dir = usize::from(!guest);
                    match side(&mut net, guest).send(id(guest), &data, None) {
                        Ok(n) => {
                            prop_assert!(n <= len);
                            prop_assert!(len == 0 || n > 0);
                            sent[dir].extend_from_slice(&data[..n]);
                        }
                        Err(Errno::EAGAIN) => prop_assert!(len > 0),
                        Err(e) => prop_assert!(false, "send: {:?}", e),
                    }
                }
                Op::Recv(guest, len) => {
                    let mut buf = vec![0u8; len];
                    let dir = usize::from(guest);
                    match side(&mut net, guest).recv(id(guest), &mut buf, false) {
                        Ok((n, _, _)) => {
                            prop_assert!(n > 0, "no end of stream before a close");
                            received[dir].extend_from_slice(&buf[..n]);
                        }
                        Err(Errno::EAGAIN) => {}
                        Err(e) => prop_assert!(false, "recv: {:?}", e),
                    }
                    // What arrived so far is a prefix of what was sent.
                    prop_assert!(sent[dir].starts_with(&received[dir]));
                }
                Op::Run(ms) => net.run(ms),
            }
        }
        // Both close their writing side; each reads the rest, then end of stream.
        net.guest.shutdown(c, false, true).unwrap();
        net.host.shutdown(s, false, true).unwrap();
        let rest = drain(&mut net, false, s);
        received[0].extend_from_slice(&rest);
        let rest = drain(&mut net, true, c);
        received[1].extend_from_slice(&rest);
        prop_assert!(received[0] == sent[0], "guest -> host differs");
        prop_assert!(received[1] == sent[1], "host -> guest differs");
    }
}
