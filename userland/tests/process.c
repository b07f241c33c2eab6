/*
 * process: fork, vfork, execve, wait4 status encoding, pid relations, process groups and
 * sessions, the console as a new session's controlling terminal (TIOCSCTTY, TIOCNOTTY,
 * what an init does for its shell). Re-executes itself (argv[0] must be a path) for the execve checks; works in
 * /tmp/t-process.
 */
#include "check.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <termios.h>

static const char *self;

/* Mode "exec-child": the exec'd image checks what execve must carry and exits 42. */
static int exec_child(int argc, char **argv)
{
    int bad = 0;
    if (argc != 3 || strcmp(argv[2], "second") != 0)
        bad |= 1;
    const char *env = getenv("TESSERA_TEST");
    if (!env || strcmp(env, "value") != 0)
        bad |= 2;
    if (fcntl(10, F_GETFD) != 0)
        bad |= 4; /* an fd without FD_CLOEXEC survives execve */
    if (fcntl(11, F_GETFD) != -1 || errno != EBADF)
        bad |= 8; /* an FD_CLOEXEC fd is closed by execve */
    const char *pid = getenv("PID");
    if (!pid || atoi(pid) != getpid())
        bad |= 16; /* execve keeps the pid */
    /* /proc/self/cmdline and environ: the strings as passed, each with its NUL. */
    char want[512], got[512];
    int wn = 0;
    for (int i = 0; i < argc; i++)
        wn += snprintf(want + wn, sizeof want - wn, "%s", argv[i]) + 1;
    int fd = open("/proc/self/cmdline", O_RDONLY);
    int gn = fd < 0 ? -1 : (int)read(fd, got, sizeof got);
    if (fd >= 0)
        close(fd);
    if (gn != wn || memcmp(got, want, wn) != 0)
        bad |= 32;
    fd = open("/proc/self/environ", O_RDONLY);
    gn = fd < 0 ? -1 : (int)read(fd, got, sizeof got);
    if (fd >= 0)
        close(fd);
    if (gn < 20 || memcmp(got, "TESSERA_TEST=value", 19) != 0 || got[gn - 1] != 0)
        bad |= 64;
    return bad ? bad : 42;
}

/* Mode "script": run as the interpreter of a #! script; exits 43 when argv is right. */
static int script_child(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "script") == 0 && strcmp(argv[2], "t-script") == 0 &&
        strcmp(argv[3], "a") == 0 && strcmp(argv[4], "b") == 0)
        return 43;
    return 1;
}

static int wait_raw(pid_t pid)
{
    int status = -1;
    if (wait4(pid, &status, 0, NULL) != pid)
        return -1;
    return status;
}

static int exit_3(void)
{
    exit(3);
}
static int exit_263(void)
{
    exit(263);
}
static volatile int *volatile null_pointer;
static int segfault(void)
{
    *null_pointer = 1;
    return 0;
}
static int stop_self_by_abort(void)
{
    abort();
}

