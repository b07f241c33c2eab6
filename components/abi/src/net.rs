//! Socket numbers: address families, socket types and flags, `sockaddr` layouts, socket
//! options, `shutdown` and `send`/`recv` flags (`linux/socket.h`, `linux/in.h`, `linux/un.h`,
//! `asm-generic/socket.h`, `linux/tcp.h`).

/// Local (Unix domain) sockets.
pub const AF_UNIX: u32 = 1;
/// IPv4.
pub const AF_INET: u32 = 2;
/// IPv6 (not supported: `socket` returns `EAFNOSUPPORT`).
pub const AF_INET6: u32 = 10;

/// Byte stream (TCP, Unix stream).
pub const SOCK_STREAM: u32 = 1;
/// Datagrams (UDP, Unix datagram).
pub const SOCK_DGRAM: u32 = 2;
/// Raw packets.
pub const SOCK_RAW: u32 = 3;
/// Sequenced packets.
pub const SOCK_SEQPACKET: u32 = 5;
/// The type bits of `socket`'s second argument (the rest are flags).
pub const SOCK_TYPE_MASK: u32 = 0xf;
/// `socket`/`accept4` flag: the new descriptor is non-blocking.
pub const SOCK_NONBLOCK: u32 = 0o4000;
/// `socket`/`accept4` flag: close the new descriptor on exec.
pub const SOCK_CLOEXEC: u32 = 0o2_000_000;

/// The default protocol of a family and type.
pub const IPPROTO_IP: u32 = 0;
/// ICMP.
pub const IPPROTO_ICMP: u32 = 1;
/// TCP.
pub const IPPROTO_TCP: u32 = 6;
/// UDP.
pub const IPPROTO_UDP: u32 = 17;

/// `sizeof(struct sockaddr_in)`: family (u16), port (big-endian u16), address (4 bytes), zero
/// padding (8 bytes).
pub const SOCKADDR_IN_LEN: usize = 16;
/// `sizeof(struct sockaddr_un)`: family (u16) and a path of up to 108 bytes.
pub const SOCKADDR_UN_LEN: usize = 110;
/// `sizeof(struct sockaddr_storage)` (`_K_SS_MAXSIZE`): the longest address a call accepts.
pub const SOCKADDR_STORAGE_LEN: usize = 128;
/// The longest `sun_path`, with its NUL.
pub const UNIX_PATH_MAX: usize = 108;
/// `INADDR_ANY`, 0.0.0.0.
pub const INADDR_ANY: [u8; 4] = [0, 0, 0, 0];

/// `setsockopt` level of the generic socket options.
pub const SOL_SOCKET: u32 = 1;
/// Allow binding a port that lingering connections still use.
pub const SO_REUSEADDR: u32 = 2;
/// The socket's type (read-only).
pub const SO_TYPE: u32 = 3;
/// The pending error, cleared by reading it (read-only).
pub const SO_ERROR: u32 = 4;
/// Do not route (accepted, no effect).
pub const SO_DONTROUTE: u32 = 5;
/// Permit broadcast datagrams.
pub const SO_BROADCAST: u32 = 6;
/// Send buffer size.
pub const SO_SNDBUF: u32 = 7;
/// Receive buffer size.
pub const SO_RCVBUF: u32 = 8;
/// TCP keep-alive probes.
pub const SO_KEEPALIVE: u32 = 9;
/// Out-of-band data inline (accepted, no effect).
pub const SO_OOBINLINE: u32 = 10;
/// Linger on close (`struct linger`).
pub const SO_LINGER: u32 = 13;
/// Allow binding a port another socket has bound too.
pub const SO_REUSEPORT: u32 = 15;
/// Credentials of the peer of a Unix socket (`struct ucred`).
pub const SO_PEERCRED: u32 = 17;
/// Minimum bytes for readiness (accepted, always 1).
pub const SO_RCVLOWAT: u32 = 18;
/// Receive timeout (`struct timeval`).
pub const SO_RCVTIMEO: u32 = 20;
/// Send timeout (`struct timeval`).
pub const SO_SNDTIMEO: u32 = 21;
/// Whether the socket listens (read-only).
pub const SO_ACCEPTCONN: u32 = 30;
/// The socket's protocol (read-only).
pub const SO_PROTOCOL: u32 = 38;
/// The socket's family (read-only).
pub const SO_DOMAIN: u32 = 39;

/// `setsockopt` level of TCP options (= `IPPROTO_TCP`).
pub const SOL_TCP: u32 = 6;
/// Send small segments at once (no Nagle).
pub const TCP_NODELAY: u32 = 1;
/// Largest segment size.
pub const TCP_MAXSEG: u32 = 2;
/// Idle time before keep-alive probes (seconds).
pub const TCP_KEEPIDLE: u32 = 4;
/// Interval between keep-alive probes (seconds).
pub const TCP_KEEPINTVL: u32 = 5;
/// Probes before the connection is dropped.
pub const TCP_KEEPCNT: u32 = 6;

/// `setsockopt` level of IPv4 options.
pub const SOL_IP: u32 = 0;
/// Time to live of outgoing packets.
pub const IP_TTL: u32 = 2;

/// The largest `listen` backlog (`SOMAXCONN`, the default of `net.core.somaxconn`); larger
/// ones are cut to it.
pub const SOMAXCONN: u32 = 4096;

/// `shutdown`: no more receptions.
pub const SHUT_RD: u32 = 0;
/// `shutdown`: no more transmissions.
pub const SHUT_WR: u32 = 1;
/// `shutdown`: neither.
pub const SHUT_RDWR: u32 = 2;

/// `recv`: look at the data without consuming it.
pub const MSG_PEEK: u32 = 2;
/// `recv`: return the real length of a truncated datagram.
pub const MSG_TRUNC: u32 = 0x20;
/// `send`/`recv`: this call does not block.
pub const MSG_DONTWAIT: u32 = 0x40;
/// `recv`: wait for the full amount.
pub const MSG_WAITALL: u32 = 0x100;
/// `send`: no `SIGPIPE` on a broken connection (`EPIPE` only).
pub const MSG_NOSIGNAL: u32 = 0x4000;
/// `send`: more data follows (accepted, no effect).
pub const MSG_MORE: u32 = 0x8000;

/// `sizeof(struct msghdr)` on x86_64.
pub const MSGHDR_LEN: usize = 56;
