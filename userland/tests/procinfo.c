/*
 * procinfo: /proc files tools read that the other procfs checks leave out: /proc/version,
 * /proc/filesystems, /proc/PID/statm, the signal lines of /proc/PID/status (SigPnd, ShdPnd,
 * SigBlk, SigIgn, SigCgt: hexadecimal masks, bit N-1 for signal N, as procps reads them),
 * and /proc/PID/cmdline of another process.
 */
#include "check.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>

static int slurp(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    int n = 0, r;
    while (n < (int)size - 1 && (r = read(fd, buf + n, size - 1 - n)) > 0)
        n += r;
    close(fd);
    buf[n] = 0;
    return n;
}

/* The mask after `name:\t` in /proc/self/status. */
static uint64_t status_mask(const char *name)
{
    char buf[4096];
    if (slurp("/proc/self/status", buf, sizeof buf) <= 0)
        return ~0ULL;
    char key[32];
    snprintf(key, sizeof key, "\n%s:\t", name);
    char *at = strstr(buf, key);
    return at ? strtoull(at + strlen(key), NULL, 16) : ~0ULL;
}

static void handler(int sig)
{
    (void)sig;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "sleeper") == 0) {
        write(100, "r", 1);
        for (;;)
            pause();
    }
    char buf[4096];
    CHECK("/proc/version starts with \"Linux version \"",
          slurp("/proc/version", buf, sizeof buf) > 0 && strncmp(buf, "Linux version ", 14) == 0);
    CHECK("/proc/filesystems lists proc and tmpfs as nodev",
          slurp("/proc/filesystems", buf, sizeof buf) > 0 && strstr(buf, "nodev\tproc\n") &&
              strstr(buf, "nodev\ttmpfs\n"));

    unsigned long size, resident, shared, text, lib, data, dirty;
    int fields = slurp("/proc/self/statm", buf, sizeof buf) > 0
                     ? sscanf(buf, "%lu %lu %lu %lu %lu %lu %lu", &size, &resident, &shared,
                              &text, &lib, &data, &dirty)
                     : 0;
    CHECK_EQ("/proc/self/statm has seven fields", fields, 7);
    CHECK("statm: resident within size, text and data within size",
          resident > 0 && resident <= size && text > 0 && text <= size && data > 0 &&
              data <= size);
    CHECK("statm: lib and dirty are 0", lib == 0 && dirty == 0);
    volatile char *grow = malloc(4 << 20);
    for (int i = 0; i < 4 << 20; i += 4096)
        grow[i] = 1; /* volatile: the compiler may not drop the stores (nor the malloc) */
    unsigned long size2 = 0, resident2 = 0;
    slurp("/proc/self/statm", buf, sizeof buf);
    sscanf(buf, "%lu %lu", &size2, &resident2);
    CHECK("statm: 4 MiB touched shows in size and resident",
          size2 >= size + 1000 && resident2 >= resident + 1000);
    free((void *)grow);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGUSR2, SIG_IGN);
    signal(SIGHUP, handler);
    uint64_t usr1 = 1ULL << (SIGUSR1 - 1), usr2 = 1ULL << (SIGUSR2 - 1), hup = 1ULL << (SIGHUP - 1);
    CHECK("SigBlk has SIGUSR1 blocked", (status_mask("SigBlk") & usr1) != 0);
    CHECK("SigIgn has SIGUSR2 ignored", (status_mask("SigIgn") & usr2) != 0);
    CHECK("SigCgt has SIGHUP caught, not SIGUSR2",
          (status_mask("SigCgt") & hup) != 0 && (status_mask("SigCgt") & usr2) == 0);
    CHECK("nothing pending yet", (status_mask("SigPnd") & usr1) == 0 &&
                                     (status_mask("ShdPnd") & usr1) == 0);
    kill(getpid(), SIGUSR1);
    CHECK("kill: SIGUSR1 pending for the process (ShdPnd)", (status_mask("ShdPnd") & usr1) != 0);
    int sig;
    sigwait(&set, &sig);
    syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1);
    CHECK("tgkill: SIGUSR1 pending for the thread (SigPnd)", (status_mask("SigPnd") & usr1) != 0);
    sigwait(&set, &sig);
    CHECK("taken: nothing pending", (status_mask("SigPnd") & usr1) == 0 &&
                                        (status_mask("ShdPnd") & usr1) == 0);

    /* Another process's cmdline: its argv as execve gave it. */
    int p[2];
    pipe(p);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        dup2(p[1], 100);
        char *argv[] = {"/proc/self/exe", "sleeper", "with spaces", NULL};
        char *envp[] = {NULL};
        execve("/proc/self/exe", argv, envp);
        _exit(99);
    }
    close(p[1]);
    char c;
    read(p[0], &c, 1); /* the sleeper says it is ready */
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
    int n = slurp(path, buf, sizeof buf);
    const char want[] = "/proc/self/exe\0sleeper\0with spaces";
    CHECK("another process's cmdline is its argv", n == (int)sizeof want &&
                                                     memcmp(buf, want, sizeof want) == 0);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return check_exit();
}
