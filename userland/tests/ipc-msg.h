/*
 * ipc-msg.h, part of ipc.c: System V message queues, raw system calls. msgget (keys, IPC_CREAT, IPC_EXCL),
 * msgrcv's type rules (0, > 0, < 0, MSG_EXCEPT, MSG_COPY), E2BIG and MSG_NOERROR, the byte
 * limit (msg_qbytes: EAGAIN with IPC_NOWAIT, a blocked sender let go by a receive), a
 * blocked receiver woken by a send (the message handed over, never queued), EIDRM for a
 * waiter when the queue goes, EINTR with SA_RESTART, msgctl's commands and errnos.
 */
#ifndef TESSERA_IPC_MSG_H
#define TESSERA_IPC_MSG_H

#define MSG_KEY 0x7e550003
#define K_MSG_COPY 040000
#define K_MSG_EXCEPT 020000

struct message {
    long mtype;
    char mtext[64];
};

static long msgget_(int key, int flags)
{
    return syscall(SYS_msgget, key, flags);
}

static long snd(int id, long type, const char *text, int flags)
{
    struct message m = {type, ""};
    strcpy(m.mtext, text);
    return syscall(SYS_msgsnd, id, &m, strlen(text), flags);
}

static struct message got;

/* Receives into `got` (its text NUL-terminated); the call's result. */
static long rcv(int id, size_t size, long type, int flags)
{
    memset(&got, 0, sizeof got);
    return syscall(SYS_msgrcv, id, &got, size, type, flags);
}

static long msgctl_(int id, int cmd, void *buf)
{
    return syscall(SYS_msgctl, id, cmd, buf);
}

static struct k_msqid64_ds msg_stat(int id)
{
    struct k_msqid64_ds ds;
    memset(&ds, 0xff, sizeof ds);
    msgctl_(id, IPC_STAT, &ds);
    return ds;
}

static void msg_keys(void)
{
    long old = msgget_(MSG_KEY, 0);
    if (old >= 0)
        msgctl_(old, IPC_RMID, NULL);
    CHECK_ERR("msgget of an unknown key: ENOENT", msgget_(MSG_KEY, 0), ENOENT);
    long id = msgget_(MSG_KEY, IPC_CREAT | 0640);
    CHECK("msgget IPC_CREAT", id >= 0);
    CHECK("msgget finds the key", msgget_(MSG_KEY, 0) == id);
    CHECK_ERR("IPC_CREAT|IPC_EXCL: EEXIST", msgget_(MSG_KEY, IPC_CREAT | IPC_EXCL), EEXIST);
    struct k_msqid64_ds ds = msg_stat(id);
    CHECK_EQ("IPC_STAT mode", ds.perm.mode, 0640);
    CHECK_EQ("IPC_STAT msg_qbytes is MSGMNB", ds.qbytes, 16384);
    CHECK_EQ("IPC_STAT msg_qnum", ds.qnum, 0);
    CHECK("IPC_STAT msg_ctime set", ds.ctime != 0);
    CHECK_ERR("IPC_STAT to a bad address: EFAULT", msgctl_(id, IPC_STAT, (void *)8), EFAULT);
    CHECK_ERR("IPC_STAT | IPC_64: EINVAL", msgctl_(id, IPC_STAT | K_IPC_64, &ds), EINVAL);
    CHECK_ERR("an unknown command: EINVAL", msgctl_(id, 99, &ds), EINVAL);
    CHECK_ERR("msgctl of id -1: EINVAL", msgctl_(-1, IPC_STAT, &ds), EINVAL);
    struct msginfo info;
    CHECK("IPC_INFO returns the highest index", msgctl_(0, K_IPC_INFO, &info) >= 0);
    CHECK_EQ("msginfo msgmax", info.msgmax, 8192);
    CHECK_EQ("msginfo msgmnb", info.msgmnb, 16384);
    CHECK_OK("IPC_RMID", msgctl_(id, IPC_RMID, NULL));
    CHECK_ERR("a removed queue: EINVAL", msgctl_(id, IPC_STAT, &ds), EINVAL);
    CHECK_ERR("msgsnd to it: EINVAL", snd(id, 1, "x", 0), EINVAL);
}

