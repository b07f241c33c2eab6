//! UDP between two stacks: datagrams both ways, connected peers, truncation and errors.

mod common;

use common::*;
use std::net::Ipv4Addr;
use tessera_abi::Errno;
use tessera_net::{PollEvents, Protocol};

#[test]
fn datagrams_cross_the_wire_with_their_sender() {
    let mut net = Net::new();
    let server = net.host.socket(Protocol::Udp).unwrap();
    net.host
        .bind(server, addr(Ipv4Addr::UNSPECIFIED, 53))
        .unwrap();
    let client = net.guest.socket(Protocol::Udp).unwrap();
    // An unbound socket binds an ephemeral port on its first send.
    assert_eq!(
        net.guest.send(client, b"query", Some(addr(HOST_IP, 53))),
        Ok(5)
    );
    let local = net.guest.local_addr(client).unwrap();
    assert_ne!(local.port(), 0);
    let mut buf = [0u8; 64];
    let (n, from, len) =
        blocking(&mut net, 1_000, |n| n.host.recv(server, &mut buf, false)).unwrap();
    assert_eq!((&buf[..n], len), (&b"query"[..], 5));
    assert_eq!(from, addr(GUEST_IP, local.port()));
    net.host.send(server, b"answer!", Some(from)).unwrap();
    // Peek leaves it; a short buffer truncates and reports the real length.
    let mut small = [0u8; 3];
    let peeked = blocking(&mut net, 1_000, |n| n.guest.recv(client, &mut small, true)).unwrap();
    assert_eq!((peeked.0, peeked.2), (3, 7));
    let (n, from, len) = net.guest.recv(client, &mut small, false).unwrap();
    assert_eq!(
        (&small[..n], len, from),
        (&b"ans"[..], 7, addr(HOST_IP, 53))
    );
    assert_eq!(net.guest.recv(client, &mut buf, false), Err(Errno::EAGAIN));
    assert!(net.guest.readiness(client).contains(PollEvents::OUT));
}

#[test]
fn a_connected_socket_talks_only_to_its_peer() {
    let mut net = Net::new();
    let guest = net.guest.socket(Protocol::Udp).unwrap();
    net.guest
        .bind(guest, addr(Ipv4Addr::UNSPECIFIED, 4000))
        .unwrap();
    assert_eq!(net.guest.send(guest, b"x", None), Err(Errno::EDESTADDRREQ));
    assert_eq!(net.guest.peer_addr(guest), Err(Errno::ENOTCONN));
    assert_eq!(net.guest.shutdown(guest, true, false), Err(Errno::ENOTCONN));
    net.guest.connect(guest, addr(HOST_IP, 5000)).unwrap();
    assert_eq!(net.guest.peer_addr(guest), Ok(addr(HOST_IP, 5000)));
    let peer = net.host.socket(Protocol::Udp).unwrap();
    net.host
        .bind(peer, addr(Ipv4Addr::UNSPECIFIED, 5000))
        .unwrap();
    let stranger = net.host.socket(Protocol::Udp).unwrap();
    net.host
        .bind(stranger, addr(Ipv4Addr::UNSPECIFIED, 5001))
        .unwrap();
    net.host
        .send(stranger, b"spam", Some(addr(GUEST_IP, 4000)))
        .unwrap();
    net.host
        .send(peer, b"ham", Some(addr(GUEST_IP, 4000)))
        .unwrap();
    assert_eq!(net.guest.send(guest, b"hello", None), Ok(5));
    let mut buf = [0u8; 16];
    let got = blocking(&mut net, 1_000, |n| n.guest.recv(guest, &mut buf, false)).unwrap();
    assert_eq!(&buf[..got.0], b"ham");
    let got = blocking(&mut net, 1_000, |n| n.host.recv(peer, &mut buf, false)).unwrap();
    assert_eq!(&buf[..got.0], b"hello");
}

#[test]
fn size_and_port_errors() {
    let mut net = Net::new();
    let a = net.guest.socket(Protocol::Udp).unwrap();
    let too_big = vec![0u8; tessera_net::MAX_DATAGRAM + 1];
    assert_eq!(
        net.guest.send(a, &too_big, Some(addr(HOST_IP, 1))),
        Err(Errno::EMSGSIZE)
    );
    net.guest
        .bind(a, addr(Ipv4Addr::UNSPECIFIED, 6000))
        .unwrap();
    let b = net.guest.socket(Protocol::Udp).unwrap();
    assert_eq!(
        net.guest.bind(b, addr(Ipv4Addr::UNSPECIFIED, 6000)),
        Err(Errno::EADDRINUSE)
    );
    // TCP and UDP ports are separate.
    let t = net.guest.socket(Protocol::Tcp).unwrap();
    net.guest
        .bind(t, addr(Ipv4Addr::UNSPECIFIED, 6000))
        .unwrap();
    net.guest.close(a);
    net.guest
        .bind(b, addr(Ipv4Addr::UNSPECIFIED, 6000))
        .unwrap();
}

#[test]
fn loopback_datagrams() {
    let mut net = Net::new();
    let a = net.guest.socket(Protocol::Udp).unwrap();
    net.guest.bind(a, addr(Ipv4Addr::LOCALHOST, 7)).unwrap();
    let b = net.guest.socket(Protocol::Udp).unwrap();
    net.guest
        .send(b, b"echo", Some(addr(Ipv4Addr::LOCALHOST, 7)))
        .unwrap();
    net.run(2);
    let mut buf = [0u8; 8];
    let (n, from, _) = net.guest.recv(a, &mut buf, false).unwrap();
    assert_eq!(&buf[..n], b"echo");
    assert_eq!(from.ip(), &Ipv4Addr::LOCALHOST);
}
