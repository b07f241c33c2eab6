//! Unix domain sockets: connected pairs (stream or datagram) and a namespace of listening
//! names, as non-blocking state machines the kernel wraps in socket files.
//!
//! A connection is two one-way buffers shared by its two [`UnixStream`] ends. Dropping an
//! end closes it: the other end reads what is left and then end of file, and its writes
//! fail with `EPIPE`. Names live in a [`UnixNamespace`] (path and abstract names alike):
//! `bind` claims a name until [`UnixNamespace::unbind`] (the kernel calls it when the bound
//! socket closes), `listen` makes connections to it queue on a [`UnixListener`].

use alloc::collections::{BTreeMap, VecDeque};
use alloc::format;
use alloc::sync::{Arc, Weak};

use spin::Mutex;
use tessera_abi::{Errno, KResult};

use crate::PollEvents;
use crate::addr::UnixAddr;

/// Bytes buffered in each direction of a connection.
pub const UNIX_BUFFER: usize = 64 * 1024;
/// Most connections queued on a listener.
pub const UNIX_MAX_BACKLOG: usize = 128;

/// The two kinds of Unix sockets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnixKind {
    /// `SOCK_STREAM`: a byte stream.
    Stream,
    /// `SOCK_DGRAM`: messages kept whole.
    Datagram,
}

#[derive(Default)]
struct Direction {
    /// Stream bytes, or for datagrams the lengths in `messages` and their bytes here.
    bytes: VecDeque<u8>,
    messages: VecDeque<usize>,
    /// No more data will be written (the writer closed or shut down writing).
    writer_closed: bool,
    /// Nobody will read (the reader closed or shut down reading).
    reader_closed: bool,
}

struct Conn {
    kind: UnixKind,
    /// `dirs[s]` carries what side `s` writes.
    dirs: [Direction; 2],
}

/// One end of a connected Unix socket.
pub struct UnixStream {
    conn: Arc<Mutex<Conn>>,
    side: usize,
}

impl UnixStream {
    /// A connected pair (socketpair).
    pub fn pair(kind: UnixKind) -> (UnixStream, UnixStream) {
        let conn = Arc::new(Mutex::new(Conn {
            kind,
            dirs: Default::default(),
        }));
        (
            UnixStream {
                conn: conn.clone(),
                side: 0,
            },
            UnixStream { conn, side: 1 },
        )
    }

    /// Writes what fits (a datagram: all of it or nothing). EPIPE when the other end is
    /// closed or this one shut down writing (the kernel adds SIGPIPE), EAGAIN when full,
    /// EMSGSIZE for a datagram larger than the buffer.
    pub fn send(&self, data: &[u8]) -> KResult<usize> {
        let mut conn = self.conn.lock();
        let kind = conn.kind;
        let dir = &mut conn.dirs[self.side];
        if dir.writer_closed || dir.reader_closed {
            return Err(Errno::EPIPE);
        }
        let room = UNIX_BUFFER - dir.bytes.len();
        match kind {
            UnixKind::Stream => {
                if data.is_empty() {
                    return Ok(0);
                }
                if room == 0 {
                    return Err(Errno::EAGAIN);
                }
                let n = room.min(data.len());
                dir.bytes.extend(&data[..n]);
                Ok(n)
            }
            UnixKind::Datagram => {
                if data.len() > UNIX_BUFFER {
                    return Err(Errno::EMSGSIZE);
                }
                if data.len() > room {
                    return Err(Errno::EAGAIN);
                }
                dir.bytes.extend(data);
                dir.messages.push_back(data.len());
                Ok(data.len())
            }
        }
    }

    /// Reads into `buf`: (bytes copied, full length: a datagram's real size). 0 bytes at end
    /// of file (the other end closed or shut down writing, or this one reading); EAGAIN when
    /// nothing is buffered yet. `peek` leaves the data in place.
    pub fn recv(&self, buf: &mut [u8], peek: bool) -> KResult<(usize, usize)> {
        let mut conn = self.conn.lock();
        let kind = conn.kind;
        let dir = &mut conn.dirs[1 - self.side];
        let available = match kind {
            UnixKind::Stream => dir.bytes.len(),
            UnixKind::Datagram => dir.messages.front().copied().unwrap_or(0),
        };
        let empty = match kind {
            UnixKind::Stream => dir.bytes.is_empty(),
            UnixKind::Datagram => dir.messages.is_empty(),
        };
        if empty {
            return if dir.writer_closed || dir.reader_closed {
                Ok((0, 0))
            } else {
                Err(Errno::EAGAIN)
            };
        }
        let n = available.min(buf.len());
        let (front, back) = dir.bytes.as_slices();
        let k = front.len().min(n);
        buf[..k].copy_from_slice(&front[..k]);
        buf[k..n].copy_from_slice(&back[..n - k]);
        if !peek {
            match kind {
                UnixKind::Stream => {
                    dir.bytes.drain(..n);
                }
                UnixKind::Datagram => {
                    dir.bytes.drain(..available);
                    dir.messages.pop_front();
                }
            }
        }
        Ok((n, available))
    }

    /// shutdown(2) of this end.
    pub fn shutdown(&self, read: bool, write: bool) {
        let mut conn = self.conn.lock();
        if write {
            conn.dirs[self.side].writer_closed = true;
        }
        if read {
            conn.dirs[1 - self.side].reader_closed = true;
        }
    }

