//! Networking for Tessera's Linux ABI: an IPv4 stack (smoltcp) behind Linux socket
//! semantics, and Unix domain sockets.
//!
//! [`NetStack`] owns one smoltcp interface over a [`Device`] (whole Ethernet frames: the
//! kernel's virtio-net card, or in tests an in-memory wire) with a static address
//! ([`NetConfig::qemu_user`]: 10.0.2.15/24, gateway 10.0.2.2) plus 127.0.0.1/8, and a table
//! of TCP and UDP sockets named by [`SocketId`]. Nothing blocks: an operation that would
//! wait returns `EAGAIN`, and the kernel sleeps until [`NetStack::poll`] says sockets
//! changed. Errors are Linux's (`tessera_abi::Errno`).
//!
//! | operation | Linux call | errors and notes |
//! |---|---|---|
//! | [`NetStack::socket`] | `socket(AF_INET, ...)` | |
//! | [`NetStack::bind`] | `bind` | `EADDRINUSE`, `EADDRNOTAVAIL`, `EINVAL` (bound); port 0: ephemeral |
//! | [`NetStack::listen`] | `listen` | `EOPNOTSUPP` (UDP), `EINVAL` (connected); a pool of up to 16 listeners |
//! | [`NetStack::accept`] | `accept` | `EAGAIN` (none ready), `EINVAL` (not listening) |
//! | [`NetStack::connect`], [`NetStack::connect_result`] | `connect` | `InProgress` then `ECONNREFUSED` (RST), `ETIMEDOUT`, `EISCONN`, `EALREADY` |
//! | [`NetStack::send`] | `sendto`/`write` | `EPIPE` (kernel adds `SIGPIPE`), `ECONNRESET`, `EAGAIN`, `EDESTADDRREQ`, `EMSGSIZE` |
//! | [`NetStack::recv`] | `recvfrom`/`read` | 0 at end of stream, `ENOTCONN`, `ECONNRESET` once, `EAGAIN` |
//! | [`NetStack::shutdown`] | `shutdown` | `ENOTCONN` |
//! | [`NetStack::close`] | last `close` | data and FIN sent in the background; RST if unread data |
//! | [`NetStack::local_addr`], [`NetStack::peer_addr`] | `getsockname`, `getpeername` | `ENOTCONN` |
//! | [`NetStack::options`], [`NetStack::set_options`], [`NetStack::take_error`] | `[gs]etsockopt` | `SO_ERROR` is taken |
//! | [`NetStack::readiness`] | `poll`/`select` | Linux's `tcp_poll` bits |
//! | [`NetStack::poll`], [`NetStack::poll_delay_ms`] | (timer, IRQ, every socket call) | returns whether to wake waiters |
//! | [`UnixStream::pair`], [`UnixNamespace`], [`UnixListener`] | `socketpair`, `AF_UNIX` `bind`/`listen`/`connect`/`accept` | `EPIPE`, `ECONNREFUSED`, `ENOENT`, `EADDRINUSE` |
//! | [`addr`] | `sockaddr_in`, `sockaddr_un` | `EINVAL`, `EAFNOSUPPORT` |
//!
//! # How the kernel uses it
//!
//! The kernel keeps one `NetStack` behind a lock, on its virtio-net device (or
//! [`NoDevice`] when the machine has none: loopback still works). A socket file holds a
//! `SocketId`. A blocking call loops: lock, `poll`, try the operation; on `EAGAIN` sleep on
//! the network wait queue (non-blocking files return it). The timer tick and the card's
//! interrupt call `poll` too and wake the queue when it returns true; the tick also wakes it
//! for timed waits (`SO_RCVTIMEO`). The last close of the file calls [`NetStack::close`].
//!
//! ```
//! use core::net::{Ipv4Addr, SocketAddrV4};
//! use tessera_net::{NetConfig, NetStack, NoDevice, Protocol, Connect};
//! use tessera_abi::Errno;
//!
//! let mut net = NetStack::new(NoDevice, NetConfig::qemu_user(1), 0);
//! let server = net.socket(Protocol::Tcp).unwrap();
//! net.bind(server, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 80)).unwrap();
//! net.listen(server, 4).unwrap();
//! let client = net.socket(Protocol::Tcp).unwrap();
//! let to = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 80);
//! assert_eq!(net.connect(client, to), Ok(Connect::InProgress));
//! net.poll(1); // loopback frames settle within a poll
//! assert_eq!(net.connect_result(client), Some(Ok(())));
//! let (conn, _peer) = net.accept(server).unwrap();
//! assert_eq!(net.send(client, b"GET /", None), Ok(5));
//! net.poll(2);
//! let mut buf = [0u8; 16];
//! assert_eq!(net.recv(conn, &mut buf, false).map(|r| r.0), Ok(5));
//! assert_eq!(net.recv(conn, &mut buf, false), Err(Errno::EAGAIN));
//! ```
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod addr;
#[cfg(feature = "inet")]
mod device;
#[cfg(feature = "inet")]
mod options;
#[cfg(feature = "inet")]
mod ports;
#[cfg(feature = "inet")]
mod stack;
#[cfg(feature = "inet")]
mod tcp;
#[cfg(feature = "inet")]
mod udp;
pub mod unix;

#[cfg(feature = "inet")]
pub use device::{Device, MAX_FRAME, NoDevice};
#[cfg(feature = "inet")]
pub use options::{DEFAULT_RECV_BUF, DEFAULT_SEND_BUF, MAX_BUF, MIN_BUF, SocketOptions};
#[cfg(feature = "inet")]
pub use stack::{Connect, NetConfig, NetStack, Protocol, SocketId};
#[cfg(feature = "inet")]
pub use tcp::{CONNECT_TIMEOUT_MS, MAX_BACKLOG};
#[cfg(feature = "inet")]
pub use udp::MAX_DATAGRAM;
pub use unix::{UnixKind, UnixListener, UnixNamespace, UnixStream};

/// `poll` event bits, as sockets report their readiness (the one definition, in
/// `tessera-abi`).
pub use tessera_abi::poll::PollEvents;
