/*
 * ipc-sem.h, part of ipc.c: System V semaphores, raw system calls. semget (keys, IPC_CREAT, IPC_EXCL, sizes),
 * semctl (GETVAL/SETVAL/GETALL/SETALL/GETPID/GETNCNT/GETZCNT/IPC_STAT/IPC_SET/IPC_RMID/
 * IPC_INFO and their errnos), semop's all-or-nothing rule and its errnos, a token passed
 * between two processes, a blocked semop completed by the waker (the value is taken before
 * the waker returns), wait-for-zero, SEM_UNDO at exit (clamped at 0), semtimedop's timeout,
 * EINTR with SA_RESTART, EIDRM for a waiter when the set goes.
 */
#ifndef TESSERA_IPC_SEM_H
#define TESSERA_IPC_SEM_H

#define SEM_KEY 0x7e550001

union semun_k {
    int val;
    void *buf;
    unsigned short *array;
};

static long semget_(int key, int nsems, int flags)
{
    return syscall(SYS_semget, key, nsems, flags);
}

static long semctl_(int id, int num, int cmd, unsigned long arg)
{
    return syscall(SYS_semctl, id, num, cmd, arg);
}

static long semop_(int id, struct sembuf *ops, unsigned n)
{
    return syscall(SYS_semop, id, ops, n);
}

static long op1(int id, unsigned short num, short op, short flags)
{
    struct sembuf b = {num, op, flags};
    return semop_(id, &b, 1);
}

/* Waits (a few seconds at most) until `count` tasks wait on semaphore `num` (GETNCNT, or
 * GETZCNT with `zero`). */
static int wait_waiters(int id, int num, int zero, int count)
{
    for (int i = 0; i < 500; i++) {
        if (semctl_(id, num, zero ? GETZCNT : GETNCNT, 0) == count)
            return 1;
        sleep_ms(10);
    }
    return 0;
}

static void sem_keys(void)
{
    long old = semget_(SEM_KEY, 0, 0);
    if (old >= 0)
        semctl_(old, 0, IPC_RMID, 0);
    CHECK_ERR("semget of an unknown key: ENOENT", semget_(SEM_KEY, 1, 0), ENOENT);
    CHECK_ERR("semget of 0 semaphores: EINVAL", semget_(IPC_PRIVATE, 0, 0600), EINVAL);
    CHECK_ERR("semget of -1 semaphores: EINVAL", semget_(IPC_PRIVATE, -1, 0600), EINVAL);
    CHECK_ERR("semget past SEMMSL: EINVAL", semget_(IPC_PRIVATE, 32001, 0600), EINVAL);
    long id = semget_(SEM_KEY, 3, IPC_CREAT | 0640);
    CHECK("semget IPC_CREAT", id >= 0);
    CHECK("semget finds the key", semget_(SEM_KEY, 0, 0) == id);
    CHECK("semget with fewer semaphores finds it", semget_(SEM_KEY, 2, 0) == id);
    CHECK_ERR("semget with more semaphores: EINVAL", semget_(SEM_KEY, 4, 0), EINVAL);
    CHECK_ERR("semget IPC_CREAT|IPC_EXCL: EEXIST", semget_(SEM_KEY, 3, IPC_CREAT | IPC_EXCL), EEXIST);
    long other = semget_(IPC_PRIVATE, 3, IPC_CREAT | IPC_EXCL | 0600);
    CHECK("IPC_PRIVATE makes a new set", other >= 0 && other != id);
    struct k_semid64_ds ds;
    CHECK_OK("IPC_STAT", semctl_(id, 0, IPC_STAT, (unsigned long)&ds));
    CHECK_EQ("IPC_STAT sem_nsems", ds.nsems, 3);
    CHECK_EQ("IPC_STAT mode", ds.perm.mode, 0640);
    CHECK_EQ("IPC_STAT key", ds.perm.key, SEM_KEY);
    CHECK_EQ("IPC_STAT sem_otime before any semop", ds.otime, 0);
    CHECK("IPC_STAT sem_ctime set", ds.ctime != 0);
    ds.perm.mode = 0600;
    CHECK_OK("IPC_SET", semctl_(id, 0, IPC_SET, (unsigned long)&ds));
    CHECK_OK("IPC_STAT after IPC_SET", semctl_(id, 0, IPC_STAT, (unsigned long)&ds));
    CHECK_EQ("IPC_SET changed the mode", ds.perm.mode, 0600);
    CHECK_ERR("IPC_STAT to a bad address: EFAULT", semctl_(id, 0, IPC_STAT, 8), EFAULT);
    CHECK_ERR("IPC_STAT | IPC_64: EINVAL", semctl_(id, 0, IPC_STAT | K_IPC_64, (unsigned long)&ds),
              EINVAL);
    CHECK_ERR("an unknown command: EINVAL", semctl_(id, 0, 99, 0), EINVAL);
    CHECK_ERR("semctl of id -1: EINVAL", semctl_(-1, 0, GETVAL, 0), EINVAL);
    struct seminfo info;
    CHECK("IPC_INFO returns the highest index", semctl_(0, 0, K_IPC_INFO, (unsigned long)&info) >= 0);
    CHECK_EQ("seminfo semmsl", info.semmsl, 32000);
    CHECK_EQ("seminfo semopm", info.semopm, 500);
    CHECK_EQ("seminfo semvmx", info.semvmx, 32767);
    CHECK_OK("IPC_RMID", semctl_(id, 0, IPC_RMID, 0));
    CHECK_ERR("a removed set: EINVAL", semctl_(id, 0, GETVAL, 0), EINVAL);
    CHECK_ERR("IPC_RMID again: EINVAL", semctl_(id, 0, IPC_RMID, 0), EINVAL);
    CHECK_ERR("its key is gone", semget_(SEM_KEY, 0, 0), ENOENT);
    semctl_(other, 0, IPC_RMID, 0);
}

