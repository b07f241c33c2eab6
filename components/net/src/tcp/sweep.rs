//! After every poll: smoltcp's state changes as Linux's (handshakes done or refused,
//! resets), listeners refilled, closed connections finished in the background and reaped.

use alloc::vec::Vec;
use core::net::SocketAddrV4;

use smoltcp::socket::tcp::{self, State};
use tessera_abi::Errno;

use super::{CONNECT_TIMEOUT_MS, TcpEntry, TcpState, listen_endpoint, synchronized, v4};
use crate::device::Device;
use crate::stack::{Entry, NetStack, ORPHAN_LINGER_MS, Orphan};

impl<D: Device> NetStack<D> {
    /// The socket is gone from the table: finish or reset its connections in the background.
    pub(crate) fn tcp_close(&mut self, entry: TcpEntry) {
        let deadline_ms = self.now_ms + ORPHAN_LINGER_MS;
        match entry.state {
            TcpState::Listening { pool } => {
                for handle in pool {
                    let socket = self.sockets.get_mut::<tcp::Socket>(handle);
                    if socket.state() == State::Listen {
                        self.sockets.remove(handle);
                    } else {
                        // A handshake done or under way: reset it, as Linux does.
                        socket.abort();
                        self.orphans.push(Orphan {
                            handle,
                            deadline_ms,
                        });
                    }
                }
            }
            TcpState::Connecting { handle, .. } | TcpState::Connected { handle, .. } => {
                let socket = self.sockets.get_mut::<tcp::Socket>(handle);
                if socket.recv_queue() > 0 {
                    // Unread data: Linux resets the connection instead of closing it.
                    socket.abort();
                } else {
                    socket.close();
                }
                self.orphans.push(Orphan {
                    handle,
                    deadline_ms,
                });
            }
            TcpState::Idle | TcpState::Failed(_) => {}
        }
    }

    /// After a poll: handshakes done or failed, resets, listeners refilled, orphans reaped.
    /// Returns whether any socket changed in a way a waiter may care about.
    pub(crate) fn tcp_sweep(&mut self) -> bool {
        let now = self.now_ms;
        let mut changed = false;
        let mut relisten = Vec::new();
        let mut dead = Vec::new();
        for entry in self.table.values_mut() {
            let Entry::Tcp(entry) = entry else { continue };
            match &mut entry.state {
                TcpState::Connecting { handle, since_ms } => {
                    let socket = self.sockets.get_mut::<tcp::Socket>(*handle);
                    let state = socket.state();
                    if synchronized(state) {
                        socket.set_timeout(None);
                        let remote = socket.remote_endpoint().expect("a connection has a peer");
                        entry.state = TcpState::Connected {
                            handle: *handle,
                            peer: SocketAddrV4::new(v4(remote.addr), remote.port),
                            last: state,
                            reset: false,
                        };
                        changed = true;
                    } else if state == State::Closed {
                        let e = if now.saturating_sub(*since_ms) >= CONNECT_TIMEOUT_MS {
                            Errno::ETIMEDOUT
                        } else {
                            Errno::ECONNREFUSED
                        };
                        dead.push(*handle);
                        entry.state = TcpState::Failed(e);
                        entry.error = Some(e);
                        changed = true;
                    }
                }
                TcpState::Connected {
                    handle,
                    last,
                    reset,
                    ..
                } => {
                    let state = self.sockets.get::<tcp::Socket>(*handle).state();
                    if state == State::Closed
                        && !*reset
                        && !matches!(*last, State::LastAck | State::TimeWait | State::Closed)
                    {
                        *reset = true;
                        entry.error = Some(Errno::ECONNRESET);
                    }
                    changed |= state != *last;
                    *last = state;
                }
                TcpState::Listening { pool } => {
                    for handle in pool.iter() {
                        if self.sockets.get::<tcp::Socket>(*handle).state() == State::Closed {
                            relisten.push((*handle, entry.local));
                        }
                    }
                }
                TcpState::Idle | TcpState::Failed(_) => {}
            }
        }
        for handle in dead {
            self.sockets.remove(handle);
        }
        for (handle, local) in relisten {
            if let Some(local) = local {
                // A handshake reset before accept: listen again in its place.
                let _ = self
                    .sockets
                    .get_mut::<tcp::Socket>(handle)
                    .listen(listen_endpoint(local));
            }
        }
        let sockets = &mut self.sockets;
        self.orphans.retain(|orphan| {
            let socket = sockets.get_mut::<tcp::Socket>(orphan.handle);
            match socket.state() {
                State::Closed | State::TimeWait => {
                    sockets.remove(orphan.handle);
                    false
                }
                _ if now >= orphan.deadline_ms => {
                    // Aborted now; removed (its RST sent) after the next poll.
                    socket.abort();
                    true
                }
                _ => true,
            }
        });
        changed
    }
}
