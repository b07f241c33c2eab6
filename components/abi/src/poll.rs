//! `poll` event bits (`asm-generic/poll.h`).
//!
//! One type for every pollable object: pipes, sockets, terminals and files report their
//! readiness as [`PollEvents`], and `poll`/`select` combine them. The values are Linux's, so
//! `bits()` goes to user space unchanged (`struct pollfd`'s `short events, revents`); epoll's
//! `EPOLL*` bits have the same values.

bitflags::bitflags! {
    /// A set of `POLL*` bits, as `events` asks for them and `revents` reports them.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct PollEvents: u16 {
        /// `POLLIN`: data (or a connection) to read.
        const IN = 0x001;
        /// `POLLPRI`: urgent data to read.
        const PRI = 0x002;
        /// `POLLOUT`: writing will not block.
        const OUT = 0x004;
        /// `POLLERR`: error condition (a pipe's write end with no reader, `SO_ERROR` pending).
        const ERR = 0x008;
        /// `POLLHUP`: hung up (a pipe's read end with no writer, a socket closed both ways).
        const HUP = 0x010;
        /// `POLLNVAL`: the descriptor is not open.
        const NVAL = 0x020;
        /// `POLLRDNORM`: normal data to read (reported with `IN`).
        const RDNORM = 0x040;
        /// `POLLRDBAND`: priority-band data to read.
        const RDBAND = 0x080;
        /// `POLLWRNORM`: normal data can be written (reported with `OUT`; x86's value).
        const WRNORM = 0x100;
        /// `POLLWRBAND`: priority-band data can be written (x86's value).
        const WRBAND = 0x200;
        /// `POLLRDHUP`: the peer closed its writing half (sockets).
        const RDHUP = 0x2000;
    }
}

#[cfg(test)]
mod tests {
    use super::PollEvents;

    #[test]
    fn values_are_linux_s() {
        // asm-generic/poll.h, as x86_64 uses it.
        assert_eq!(PollEvents::IN.bits(), 1);
        assert_eq!(PollEvents::HUP.bits(), 0x10);
        assert_eq!(PollEvents::NVAL.bits(), 0x20);
        assert_eq!(PollEvents::WRNORM.bits(), 0x100);
        assert_eq!(PollEvents::RDHUP.bits(), 0x2000);
    }
}
