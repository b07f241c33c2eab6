//! The socket system calls of a kernel without sockets (`[subsystems] sockets = false`):
//! ENOSYS, as Linux built without `CONFIG_NET` answers.

use tessera_abi::{Errno, KResult};

use super::Args;

/// Defines each socket call as ENOSYS.
macro_rules! enosys {
    ($($name:ident),* $(,)?) => {
        $(
            pub fn $name(_a: &Args) -> KResult<isize> {
                Err(Errno::ENOSYS)
            }
        )*
    };
}

enosys!(
    socket_call,
    socketpair,
    bind,
    listen,
    accept,
    accept4,
    connect,
    sendto,
    recvfrom,
    sendmsg,
    recvmsg,
    shutdown,
    getsockname,
    getpeername,
    setsockopt,
    getsockopt,
);
