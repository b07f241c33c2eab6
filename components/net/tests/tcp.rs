//! TCP between two stacks on an in-memory wire: transfers, connection churn, refusals,
//! resets, backlogs, shutdown, timeouts and binding rules.

mod common;

use common::*;
use tessera_abi::Errno;
use tessera_net::{Connect, NetStack, PollEvents, Protocol, SocketId, SocketOptions};

/// A host listener on `port`.
fn host_listener(net: &mut Net, port: u16, backlog: u32) -> SocketId {
    let s = net.host.socket(Protocol::Tcp).unwrap();
    net.host
        .bind(s, addr(std::net::Ipv4Addr::UNSPECIFIED, port))
        .unwrap();
    net.host.listen(s, backlog).unwrap();
    s
}

/// A guest connection to the host's `port`, accepted there: (guest socket, host socket).
fn connect_pair(net: &mut Net, listener: SocketId, port: u16) -> (SocketId, SocketId) {
    let c = net.guest.socket(Protocol::Tcp).unwrap();
    assert_eq!(
        net.guest.connect(c, addr(HOST_IP, port)),
        Ok(Connect::InProgress)
    );
    await_connect(net, c, 5_000).unwrap();
    let (s, peer) = blocking(net, 5_000, |n| n.host.accept(listener)).unwrap();
    assert_eq!(peer, net.guest.local_addr(c).unwrap());
    assert_eq!(net.guest.peer_addr(c), Ok(addr(HOST_IP, port)));
    (c, s)
}

/// Sends all of `data` from `from` while reading everything at `to` until end of stream.
fn transfer(net: &mut Net, data: &[u8], from_guest: bool, from: SocketId, to: SocketId) -> Vec<u8> {
    let mut sent = 0;
    let mut got = Vec::new();
    let mut buf = vec![0u8; 7000];
    let mut closed = false;
    for _ in 0..200_000 {
        let (tx, rx): (&mut NetStack<WireEnd>, &mut NetStack<WireEnd>) = if from_guest {
            (&mut net.guest, &mut net.host)
        } else {
            (&mut net.host, &mut net.guest)
        };
        if sent < data.len() {
            match tx.send(from, &data[sent..], None) {
                Ok(n) => sent += n,
                Err(Errno::EAGAIN) => {}
                Err(e) => panic!("send: {e:?}"),
            }
        } else if !closed {
            tx.shutdown(from, false, true).unwrap();
            closed = true;
        }
        loop {
            match rx.recv(to, &mut buf, false) {
                Ok((0, _, _)) => return got,
                Ok((n, _, _)) => got.extend_from_slice(&buf[..n]),
                Err(Errno::EAGAIN) => break,
                Err(e) => panic!("recv: {e:?}"),
            }
        }
        net.run(1);
    }
    panic!("transfer incomplete: sent {sent}, received {}", got.len());
}

#[test]
fn a_mebibyte_each_way_arrives_intact() {
    let mut net = Net::new();
    let listener = host_listener(&mut net, 80, 4);
    for from_guest in [true, false] {
        let (c, s) = connect_pair(&mut net, listener, 80);
        let data = pattern(1 << 20, if from_guest { 7 } else { 11 });
        let (from, to) = if from_guest { (c, s) } else { (s, c) };
        let got = transfer(&mut net, &data, from_guest, from, to);
        assert_eq!(got.len(), data.len());
        assert_eq!(checksum(&got), checksum(&data));
        assert!(got == data);
        net.guest.close(c);
        net.host.close(s);
    }
}

#[test]
fn two_hundred_short_connections_in_a_row() {
    let mut net = Net::new();
    let listener = host_listener(&mut net, 8080, 8);
    for i in 0..200u32 {
        let (c, s) = connect_pair(&mut net, listener, 8080);
        let request = format!("GET /{i}");
        assert_eq!(
            net.guest.send(c, request.as_bytes(), None),
            Ok(request.len())
        );
        let mut buf = [0u8; 64];
        let n = blocking(&mut net, 2_000, |n| n.host.recv(s, &mut buf, false))
            .unwrap()
            .0;
        assert_eq!(&buf[..n], request.as_bytes());
        net.host.send(s, b"200 OK", None).unwrap();
        net.host.close(s);
        let n = blocking(&mut net, 2_000, |n| n.guest.recv(c, &mut buf, false))
            .unwrap()
            .0;
        assert_eq!(&buf[..n], b"200 OK");
        let eof = blocking(&mut net, 2_000, |n| n.guest.recv(c, &mut buf, false)).unwrap();
        assert_eq!(eof.0, 0, "end of stream after the server closed");
        net.guest.close(c);
    }
    net.run(200);
    // Everything closed is reaped: only the listener remains, nothing lingers.
    assert_eq!(net.host.socket_count(), 1);
    assert_eq!(net.guest.socket_count(), 0);
    assert_eq!(net.guest.lingering_count() + net.host.lingering_count(), 0);
}

