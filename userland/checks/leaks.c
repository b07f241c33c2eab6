/*
 * leaks: /init of a boot that checks the kernel gives back what dead processes held.
 *
 * Warms up (the first processes grow the kernel's tables), then lets 300 processes end each
 * way: _exit, killed by SIGKILL (raise), killed by SIGSEGV (a fault), and compares MemFree
 * of /proc/meminfo before and after each batch. Prints "leaks: ok ..." when no batch lost
 * more than LIMIT_KB, else "leaks: FAIL ...", then powers off. Run by `cargo xtask test`
 * (`leaks/fast`); Tessera only, as MemFree on Linux moves with its caches. With a file
 * /zombies in the initramfs the second batch is not reaped, a leak on purpose that the check
 * must report (`leaks/can-fail`).
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>

/* Slack for the kernel's heap and tables settling: a leak of one task per death is ~8 kB. */
#define LIMIT_KB 64
#define ROUNDS 300

static long memfree_kb(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[128];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "MemFree:", 8) == 0)
            kb = atol(line + 8);
    if (f)
        fclose(f);
    return kb;
}

static int zombies;
/* An address no process maps (page 0), kept out of the compiler's sight. */
static volatile uintptr_t nowhere = 8;

/* `n` children that end `how`: 0 _exit, 1 SIGKILL, 2 SIGSEGV; each is reaped (unless
 * `zombies` and `how` is 1). */
static void die(int n, int how)
{
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            if (how == 1)
                raise(SIGKILL);
            if (how == 2) {
                volatile int *unmapped = (volatile int *)(uintptr_t)nowhere;
                *unmapped = 1;
            }
            _exit(0);
        }
        int status;
        if (!(zombies && how == 1))
            waitpid(pid, &status, 0);
    }
}

int main(void)
{
    mount("proc", "/proc", "proc", 0, NULL);
    const char *names[] = {"exit", "SIGKILL", "SIGSEGV"};
    for (int how = 0; how < 3; how++)
        die(50, how);
    zombies = access("/zombies", F_OK) == 0;
    int failed = 0;
    char report[256] = "";
    for (int how = 0; how < 3; how++) {
        long before = memfree_kb();
        die(ROUNDS, how);
        long lost = before - memfree_kb();
        failed |= before < 0 || lost > LIMIT_KB;
        snprintf(report + strlen(report), sizeof report - strlen(report), " %s %ld kB;",
                 names[how], lost);
    }
    printf("leaks: %s after %d deaths each:%s (limit %d kB)\n", failed ? "FAIL" : "ok", ROUNDS,
           report, LIMIT_KB);
    fflush(stdout);
    reboot(RB_POWER_OFF);
    return 0;
}