static void sem_values(void)
{
    long id = semget_(IPC_PRIVATE, 2, 0600);
    REQUIRE("semget", id >= 0);
    CHECK_EQ("a new semaphore is 0", semctl_(id, 0, GETVAL, 0), 0);
    CHECK_OK("SETVAL 5", semctl_(id, 0, SETVAL, 5));
    CHECK_EQ("GETVAL", semctl_(id, 0, GETVAL, 0), 5);
    CHECK("GETPID is the setter", semctl_(id, 0, GETPID, 0) == getpid());
    CHECK_EQ("GETPID of an untouched semaphore", semctl_(id, 1, GETPID, 0), 0);
    CHECK_ERR("SETVAL -1: ERANGE", semctl_(id, 0, SETVAL, -1), ERANGE);
    CHECK_ERR("SETVAL 32768: ERANGE", semctl_(id, 0, SETVAL, 32768), ERANGE);
    CHECK_OK("SETVAL 32767", semctl_(id, 0, SETVAL, 32767));
    CHECK_ERR("SETVAL of semaphore 2 of 2: EINVAL", semctl_(id, 2, SETVAL, 1), EINVAL);
    CHECK_ERR("GETVAL of semaphore -1: EINVAL", semctl_(id, -1, GETVAL, 0), EINVAL);
    unsigned short set[2] = {1, 2}, got[2] = {9, 9};
    CHECK_OK("SETALL", semctl_(id, 0, SETALL, (unsigned long)set));
    CHECK_OK("GETALL", semctl_(id, 0, GETALL, (unsigned long)got));
    CHECK("GETALL gives SETALL's values", got[0] == 1 && got[1] == 2);
    unsigned short big[2] = {1, 40000};
    CHECK_ERR("SETALL past SEMVMX: ERANGE", semctl_(id, 0, SETALL, (unsigned long)big), ERANGE);
    CHECK_ERR("SETALL from a bad address: EFAULT", semctl_(id, 0, SETALL, 8), EFAULT);
    CHECK_ERR("GETALL to a bad address: EFAULT", semctl_(id, 0, GETALL, 8), EFAULT);

    struct sembuf ops[2] = {{0, 1, 0}, {1, -5, IPC_NOWAIT}};
    CHECK_ERR("semop that would block, IPC_NOWAIT: EAGAIN", semop_(id, ops, 2), EAGAIN);
    CHECK("nothing of it was applied", semctl_(id, 0, GETVAL, 0) == 1);
    ops[1].sem_op = -2;
    CHECK_OK("semop of two operations", semop_(id, ops, 2));
    CHECK("both applied", semctl_(id, 0, GETVAL, 0) == 2 && semctl_(id, 1, GETVAL, 0) == 0);
    struct sembuf twice[2] = {{0, -2, 0}, {0, 0, 0}};
    CHECK_OK("operations see the earlier ones' values", semop_(id, twice, 2));
    CHECK_ERR("semop of 0 operations: EINVAL", semop_(id, ops, 0), EINVAL);
    CHECK_ERR("semop of 501 operations: E2BIG", semop_(id, ops, 501), E2BIG);
    CHECK_ERR("semop of semaphore 2 of 2: EFBIG", op1(id, 2, 1, 0), EFBIG);
    CHECK_ERR("semop from a bad address: EFAULT", semop_(id, (struct sembuf *)8, 1), EFAULT);
    CHECK_ERR("semop of id -1: EINVAL", op1(-1, 0, 1, 0), EINVAL);
    semctl_(id, 0, SETVAL, 32767);
    CHECK_ERR("semop past SEMVMX: ERANGE", op1(id, 0, 1, 0), ERANGE);
    CHECK_ERR("wait for zero, IPC_NOWAIT: EAGAIN", op1(id, 0, 0, IPC_NOWAIT), EAGAIN);
    struct k_semid64_ds ds;
    semctl_(id, 0, IPC_STAT, (unsigned long)&ds);
    CHECK("IPC_STAT sem_otime set by semop", ds.otime != 0);
    semctl_(id, 0, IPC_RMID, 0);
}