static void wait_status(void)
{
    int st = child_status(exit_3);
    CHECK_EQ("wait4 status of exit(3) is 3 << 8", st, 3 << 8);
    CHECK("WIFEXITED after exit", WIFEXITED(st) && !WIFSIGNALED(st));
    CHECK_EQ("WEXITSTATUS", WEXITSTATUS(st), 3);
    CHECK_EQ("exit status is taken modulo 256", WEXITSTATUS(child_status(exit_263)), 7);
    st = child_status(segfault);
    CHECK("a child that segfaults is WIFSIGNALED", WIFSIGNALED(st) && !WIFEXITED(st));
    CHECK_EQ("WTERMSIG of a segfault is SIGSEGV", WTERMSIG(st), SIGSEGV);
    CHECK_EQ("no core dump bit (RLIMIT_CORE 0)", WCOREDUMP(st), 0);
    CHECK_EQ("abort() kills with SIGABRT", child_status(stop_self_by_abort), SIGABRT);

    pid_t pid = fork();
    if (pid == 0) {
        pause();
        _exit(0);
    }
    kill(pid, SIGTERM);
    st = wait_raw(pid);
    CHECK_EQ("a child killed by SIGTERM has status SIGTERM", st, SIGTERM);

    int p[2];
    pipe(p);
    pid = fork();
    if (pid == 0) {
        char c;
        close(p[1]);
        _exit(read(p[0], &c, 1) == 0 ? 9 : 1);
    }
    close(p[0]);
    CHECK_EQ("wait4 WNOHANG with a running child returns 0", wait4(pid, &st, WNOHANG, NULL), 0);
    close(p[1]);
    CHECK_EQ("the child sees EOF once the parent closes the pipe", WEXITSTATUS(wait_raw(pid)), 9);

    pid_t a = fork();
    if (a == 0)
        _exit(1);
    pid_t b = fork();
    if (b == 0)
        _exit(2);
    CHECK("wait4 for a given pid returns that child", wait4(b, &st, 0, NULL) == b);
    CHECK_EQ("the status of that child", WEXITSTATUS(st), 2);
    struct rusage ru;
    CHECK("wait4(-1) returns the other child", wait4(-1, &st, 0, &ru) == a);
    CHECK_EQ("the status of the other child", WEXITSTATUS(st), 1);
    CHECK_ERR("wait4 with no children -> ECHILD", wait4(-1, &st, 0, NULL), ECHILD);
    CHECK_ERR("wait4 WNOHANG with no children -> ECHILD", wait4(-1, &st, WNOHANG, NULL), ECHILD);
    CHECK_ERR("wait4 with unknown options -> EINVAL", wait4(-1, &st, 0x12345, NULL), EINVAL);
    /* kernel/exit.c: WNOWAIT is waitid's; waitid checks its options and ids first. */
    CHECK_ERR("wait4 with WNOWAIT -> EINVAL", wait4(-1, &st, WNOWAIT | WNOHANG, NULL), EINVAL);
    siginfo_t info;
    CHECK_ERR("waitid(P_PID, 0) -> EINVAL", waitid(P_PID, 0, &info, WEXITED | WNOHANG), EINVAL);
    CHECK_ERR("waitid(P_PGID, -1) -> EINVAL", waitid(P_PGID, -1, &info, WEXITED | WNOHANG),
              EINVAL);
    CHECK_ERR("waitid with an unknown option -> EINVAL",
              waitid(P_ALL, 0, &info, WEXITED | WNOHANG | 0x10000), EINVAL);
}

static volatile int vfork_shared;