#[test]
fn connecting_to_a_closed_port_is_refused() {
    let mut net = Net::new();
    let c = net.guest.socket(Protocol::Tcp).unwrap();
    assert_eq!(
        net.guest.connect(c, addr(HOST_IP, 9)),
        Ok(Connect::InProgress)
    );
    assert_eq!(net.guest.connect(c, addr(HOST_IP, 9)), Err(Errno::EALREADY));
    net.run_until(1_000, |n| n.guest.readiness(c).contains(PollEvents::ERR));
    // Non-blocking style: SO_ERROR says why, then connect again reports ECONNABORTED.
    assert_eq!(net.guest.take_error(c), Ok(Some(Errno::ECONNREFUSED)));
    assert_eq!(net.guest.take_error(c), Ok(None));
    assert_eq!(
        net.guest.connect(c, addr(HOST_IP, 9)),
        Err(Errno::ECONNABORTED)
    );
    // Blocking style: the waiting connect gets ECONNREFUSED.
    let d = net.guest.socket(Protocol::Tcp).unwrap();
    net.guest.connect(d, addr(HOST_IP, 9)).unwrap();
    assert_eq!(await_connect(&mut net, d, 1_000), Err(Errno::ECONNREFUSED));
    // Unconnected streams: send is EPIPE, recv ENOTCONN, getpeername ENOTCONN.
    assert_eq!(net.guest.send(d, b"x", None), Err(Errno::EPIPE));
    assert_eq!(
        net.guest.recv(d, &mut [0u8; 4], false).map(|r| r.0),
        Err(Errno::ENOTCONN)
    );
    assert_eq!(net.guest.peer_addr(d), Err(Errno::ENOTCONN));
}

#[test]
fn a_silent_peer_times_out() {
    let mut net = Net::new();
    *net.cut.borrow_mut() = true;
    let c = net.guest.socket(Protocol::Tcp).unwrap();
    net.guest.connect(c, addr(HOST_IP, 80)).unwrap();
    assert_eq!(net.guest.readiness(c), PollEvents::empty());
    assert_eq!(
        await_connect(&mut net, c, tessera_net::CONNECT_TIMEOUT_MS + 5_000),
        Err(Errno::ETIMEDOUT)
    );
}

#[test]
fn closing_with_unread_data_resets_the_peer() {
    let mut net = Net::new();
    let listener = host_listener(&mut net, 80, 2);
    let (c, s) = connect_pair(&mut net, listener, 80);
    net.guest.send(c, b"unread", None).unwrap();
    net.run(50);
    net.host.close(s); // data left unread: RST
    net.run_until(1_000, |n| n.guest.readiness(c).contains(PollEvents::ERR));
    let mut buf = [0u8; 8];
    assert_eq!(
        net.guest.recv(c, &mut buf, false).map(|r| r.0),
        Err(Errno::ECONNRESET)
    );
    assert_eq!(net.guest.recv(c, &mut buf, false).map(|r| r.0), Ok(0));
    assert_eq!(net.guest.send(c, b"more", None), Err(Errno::EPIPE));
    assert!(net.guest.readiness(c).contains(PollEvents::HUP));
}

#[test]
fn a_client_leaving_mid_transfer_leaves_the_server_serving() {
    let mut net = Net::new();
    let listener = host_listener(&mut net, 80, 2);
    let (c, s) = connect_pair(&mut net, listener, 80);
    let data = pattern(512 * 1024, 3);
    let mut sent = 0;
    let mut buf = vec![0u8; 4096];
    // The client reads a little, then goes away with data in flight.
    for _ in 0..100 {
        if let Ok(n) = net.host.send(s, &data[sent..], None) {
            sent += n;
        }
        let _ = net.guest.recv(c, &mut buf, false);
        net.run(1);
    }
    net.guest.close(c);
    let outcome: Result<(), Errno> = blocking(&mut net, 5_000, |n| {
        n.host.send(s, &data[sent.min(data.len() - 1)..], None)?;
        Err(Errno::EAGAIN)
    });
    assert!(
        matches!(outcome, Err(Errno::ECONNRESET) | Err(Errno::EPIPE)),
        "{outcome:?}"
    );
    net.host.close(s);
    // The next client is served normally.
    let (c2, s2) = connect_pair(&mut net, listener, 80);
    let got = transfer(&mut net, b"still here", false, s2, c2);
    assert_eq!(got, b"still here");
}

#[test]
fn the_backlog_holds_connections_until_accepted() {
    let mut net = Net::new();
    let listener = host_listener(&mut net, 80, 5);
    let clients: Vec<SocketId> = (0..5)
        .map(|_| {
            let c = net.guest.socket(Protocol::Tcp).unwrap();
            net.guest.connect(c, addr(HOST_IP, 80)).unwrap();
            c
        })
        .collect();
    for &c in &clients {
        await_connect(&mut net, c, 2_000).unwrap();
    }
    assert!(net.host.readiness(listener).contains(PollEvents::IN));
    let mut peers: Vec<_> = (0..5)
        .map(|_| net.host.accept(listener).unwrap().1)
        .collect();
    assert_eq!(net.host.accept(listener), Err(Errno::EAGAIN));
    let mut locals: Vec<_> = clients
        .iter()
        .map(|&c| net.guest.local_addr(c).unwrap())
        .collect();
    peers.sort();
    locals.sort();
    assert_eq!(peers, locals);
}