static void sem_between_processes(void)
{
    long id = semget_(IPC_PRIVATE, 2, 0600);
    REQUIRE("semget", id >= 0);
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; i < 100; i++)
            if (op1(id, 0, -1, 0) != 0 || op1(id, 1, 1, 0) != 0)
                _exit(1);
        _exit(0);
    }
    int ok = 1;
    for (int i = 0; i < 100 && ok; i++)
        ok = op1(id, 0, 1, 0) == 0 && op1(id, 1, -1, 0) == 0;
    CHECK("100 hand-overs between two processes", ok);
    CHECK_EQ("the child took them all", reap(pid), 0);

    /* A blocked decrement, completed by the increment that lets it go. */
    pid = fork();
    if (pid == 0)
        _exit(op1(id, 0, -2, 0) == 0 ? 0 : 1);
    CHECK("GETNCNT counts the blocked child", wait_waiters(id, 0, 0, 1));
    CHECK_EQ("GETZCNT does not", semctl_(id, 0, GETZCNT, 0), 0);
    CHECK_OK("one unit: not enough", op1(id, 0, 1, 0));
    CHECK_EQ("the child still waits", semctl_(id, 0, GETNCNT, 0), 1);
    CHECK_OK("the second unit", op1(id, 0, 1, 0));
    CHECK_EQ("the child's decrement is done when semop returns", semctl_(id, 0, GETVAL, 0), 0);
    CHECK_EQ("nobody waits", semctl_(id, 0, GETNCNT, 0), 0);
    CHECK("GETPID is the child's", semctl_(id, 0, GETPID, 0) == pid);
    CHECK_EQ("the child's semop returned 0", reap(pid), 0);

    /* Waiting for zero. */
    semctl_(id, 1, SETVAL, 2);
    pid = fork();
    if (pid == 0)
        _exit(op1(id, 1, 0, 0) == 0 ? 0 : 1);
    CHECK("GETZCNT counts the child waiting for zero", wait_waiters(id, 1, 1, 1));
    CHECK_OK("down to 1", op1(id, 1, -1, 0));
    CHECK_EQ("still waiting", semctl_(id, 1, GETZCNT, 0), 1);
    CHECK_OK("down to 0", op1(id, 1, -1, 0));
    CHECK_EQ("the zero waiter returned 0", reap(pid), 0);

    /* SEM_UNDO: a process's adjustments go back when it exits. */
    semctl_(id, 0, SETVAL, 2);
    pid = fork();
    if (pid == 0)
        _exit(op1(id, 0, 3, SEM_UNDO) == 0 && op1(id, 0, -1, SEM_UNDO) == 0 ? 0 : 1);
    CHECK_EQ("a child's SEM_UNDO operations", reap(pid), 0);
    CHECK_EQ("are undone at its exit", semctl_(id, 0, GETVAL, 0), 2);
    CHECK("GETPID is the exited child's", semctl_(id, 0, GETPID, 0) == pid);
    /* to_child: the parent's go-ahead; to_parent: the child's "done". */
    int to_child[2], to_parent[2];
    REQUIRE("pipes", pipe(to_child) == 0 && pipe(to_parent) == 0);
    pid = fork();
    if (pid == 0) {
        char c;
        int ok = op1(id, 0, -2, SEM_UNDO) == 0;
        ok = ok && write(to_parent[1], "x", 1) == 1 && read(to_child[0], &c, 1) == 1;
        _exit(ok ? 0 : 1);
    }
    char c;
    CHECK("the child took 2 with SEM_UNDO", read(to_parent[0], &c, 1) == 1);
    CHECK_OK("SETVAL clears its adjustment", semctl_(id, 0, SETVAL, 7));
    CHECK("the child goes on", write(to_child[1], "x", 1) == 1);
    CHECK_EQ("the child exits", reap(pid), 0);
    CHECK_EQ("and gives back nothing", semctl_(id, 0, GETVAL, 0), 7);
    semctl_(id, 0, SETVAL, 0);
    pid = fork();
    if (pid == 0) {
        int ok = op1(id, 0, 5, SEM_UNDO) == 0 && write(to_parent[1], "x", 1) == 1;
        ok = ok && read(to_child[0], &c, 1) == 1;
        _exit(ok ? 0 : 1);
    }
    CHECK("the child added 5 with SEM_UNDO", read(to_parent[0], &c, 1) == 1);
    CHECK_OK("another takes 4 of them", op1(id, 0, -4, 0));
    CHECK("the child goes on", write(to_child[1], "x", 1) == 1);
    CHECK_EQ("the child exits", reap(pid), 0);
    CHECK_EQ("its undo stops at 0", semctl_(id, 0, GETVAL, 0), 0);
    close(to_child[0]);
    close(to_child[1]);
    close(to_parent[0]);
    close(to_parent[1]);

    /* A waiter whose set is removed: EIDRM. */
    pid = fork();
    if (pid == 0) {
        errno = 0;
        long r = op1(id, 0, -1, 0);
        _exit(r == -1 && errno == EIDRM ? 0 : 1);
    }
    CHECK("the child waits", wait_waiters(id, 0, 0, 1));
    CHECK_OK("IPC_RMID with a waiter", semctl_(id, 0, IPC_RMID, 0));
    CHECK_EQ("the waiter got EIDRM", reap(pid), 0);
}