static void vfork_and_exec(void)
{
    vfork_shared = 0;
    pid_t pid = vfork();
    if (pid == 0) {
        vfork_shared = 1; /* shared memory: the parent sees this */
        _exit(5);
    }
    CHECK_EQ("vfork child exits with _exit(5)", WEXITSTATUS(wait_raw(pid)), 5);
    CHECK("a vfork child shares the parent's memory", vfork_shared == 1);

    char *argv[] = {"x", NULL};
    char *envp[] = {NULL};
    CHECK_ERR("execve of a missing file -> ENOENT", syscall(SYS_execve, "missing", argv, envp),
              ENOENT);
    CHECK_ERR("execve of an empty path -> ENOENT", syscall(SYS_execve, "", argv, envp), ENOENT);
    int fd = open("text", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    write(fd, "just some text\n", 15);
    close(fd);
    CHECK_ERR("execve of a file without execute bits -> EACCES",
              syscall(SYS_execve, "text", argv, envp), EACCES);
    chmod("text", 0755);
    CHECK_ERR("execve of an executable text file -> ENOEXEC",
              syscall(SYS_execve, "text", argv, envp), ENOEXEC);
    CHECK_ERR("execve of a directory -> EACCES", syscall(SYS_execve, ".", argv, envp), EACCES);
    CHECK_ERR("execve with a bad argv pointer -> EFAULT",
              syscall(SYS_execve, self, (void *)1, envp), EFAULT);

    int keep = open(".", O_RDONLY);
    dup2(keep, 10);
    dup3(keep, 11, O_CLOEXEC);
    close(keep);
    pid = fork();
    if (pid == 0) {
        char pidenv[32];
        snprintf(pidenv, sizeof pidenv, "PID=%d", getpid());
        char *cargv[] = {(char *)self, "exec-child", "second", NULL};
        char *cenv[] = {"TESSERA_TEST=value", pidenv, NULL};
        execve(self, cargv, cenv);
        _exit(99);
    }
    CHECK_EQ("execve passes argv, envp, open fds and the pid, and /proc/self/cmdline and "
             "environ show argv and envp (42 = all right)",
             WEXITSTATUS(wait_raw(pid)), 42);
    close(10);
    close(11);

    fd = open("t-script", O_CREAT | O_WRONLY | O_TRUNC, 0755);
    char line[300];
    int n = snprintf(line, sizeof line, "#!%s script\nexit 1\n", self);
    write(fd, line, n);
    close(fd);
    pid = fork();
    if (pid == 0) {
        char *sargv[] = {"t-script", "a", "b", NULL};
        execve("t-script", sargv, envp);
        _exit(99);
    }
    CHECK_EQ("a #! script runs its interpreter with the script path (43 = right)",
             WEXITSTATUS(wait_raw(pid)), 43);
}

static void pids_and_groups(void)
{
    /* A group of its own, so that its id can be named (init's group on Linux is 0). */
    setpgid(0, 0);
    /* waitid(P_PGID, 0) waits for the caller's own group (kernel/exit.c). */
    pid_t kid = fork();
    if (kid == 0)
        _exit(5);
    siginfo_t info = {0};
    CHECK_EQ("waitid(P_PGID, 0) finds a child of the caller's group",
             waitid(P_PGID, 0, &info, WEXITED) == 0 ? info.si_pid : -1, kid);
    CHECK_EQ("getpgid's pid is a pid_t: 1<<32 is 0, the caller",
             syscall(SYS_getpgid, 1L << 32), getpgid(0));
    pid_t me = getpid();
    CHECK("getpid is positive", me > 0);
    CHECK("gettid equals getpid in a single-threaded process", syscall(SYS_gettid) == me);
    pid_t pid = fork();
    if (pid == 0)
        _exit(getppid() == me ? 0 : 1);
    CHECK("fork returns a new pid to the parent", pid > 0 && pid != me);
    CHECK_EQ("a child's getppid is its parent's getpid", WEXITSTATUS(wait_raw(pid)), 0);

    int p[2];
    pipe(p);
    pid = fork();
    if (pid == 0) {
        pid_t child = getpid();
        int bad = 0;
        if (setpgid(0, 0) != 0 || getpgid(0) != child || getpgrp() != child)
            bad |= 1; /* setpgid(0, 0) makes a group led by the caller */
        if (setsid() != -1 || errno != EPERM)
            bad |= 2; /* a group leader cannot start a session */
        pid_t grandchild = fork();
        if (grandchild == 0) {
            int b = 0;
            if (getpgid(0) != child)
                b |= 1; /* fork inherits the process group */
            if (setsid() != getpid() || getsid(0) != getpid() || getpgid(0) != getpid())
                b |= 2; /* setsid makes a new session and group */
            _exit(b);
        }
        int st;
        waitpid(grandchild, &st, 0);
        bad |= WEXITSTATUS(st) << 2;
        char report = (char)bad;
        write(p[1], &report, 1);
        pause();
        _exit(0);
    }
    char c = -1;
    read(p[0], &c, 1);
    CHECK("setpgid(0, 0) makes the caller a group leader", c >= 0 && !(c & 1));
    CHECK("setsid of a group leader -> EPERM", c >= 0 && !(c & 2));
    CHECK("fork inherits the process group", c >= 0 && !(c & 4));
    CHECK("setsid makes a new session and group led by the caller", c >= 0 && !(c & 8));
    CHECK_EQ("the parent sees the child's new group", getpgid(pid), pid);
    CHECK_EQ("setpgid moves the child back into the parent's group", setpgid(pid, getpgrp()), 0);
    CHECK_EQ("getpgid after the move", getpgid(pid), getpgrp());
    kill(pid, SIGKILL);
    wait_raw(pid);
    CHECK_ERR("getpgid of a missing process -> ESRCH", getpgid(999999), ESRCH);
    CHECK_ERR("setpgid of a missing process -> ESRCH", setpgid(999999, 0), ESRCH);
    CHECK_ERR("setpgid with a negative group -> EINVAL", setpgid(0, -1), EINVAL);
    CHECK_ERR("getsid of a missing process -> ESRCH", getsid(999999), ESRCH);

    close(p[0]);
    close(p[1]);

    pipe(p);
    pid = fork();
    if (pid == 0) {
        pid_t parent = getpid();
        if (fork() == 0) {
            for (int i = 0; i < 5000 && getppid() == parent; i++)
                usleep(1000);
            write(p[1], getppid() != parent ? "r" : "n", 1);
            _exit(0);
        }
        _exit(0);
    }
    close(p[1]);
    wait_raw(pid);
    c = 0;
    read(p[0], &c, 1);
    CHECK("an orphan gets a new parent when its parent exits", c == 'r');
    close(p[0]);
}

/* The console as the controlling terminal of a new session, as an init does for its
 * shell (rootfs-init): none after setsid (TIOCGSID: ENOTTY), TIOCSCTTY with 1 (root may
 * take a terminal another session holds) gives it the console with the caller's group in
 * the foreground, a member that does not lead the session gets EPERM, TIOCNOTTY gives it
 * up (its SIGHUP to the foreground group ignored). Runs in a child. */
static int ctty_session(void)
{
    int fd = open("/dev/console", O_RDWR | O_NOCTTY);
    REQUIRE("open /dev/console", fd >= 0);
    pid_t me = getpid();
    CHECK_EQ("setsid makes a session", setsid(), me);
    pid_t sid = -1;
    CHECK_ERR("a new session has no terminal: TIOCGSID", ioctl(fd, TIOCGSID, &sid), ENOTTY);

    pid_t member = fork();
    if (member == 0) {
        /* In the session, not its leader. */
        _exit(ioctl(fd, TIOCSCTTY, 1) == -1 && errno == EPERM ? 0 : 1);
    }
    int status;
    waitpid(member, &status, 0);
    CHECK("TIOCSCTTY by a member that does not lead the session -> EPERM",
          WIFEXITED(status) && WEXITSTATUS(status) == 0);

    CHECK_OK("TIOCSCTTY 1 takes the console", ioctl(fd, TIOCSCTTY, 1));
    CHECK_OK("TIOCGSID", ioctl(fd, TIOCGSID, &sid));
    CHECK_EQ("the console's session is the caller's", sid, me);
    CHECK_EQ("the caller's group is in the foreground", tcgetpgrp(fd), me);
    CHECK_OK("TIOCSCTTY again: it is already ours", ioctl(fd, TIOCSCTTY, 0));

    signal(SIGHUP, SIG_IGN);
    CHECK_OK("TIOCNOTTY gives it up", ioctl(fd, TIOCNOTTY));
    CHECK_ERR("after TIOCNOTTY: TIOCGSID", ioctl(fd, TIOCGSID, &sid), ENOTTY);
    close(fd);
    return check_exit();
}

static void controlling_terminal(void)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(ctty_session());
    int status;
    REQUIRE("waitpid", waitpid(pid, &status, 0) == pid);
    CHECK("the controlling terminal checks all passed", WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "exec-child") == 0)
        return exec_child(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "script") == 0)
        return script_child(argc, argv);
    self = argv[0];
    setrlimit(RLIMIT_CORE, &(struct rlimit){0, 0});
    REQUIRE("argv[0] is a path to this program", strchr(self, '/') != NULL);
    char *resolved = realpath(self, NULL);
    REQUIRE("argv[0] resolves", resolved != NULL);
    self = resolved;
    scratch_dir("/tmp/t-process");
    wait_status();
    vfork_and_exec();
    pids_and_groups();
    controlling_terminal();
    return check_exit();
}
