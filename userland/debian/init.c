/*
 * rootfs-init: /init of the Debian root file system (`cargo xtask run --rootfs debian`).
 *
 * Does what a Debian system's early boot does that the programs need, and no more: mounts
 * proc on /proc, devtmpfs on /dev and a tmpfs on /tmp, links /dev/fd, /dev/stdin,
 * /dev/stdout and /dev/stderr into /proc/self/fd, sets the host name from /etc/hostname,
 * then runs one program in a session of its own whose controlling terminal is the
 * console (so that bash has job control and Ctrl-C reaches the foreground job):
 *
 * - the command in /etc/rootfs-run (its arguments, each ended by a NUL byte), written
 *   there by `cargo xtask run --rootfs debian -- CMD ARGS...`;
 * - otherwise Debian's bash as an interactive login shell (`-bash`: /etc/profile, then
 *   /root/.bashrc), in /root.
 *
 * The environment is a login's: HOME, PATH (Debian's default for root, as /etc/profile
 * sets it), TERM, SHELL, USER, LOGNAME. When that program ends, init kills and reaps
 * what it left running (orphans are init's children), prints `rootfs-init: exit status N`
 * or `rootfs-init: killed by signal N` on the console (xtask reads the status there: Linux
 * and Tessera power off alike, with no status of their own) and powers the machine off.
 *
 * Static (glibc), so it runs on any kernel that runs static programs; Debian's own
 * programs do the rest.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define COMMAND_FILE "/etc/rootfs-run"
#define MAX_ARGS 256

static void warn(const char *what)
{
    dprintf(2, "rootfs-init: %s: %s\n", what, strerror(errno));
}

static void mount_or_warn(const char *source, const char *target, const char *type)
{
    mkdir(target, 0755);
    if (mount(source, target, type, 0, NULL) != 0)
        warn(target);
}

static void set_hostname(void)
{
    char name[65] = {0};
    int fd = open("/etc/hostname", O_RDONLY);
    if (fd < 0)
        return;
    ssize_t n = read(fd, name, sizeof name - 1);
    close(fd);
    while (n > 0 && (name[n - 1] == '\n' || name[n - 1] == ' '))
        name[--n] = 0;
    if (n > 0 && sethostname(name, n) != 0)
        warn("sethostname");
}

/* The command of /etc/rootfs-run, or NULL when there is none. */
static char **command(void)
{
    static char buffer[65536];
    static char *argv[MAX_ARGS + 1];
    int fd = open(COMMAND_FILE, O_RDONLY);
    if (fd < 0)
        return NULL;
    ssize_t total = 0, n;
    while (total < (ssize_t)sizeof buffer - 1 &&
           (n = read(fd, buffer + total, sizeof buffer - 1 - total)) > 0)
        total += n;
    close(fd);
    int argc = 0;
    for (ssize_t at = 0; at < total && argc < MAX_ARGS; at += strlen(buffer + at) + 1)
        argv[argc++] = buffer + at;
    argv[argc] = NULL;
    return argc > 0 ? argv : NULL;
}

/* In the child: a new session whose controlling terminal is the console, on fds 0-2. */
static void take_console(void)
{
    setsid();
    int fd = open("/dev/console", O_RDWR);
    if (fd < 0) {
        warn("/dev/console");
        return;
    }
    if (ioctl(fd, TIOCSCTTY, 1) != 0)
        warn("TIOCSCTTY on /dev/console");
    for (int i = 0; i < 3; i++)
        dup2(fd, i);
    if (fd > 2)
        close(fd);
}

int main(void)
{
    mount_or_warn("proc", "/proc", "proc");
    mount_or_warn("devtmpfs", "/dev", "devtmpfs");
    mount_or_warn("tmpfs", "/tmp", "tmpfs");
    chmod("/tmp", 01777);
    /* What Debian's initramfs adds to a devtmpfs: bash's process substitution opens
     * /dev/fd/N. */
    symlink("/proc/self/fd", "/dev/fd");
    symlink("/proc/self/fd/0", "/dev/stdin");
    symlink("/proc/self/fd/1", "/dev/stdout");
    symlink("/proc/self/fd/2", "/dev/stderr");
    set_hostname();

    char **argv = command();
    static char *login[] = {"-bash", NULL};
    const char *path = argv ? argv[0] : "/bin/bash";
    if (!argv)
        argv = login;

    pid_t child = fork();
    if (child < 0) {
        warn("fork");
    } else if (child == 0) {
        take_console();
        if (chdir("/root") != 0)
            warn("/root");
        clearenv();
        setenv("HOME", "/root", 1);
        setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
        setenv("TERM", "linux", 1);
        setenv("SHELL", "/bin/bash", 1);
        setenv("USER", "root", 1);
        setenv("LOGNAME", "root", 1);
        execvp(path, argv);
        dprintf(2, "rootfs-init: cannot run %s: %s\n", path, strerror(errno));
        _exit(127);
    }

    int status = 0x7f00; /* as if exit 127, when fork failed */
    while (child > 0) {
        int st;
        pid_t pid = wait(&st);
        if (pid < 0 && errno == EINTR)
            continue;
        if (pid < 0 || pid == child) {
            status = pid < 0 ? status : st;
            break;
        }
    }
    /* What the program left running (daemons, stray jobs) ends with it. */
    kill(-1, SIGKILL);
    while (wait(NULL) > 0 || errno == EINTR)
        ;
    if (WIFSIGNALED(status))
        printf("rootfs-init: killed by signal %d\n", WTERMSIG(status));
    else
        printf("rootfs-init: exit status %d\n", WEXITSTATUS(status));
    fflush(stdout);
    sync();
    reboot(RB_POWER_OFF);
    warn("reboot");
    return 1;
}
