//! The socket system calls of a kernel without sockets (`[subsystems] sockets = false`):
//! ENOSYS, as Linux built without `CONFIG_NET` answers.

use super::Args;

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