#[test]
fn shutdown_for_writing_sends_end_of_stream_but_keeps_reading() {
    let mut net = Net::new();
    let listener = host_listener(&mut net, 80, 2);
    let (c, s) = connect_pair(&mut net, listener, 80);
    net.guest.send(c, b"request", None).unwrap();
    net.guest.shutdown(c, false, true).unwrap();
    assert_eq!(net.guest.send(c, b"x", None), Err(Errno::EPIPE));
    let mut buf = [0u8; 16];
    let got = blocking(&mut net, 1_000, |n| n.host.recv(s, &mut buf, false)).unwrap();
    assert_eq!(&buf[..got.0], b"request");
    assert_eq!(
        blocking(&mut net, 1_000, |n| n.host.recv(s, &mut buf, false)).map(|r| r.0),
        Ok(0)
    );
    assert!(net.host.readiness(s).contains(PollEvents::RDHUP));
    net.host.send(s, b"response", None).unwrap();
    let got = blocking(&mut net, 1_000, |n| n.guest.recv(c, &mut buf, false)).unwrap();
    assert_eq!(&buf[..got.0], b"response");
    let fresh = net.guest.socket(Protocol::Tcp).unwrap();
    assert_eq!(net.guest.shutdown(fresh, true, true), Err(Errno::ENOTCONN));
}

#[test]
fn binding_rules() {
    let mut net = Net::new();
    let any = std::net::Ipv4Addr::UNSPECIFIED;
    let a = net.guest.socket(Protocol::Tcp).unwrap();
    assert_eq!(net.guest.local_addr(a), Ok(addr(any, 0)));
    net.guest.bind(a, addr(any, 7000)).unwrap();
    assert_eq!(net.guest.bind(a, addr(any, 7001)), Err(Errno::EINVAL));
    let b = net.guest.socket(Protocol::Tcp).unwrap();
    assert_eq!(net.guest.bind(b, addr(any, 7000)), Err(Errno::EADDRINUSE));
    assert_eq!(
        net.guest.bind(b, addr(HOST_IP, 7002)),
        Err(Errno::EADDRNOTAVAIL)
    );
    net.guest.bind(b, addr(GUEST_IP, 0)).unwrap();
    let port = net.guest.local_addr(b).unwrap().port();
    assert!((32768..=60999).contains(&port), "ephemeral port {port}");
    // SO_REUSEADDR on both: a bound (not listening) port can be shared; a listener's cannot.
    let reuse = SocketOptions {
        reuse_addr: true,
        ..net.guest.options(a).unwrap()
    };
    net.guest.set_options(a, reuse).unwrap();
    let c = net.guest.socket(Protocol::Tcp).unwrap();
    net.guest.set_options(c, reuse).unwrap();
    net.guest.bind(c, addr(any, 7000)).unwrap();
    net.guest.close(c);
    net.guest.listen(a, 1).unwrap();
    let d = net.guest.socket(Protocol::Tcp).unwrap();
    net.guest.set_options(d, reuse).unwrap();
    assert_eq!(net.guest.bind(d, addr(any, 7000)), Err(Errno::EADDRINUSE));
    // A listener cannot connect; accept needs a listener; UDP cannot listen.
    assert_eq!(net.guest.connect(a, addr(HOST_IP, 1)), Err(Errno::EISCONN));
    assert_eq!(net.guest.accept(d), Err(Errno::EINVAL));
    let u = net.guest.socket(Protocol::Udp).unwrap();
    assert_eq!(net.guest.listen(u, 1), Err(Errno::EOPNOTSUPP));
    // Closing frees the port.
    net.guest.close(a);
    net.guest.bind(d, addr(any, 7000)).unwrap();
}

#[test]
fn the_guest_talks_to_itself_on_its_own_address() {
    let mut net = Net::new();
    let s = net.guest.socket(Protocol::Tcp).unwrap();
    net.guest
        .bind(s, addr(std::net::Ipv4Addr::UNSPECIFIED, 5000))
        .unwrap();
    net.guest.listen(s, 1).unwrap();
    let c = net.guest.socket(Protocol::Tcp).unwrap();
    net.guest.connect(c, addr(GUEST_IP, 5000)).unwrap();
    await_connect(&mut net, c, 1_000).unwrap();
    let (conn, peer) = net.guest.accept(s).unwrap();
    assert_eq!(peer, net.guest.local_addr(c).unwrap());
    net.guest.send(c, b"me", None).unwrap();
    net.run(5);
    let mut buf = [0u8; 4];
    assert_eq!(net.guest.recv(conn, &mut buf, false).map(|r| r.0), Ok(2));
    assert_eq!(&buf[..2], b"me");
}