static void msg_types(void)
{
    long id = msgget_(IPC_PRIVATE, 0600);
    REQUIRE("msgget", id >= 0);
    CHECK_OK("msgsnd type 3", snd(id, 3, "three", 0));
    CHECK_OK("msgsnd type 1", snd(id, 1, "one", 0));
    CHECK_OK("msgsnd type 2", snd(id, 2, "two", 0));
    CHECK_OK("msgsnd type 1 again", snd(id, 1, "one again", 0));
    CHECK_OK("msgsnd type 5", snd(id, 5, "five", 0));
    struct k_msqid64_ds ds = msg_stat(id);
    CHECK_EQ("msg_qnum 5", ds.qnum, 5);
    CHECK_EQ("msg_cbytes counts the texts", ds.cbytes, 5 + 3 + 3 + 9 + 4);
    CHECK("msg_lspid is the sender", ds.lspid == getpid());
    CHECK_EQ("msgrcv of type 2 returns its length", rcv(id, 64, 2, 0), 3);
    CHECK_STR("msgrcv of type 2: the first of type 2", got.mtext, "two");
    CHECK_EQ("and stores the type", got.mtype, 2);
    CHECK_OK("MSG_COPY of position 1", rcv(id, 64, 1, K_MSG_COPY | IPC_NOWAIT));
    CHECK_STR("is the second message", got.mtext, "one");
    CHECK_EQ("and leaves it queued", msg_stat(id).qnum, 4);
    CHECK_ERR("MSG_COPY past the end: ENOMSG", rcv(id, 64, 9, K_MSG_COPY | IPC_NOWAIT), ENOMSG);
    CHECK_ERR("MSG_COPY without IPC_NOWAIT: EINVAL", rcv(id, 64, 0, K_MSG_COPY), EINVAL);
    CHECK_ERR("MSG_COPY with MSG_EXCEPT: EINVAL",
              rcv(id, 64, 0, K_MSG_COPY | K_MSG_EXCEPT | IPC_NOWAIT), EINVAL);
    CHECK_OK("MSG_EXCEPT 3", rcv(id, 64, 3, K_MSG_EXCEPT));
    CHECK_STR("takes the first of another type", got.mtext, "one");
    CHECK_OK("type -4", rcv(id, 64, -4, 0));
    CHECK_STR("takes the lowest type up to 4", got.mtext, "one again");
    CHECK_OK("type -4 again", rcv(id, 64, -4, 0));
    CHECK_STR("then the next lowest", got.mtext, "three");
    CHECK_ERR("type -4 with nothing left, IPC_NOWAIT: ENOMSG", rcv(id, 64, -4, IPC_NOWAIT), ENOMSG);
    CHECK_ERR("type 7, IPC_NOWAIT: ENOMSG", rcv(id, 64, 7, IPC_NOWAIT), ENOMSG);
    CHECK_ERR("a buffer too small: E2BIG", rcv(id, 2, 0, 0), E2BIG);
    CHECK_EQ("the message stays queued", msg_stat(id).qnum, 1);
    CHECK_EQ("MSG_NOERROR cuts it", rcv(id, 2, 0, MSG_NOERROR), 2);
    CHECK_STR("to the buffer's size", got.mtext, "fi");
    ds = msg_stat(id);
    CHECK("and takes it", ds.qnum == 0 && ds.cbytes == 0);
    CHECK("msg_lrpid is the receiver", ds.lrpid == getpid());
    CHECK("msg_rtime set", ds.rtime != 0);

    CHECK_ERR("mtype 0: EINVAL", snd(id, 0, "x", 0), EINVAL);
    CHECK_ERR("a size past MSGMAX: EINVAL", syscall(SYS_msgsnd, id, &got, 8193, 0), EINVAL);
    CHECK_ERR("a negative size: EINVAL", syscall(SYS_msgsnd, id, &got, (size_t)-1, 0), EINVAL);
    CHECK_ERR("msgsnd from a bad address: EFAULT", syscall(SYS_msgsnd, id, 8, 1, 0), EFAULT);
    CHECK_ERR("msgrcv of a negative size: EINVAL", rcv(id, (size_t)-1, 0, 0), EINVAL);
    CHECK_OK("an empty message", snd(id, 4, "", 0));
    CHECK_EQ("is received with length 0", rcv(id, 0, 0, 0), 0);
    CHECK_OK("a message to a bad buffer", snd(id, 4, "lost", 0));
    CHECK_ERR("msgrcv to a bad address: EFAULT", syscall(SYS_msgrcv, id, 8, 64, 0, 0), EFAULT);
    CHECK_EQ("loses the message", msg_stat(id).qnum, 0);

    ds.qbytes = 100;
    CHECK_OK("IPC_SET msg_qbytes 100", msgctl_(id, IPC_SET, &ds));
    char text[61];
    memset(text, 'x', 60);
    text[60] = 0;
    CHECK_OK("60 bytes fit", snd(id, 1, text, 0));
    CHECK_ERR("60 more do not, IPC_NOWAIT: EAGAIN", snd(id, 1, text, IPC_NOWAIT), EAGAIN);
    ds = msg_stat(id);
    CHECK("msg_qbytes 100, msg_cbytes 60", ds.qbytes == 100 && ds.cbytes == 60);
    pid_t pid = fork();
    if (pid == 0)
        _exit(snd(id, 2, text, 0) == 0 ? 0 : 1);
    sleep_ms(100);
    CHECK_EQ("a blocked sender", msg_stat(id).qnum, 1);
    CHECK_EQ("is let go by a receive", rcv(id, 64, 1, 0), 60);
    CHECK_EQ("its msgsnd returned 0", reap(pid), 0);
    CHECK_EQ("its message is queued", rcv(id, 64, 2, IPC_NOWAIT), 60);
    msgctl_(id, IPC_RMID, NULL);
}