    /// Bytes (stream) or the next datagram's size waiting to be read (`FIONREAD`).
    pub fn pending(&self) -> usize {
        let conn = self.conn.lock();
        let dir = &conn.dirs[1 - self.side];
        match conn.kind {
            UnixKind::Stream => dir.bytes.len(),
            UnixKind::Datagram => dir.messages.front().copied().unwrap_or(0),
        }
    }

    /// Readiness, as Linux's `unix_poll` reports it.
    pub fn poll(&self) -> PollEvents {
        let conn = self.conn.lock();
        let (input, output) = (&conn.dirs[1 - self.side], &conn.dirs[self.side]);
        let mut events = PollEvents::empty();
        let read_shut = input.writer_closed || input.reader_closed;
        let write_shut = output.writer_closed || output.reader_closed;
        if !input.bytes.is_empty() || !input.messages.is_empty() || read_shut {
            events |= PollEvents::IN | PollEvents::RDNORM;
        }
        if read_shut {
            events |= PollEvents::RDHUP;
        }
        if read_shut && write_shut {
            events |= PollEvents::HUP;
        }
        if write_shut || output.bytes.len() < UNIX_BUFFER {
            events |= PollEvents::OUT | PollEvents::WRNORM;
        }
        events
    }
}

impl Drop for UnixStream {
    fn drop(&mut self) {
        let mut conn = self.conn.lock();
        conn.dirs[self.side].writer_closed = true;
        conn.dirs[1 - self.side].reader_closed = true;
    }
}

struct Backlog {
    queue: VecDeque<UnixStream>,
    max: usize,
    kind: UnixKind,
}

/// A listening Unix socket: connections queue here until accepted.
pub struct UnixListener {
    backlog: Arc<Mutex<Backlog>>,
}

impl UnixListener {
    /// The next queued connection (EAGAIN if none).
    pub fn accept(&self) -> KResult<UnixStream> {
        self.backlog.lock().queue.pop_front().ok_or(Errno::EAGAIN)
    }

    /// IN when a connection waits.
    pub fn poll(&self) -> PollEvents {
        if self.backlog.lock().queue.is_empty() {
            PollEvents::empty()
        } else {
            PollEvents::IN | PollEvents::RDNORM
        }
    }

    /// Changes the backlog (listen called again).
    pub fn set_backlog(&self, backlog: u32) {
        self.backlog.lock().max = (backlog as usize).clamp(1, UNIX_MAX_BACKLOG);
    }
}

enum Binding {
    Bound,
    Listening(Weak<Mutex<Backlog>>),
}

/// The names of Unix sockets.
#[derive(Default)]
pub struct UnixNamespace {
    names: BTreeMap<UnixAddr, Binding>,
    next_auto: u32,
}

impl UnixNamespace {
    /// An empty namespace.
    pub const fn new() -> Self {
        UnixNamespace {
            names: BTreeMap::new(),
            next_auto: 0,
        }
    }

    /// Claims `addr` (an unnamed address autobinds to a fresh abstract name, returned).
    /// EADDRINUSE if taken.
    pub fn bind(&mut self, addr: UnixAddr) -> KResult<UnixAddr> {
        let addr = match addr {
            UnixAddr::Unnamed => loop {
                self.next_auto = (self.next_auto + 1) & 0xf_ffff;
                let name = UnixAddr::Abstract(format!("{:05x}", self.next_auto).into_bytes());
                if !self.names.contains_key(&name) {
                    break name;
                }
            },
            named => named,
        };
        if self.names.contains_key(&addr) {
            return Err(Errno::EADDRINUSE);
        }
        self.names.insert(addr.clone(), Binding::Bound);
        Ok(addr)
    }

    /// Frees a name (its socket closed).
    pub fn unbind(&mut self, addr: &UnixAddr) {
        self.names.remove(addr);
    }

    /// Makes the bound name `addr` accept connections of `kind`.
    pub fn listen(&mut self, addr: &UnixAddr, kind: UnixKind, backlog: u32) -> UnixListener {
        let backlog = Arc::new(Mutex::new(Backlog {
            queue: VecDeque::new(),
            max: (backlog as usize).clamp(1, UNIX_MAX_BACKLOG),
            kind,
        }));
        self.names
            .insert(addr.clone(), Binding::Listening(Arc::downgrade(&backlog)));
        UnixListener { backlog }
    }

    /// Connects to the listener named `addr`: the client's end (the server's is queued).
    /// ENOENT for an unknown path, ECONNREFUSED if nobody listens, EPROTOTYPE for a
    /// listener of the other kind, EAGAIN when its backlog is full.
    pub fn connect(&mut self, addr: &UnixAddr, kind: UnixKind) -> KResult<UnixStream> {
        let backlog = match self.names.get(addr) {
            None if matches!(addr, UnixAddr::Path(_)) => return Err(Errno::ENOENT),
            None | Some(Binding::Bound) => return Err(Errno::ECONNREFUSED),
            Some(Binding::Listening(weak)) => weak.upgrade().ok_or(Errno::ECONNREFUSED)?,
        };
        let mut backlog = backlog.lock();
        if backlog.kind != kind {
            return Err(Errno::EPROTOTYPE);
        }
        if backlog.queue.len() >= backlog.max {
            return Err(Errno::EAGAIN);
        }
        let (client, server) = UnixStream::pair(kind);
        backlog.queue.push_back(server);
        Ok(client)
    }
}
