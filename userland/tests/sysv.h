/*
 * sysv.h: what the System V IPC checks (ipc.c and its ipc-*.h parts) share: the kernel's structures as
 * x86_64 Linux lays them out (asm-generic/ipcbuf.h, arch/x86/include/uapi/asm/shmbuf.h and
 * sembuf.h, asm-generic/msgbuf.h), raw system calls (so that no C library wrapper changes
 * the command or hides the kernel's answer), and a wait for a child to block.
 */
#ifndef TESSERA_SYSV_H
#define TESSERA_SYSV_H

#include "check.h"
#include <signal.h>
#include <stdint.h>
#include <sys/ipc.h>
#include <sys/time.h>
#include <time.h>

/* linux/ipc.h: the old-layout flag, which x86_64's calls refuse (EINVAL). */
#define K_IPC_64 0x100
#define K_IPC_INFO 3

struct k_ipc64_perm {
    int32_t key;
    uint32_t uid, gid, cuid, cgid;
    uint32_t mode;
    uint16_t seq, pad2;
    uint64_t unused1, unused2;
};

struct k_shmid64_ds {
    struct k_ipc64_perm perm;
    uint64_t segsz;
    int64_t atime, dtime, ctime;
    int32_t cpid, lpid;
    uint64_t nattch, unused4, unused5;
};

struct k_semid64_ds {
    struct k_ipc64_perm perm;
    int64_t otime;
    uint64_t unused1;
    int64_t ctime;
    uint64_t unused2, nsems, unused3, unused4;
};

struct k_msqid64_ds {
    struct k_ipc64_perm perm;
    int64_t stime, rtime, ctime;
    uint64_t cbytes, qnum, qbytes;
    int32_t lspid, lrpid;
    uint64_t unused4, unused5;
};

_Static_assert(sizeof(struct k_ipc64_perm) == 48, "ipc64_perm");
_Static_assert(sizeof(struct k_shmid64_ds) == 112, "shmid64_ds");
_Static_assert(sizeof(struct k_semid64_ds) == 104, "semid64_ds");
_Static_assert(sizeof(struct k_msqid64_ds) == 120, "msqid64_ds");

/* Milliseconds on the monotonic clock. */
CHECK_HELPER long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

CHECK_HELPER void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static volatile sig_atomic_t alarms;

CHECK_HELPER void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

/* SIGALRM caught (with SA_RESTART: System V waits return EINTR all the same) in `ms`. */
CHECK_HELPER void alarm_in_ms(long ms)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    alarms = 0;
    struct itimerval it = {{0, 0}, {ms / 1000, (ms % 1000) * 1000}};
    setitimer(ITIMER_REAL, &it, NULL);
}

/* The exit code of child `pid` (-1 when it did not exit normally). */
CHECK_HELPER int reap(pid_t pid)
{
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

#endif
