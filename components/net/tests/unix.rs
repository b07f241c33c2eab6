//! Unix domain sockets: pairs, names, listeners, and a model-based property test.

use proptest::prelude::*;
use std::collections::VecDeque;
use tessera_abi::Errno;
use tessera_net::addr::UnixAddr;
use tessera_net::{PollEvents, UnixKind, UnixNamespace, UnixStream, unix::UNIX_BUFFER};

#[test]
fn a_pair_carries_bytes_both_ways_then_end_of_file() {
    let (a, b) = UnixStream::pair(UnixKind::Stream);
    assert_eq!(a.send(b"ping"), Ok(4));
    assert_eq!(b.send(b"pong!"), Ok(5));
    let mut buf = [0u8; 16];
    assert_eq!(b.recv(&mut buf, true), Ok((4, 4)));
    assert_eq!(b.pending(), 4);
    assert_eq!(b.recv(&mut buf, false), Ok((4, 4)));
    assert_eq!(&buf[..4], b"ping");
    assert_eq!(b.recv(&mut buf, false), Err(Errno::EAGAIN));
    assert!(!b.poll().contains(PollEvents::IN));
    assert!(a.poll().contains(PollEvents::IN | PollEvents::OUT));
    drop(b);
    // What b sent is still there, then end of file; writing is a broken pipe.
    assert_eq!(a.recv(&mut buf, false), Ok((5, 5)));
    assert_eq!(a.recv(&mut buf, false), Ok((0, 0)));
    assert_eq!(a.send(b"x"), Err(Errno::EPIPE));
    assert!(a.poll().contains(PollEvents::HUP | PollEvents::RDHUP));
}

#[test]
fn a_full_buffer_would_block_and_shutdown_ends_the_stream() {
    let (a, b) = UnixStream::pair(UnixKind::Stream);
    let big = vec![7u8; UNIX_BUFFER + 10];
    assert_eq!(a.send(&big), Ok(UNIX_BUFFER));
    assert_eq!(a.send(b"x"), Err(Errno::EAGAIN));
    assert!(!a.poll().contains(PollEvents::OUT));
    a.shutdown(false, true);
    assert_eq!(a.send(b"x"), Err(Errno::EPIPE));
    let mut buf = vec![0u8; UNIX_BUFFER];
    assert_eq!(b.recv(&mut buf, false), Ok((UNIX_BUFFER, UNIX_BUFFER)));
    assert_eq!(b.recv(&mut buf, false), Ok((0, 0)));
    assert_eq!(b.send(b"reply"), Ok(5));
}

#[test]
fn datagram_pairs_keep_message_boundaries() {
    let (a, b) = UnixStream::pair(UnixKind::Datagram);
    a.send(b"one").unwrap();
    a.send(b"three").unwrap();
    let mut buf = [0u8; 4];
    assert_eq!(b.recv(&mut buf, false), Ok((3, 3)));
    assert_eq!(
        b.recv(&mut buf, false),
        Ok((4, 5)),
        "truncated, real length"
    );
    assert_eq!(&buf, b"thre");
    assert_eq!(b.recv(&mut buf, false), Err(Errno::EAGAIN));
    assert_eq!(a.send(&vec![0u8; UNIX_BUFFER + 1]), Err(Errno::EMSGSIZE));
}

#[test]
fn names_listeners_and_connections() {
    let mut ns = UnixNamespace::new();
    let path = UnixAddr::Path(b"/tmp/sock".to_vec());
    assert_eq!(
        ns.connect(&path, UnixKind::Stream).err(),
        Some(Errno::ENOENT)
    );
    assert_eq!(ns.bind(path.clone()), Ok(path.clone()));
    assert_eq!(ns.bind(path.clone()), Err(Errno::EADDRINUSE));
    assert_eq!(
        ns.connect(&path, UnixKind::Stream).err(),
        Some(Errno::ECONNREFUSED)
    );
    let listener = ns.listen(&path, UnixKind::Stream, 1);
    assert_eq!(
        ns.connect(&path, UnixKind::Datagram).err(),
        Some(Errno::EPROTOTYPE)
    );
    let client = ns.connect(&path, UnixKind::Stream).unwrap();
    assert_eq!(
        ns.connect(&path, UnixKind::Stream).err(),
        Some(Errno::EAGAIN),
        "backlog 1"
    );
    assert!(listener.poll().contains(PollEvents::IN));
    let server = listener.accept().unwrap();
    assert_eq!(listener.accept().err(), Some(Errno::EAGAIN));
    client.send(b"hi").unwrap();
    let mut buf = [0u8; 2];
    assert_eq!(server.recv(&mut buf, false), Ok((2, 2)));
    // A listener gone: refused; the name freed: bindable again.
    drop(listener);
    assert_eq!(
        ns.connect(&path, UnixKind::Stream).err(),
        Some(Errno::ECONNREFUSED)
    );
    ns.unbind(&path);
    assert!(ns.bind(path).is_ok());
    let auto = ns.bind(UnixAddr::Unnamed).unwrap();
    assert!(matches!(auto, UnixAddr::Abstract(ref n) if n.len() == 5));
}

#[derive(Clone, Debug)]
enum Op {
    Send(usize, usize),
    Recv(usize, usize, bool),
    ShutWrite(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..2usize, 0..20_000usize).prop_map(|(s, n)| Op::Send(s, n)),
        4 => (0..2usize, 0..30_000usize, any::<bool>()).prop_map(|(s, n, p)| Op::Recv(s, n, p)),
        1 => (0..2usize).prop_map(Op::ShutWrite),
    ]
}

proptest! {
    /// A stream pair behaves like two bounded byte queues with end-of-file flags.
    #[test]
    fn a_stream_pair_matches_its_model(ops in proptest::collection::vec(op(), 1..60)) {
        let (a, b) = UnixStream::pair(UnixKind::Stream);
        let ends = [&a, &b];
        let mut model: [VecDeque<u8>; 2] = Default::default();
        let mut shut = [false; 2];
        let mut counter = 0u8;
        for op in ops {
            match op {
                Op::Send(side, len) => {
                    let data: Vec<u8> = (0..len).map(|_| { counter = counter.wrapping_add(1); counter }).collect();
                    let expect = if shut[side] {
                        Err(Errno::EPIPE)
                    } else if len == 0 {
                        Ok(0)
                    } else if model[side].len() == UNIX_BUFFER {
                        Err(Errno::EAGAIN)
                    } else {
                        Ok(len.min(UNIX_BUFFER - model[side].len()))
                    };
                    let got = ends[side].send(&data);
                    prop_assert_eq!(got, expect);
                    if let Ok(n) = got {
                        model[side].extend(&data[..n]);
                    }
                }
                Op::Recv(side, len, peek) => {
                    let queue = &mut model[1 - side];
                    let mut buf = vec![0u8; len];
                    let got = ends[side].recv(&mut buf, peek);
                    if queue.is_empty() {
                        let expect = if shut[1 - side] { Ok((0, 0)) } else { Err(Errno::EAGAIN) };
                        prop_assert_eq!(got, expect);
                    } else {
                        let n = len.min(queue.len());
                        prop_assert_eq!(got, Ok((n, queue.len())));
                        let expect: Vec<u8> = if peek {
                            queue.iter().take(n).copied().collect()
                        } else {
                            queue.drain(..n).collect()
                        };
                        prop_assert_eq!(&buf[..n], &expect[..]);
                    }
                }
                Op::ShutWrite(side) => {
                    ends[side].shutdown(false, true);
                    shut[side] = true;
                }
            }
        }
    }
}