static void sem_timeouts(void)
{
    long id = semget_(IPC_PRIVATE, 1, 0600);
    REQUIRE("semget", id >= 0);
    struct sembuf down = {0, -1, 0};
    struct timespec ts = {0, 50 * 1000000};
    long long start = now_ms();
    CHECK_ERR("semtimedop times out: EAGAIN", syscall(SYS_semtimedop, id, &down, 1, &ts), EAGAIN);
    CHECK("not before its timeout", now_ms() - start >= 45);
    CHECK_EQ("and no longer waits", semctl_(id, 0, GETNCNT, 0), 0);
    struct timespec zero = {0, 0};
    CHECK_ERR("a zero timeout: EAGAIN", syscall(SYS_semtimedop, id, &down, 1, &zero), EAGAIN);
    struct timespec bad = {0, 1000000000};
    CHECK_ERR("tv_nsec of a second: EINVAL", syscall(SYS_semtimedop, id, &down, 1, &bad), EINVAL);
    struct timespec negative = {-1, 0};
    CHECK_ERR("a negative timeout: EINVAL", syscall(SYS_semtimedop, id, &down, 1, &negative),
              EINVAL);
    CHECK_ERR("a bad timeout address: EFAULT", syscall(SYS_semtimedop, id, &down, 1, 8), EFAULT);
    semctl_(id, 0, SETVAL, 1);
    CHECK_OK("semtimedop that need not wait", syscall(SYS_semtimedop, id, &down, 1, &ts));
    alarm_in_ms(50);
    CHECK_ERR("a signal interrupts semop, SA_RESTART or not: EINTR", op1(id, 0, -1, 0), EINTR);
    CHECK_EQ("the handler ran", alarms, 1);
    CHECK_EQ("the interrupted semop no longer waits", semctl_(id, 0, GETNCNT, 0), 0);
    semctl_(id, 0, IPC_RMID, 0);
}

static void sem_tests(void)
{
    sem_keys();
    sem_values();
    sem_between_processes();
    sem_timeouts();
}

#endif