static void msg_waiting(void)
{
    long id = msgget_(IPC_PRIVATE, 0600);
    REQUIRE("msgget", id >= 0);
    pid_t pid = fork();
    if (pid == 0) {
        long n = rcv(id, 64, 7, 0);
        _exit(n == 5 && strcmp(got.mtext, "seven") == 0 ? 0 : 1);
    }
    sleep_ms(100);
    CHECK_OK("a message of another type", snd(id, 6, "six", 0));
    CHECK_OK("the type the receiver waits for", snd(id, 7, "seven", 0));
    CHECK_EQ("goes straight to it: only the other is queued", msg_stat(id).qnum, 1);
    CHECK_EQ("the blocked msgrcv got it", reap(pid), 0);

    pid = fork();
    if (pid == 0) {
        errno = 0;
        long n = rcv(id, 2, 8, 0);
        _exit(n == -1 && errno == E2BIG ? 0 : 1);
    }
    sleep_ms(100);
    CHECK_OK("a message too long for the waiting receiver", snd(id, 8, "eight", 0));
    CHECK_EQ("its msgrcv returns E2BIG", reap(pid), 0);
    CHECK_EQ("and the message is queued", msg_stat(id).qnum, 2);

    pid = fork();
    if (pid == 0) {
        errno = 0;
        long n = rcv(id, 64, 9, 0);
        _exit(n == -1 && errno == EIDRM ? 0 : 1);
    }
    sleep_ms(100);
    CHECK_OK("IPC_RMID with a receiver waiting", msgctl_(id, IPC_RMID, NULL));
    CHECK_EQ("the receiver got EIDRM", reap(pid), 0);

    id = msgget_(IPC_PRIVATE, 0600);
    alarm_in_ms(50);
    CHECK_ERR("a signal interrupts msgrcv, SA_RESTART or not: EINTR", rcv(id, 64, 0, 0), EINTR);
    CHECK_EQ("the handler ran", alarms, 1);
    msgctl_(id, IPC_RMID, NULL);
}

static void msg_tests(void)
{
    msg_keys();
    msg_types();
    msg_waiting();
}

#endif
