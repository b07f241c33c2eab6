/*
 * pgrp: setpgid and setsid refuse what Linux refuses, in Linux's order (kernel/sys.c):
 * setpgid moves only the caller or a child of its own session that has not run execve yet,
 * never a session leader, into its own group or a group that exists in the caller's
 * session; setsid fails while a group with the caller's id exists.
 */
#include "check.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

static const char *self_path;

/* A child blocked reading a pipe; `exec`: after running this program again. */
struct child {
    pid_t pid;
    int release;
};

static struct child start_child(int exec, int new_session)
{
    int go[2], ready[2];
    struct child c = {-1, -1};
    if (pipe(go) != 0 || pipe(ready) != 0)
        return c;
    pid_t pid = fork();
    if (pid == 0) {
        close(go[1]);
        close(ready[0]);
        if (new_session)
            setsid();
        if (exec) {
            char fd[16];
            snprintf(fd, sizeof fd, "%d", go[0]);
            char *argv[] = {(char *)self_path, "wait", fd, NULL};
            char *envp[] = {NULL};
            /* The parent sees EOF once the exec has closed it (close-on-exec). */
            fcntl(ready[1], F_SETFD, FD_CLOEXEC);
            execve(self_path, argv, envp);
            _exit(127);
        }
        write(ready[1], "r", 1);
        char byte;
        read(go[0], &byte, 1);
        _exit(0);
    }
    close(go[0]);
    close(ready[1]);
    char byte;
    read(ready[0], &byte, 1);
    close(ready[0]);
    c.pid = pid;
    c.release = go[1];
    return c;
}

static void stop_child(struct child c)
{
    close(c.release);
    waitpid(c.pid, NULL, 0);
}

static pid_t reaped_pid(void)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    waitpid(pid, NULL, 0);
    return pid;
}

static void *idle_thread(void *arg)
{
    pause();
    return arg;
}

/* In a child of its own, so the checks start from a process that is not a group leader. */
static int checks(void)
{
    CHECK_ERR("negative group", setpgid(0, -1), EINVAL);
    pid_t gone = reaped_pid();
    CHECK_ERR("unknown pid", setpgid(gone, 0), ESRCH);
    CHECK_ERR("not a child", setpgid(getppid(), 0), ESRCH);
    CHECK_ERR("a group that does not exist", setpgid(0, gone), EPERM);

    struct child plain = start_child(0, 0);
    CHECK_OK("a child before execve", setpgid(plain.pid, plain.pid));
    CHECK_EQ("its group", getpgid(plain.pid), plain.pid);
    CHECK_OK("joining the child's group", setpgid(0, plain.pid));
    CHECK_EQ("mine now", getpgrp(), plain.pid);
    CHECK_OK("back to my own", setpgid(0, 0));
    stop_child(plain);

    struct child execd = start_child(1, 0);
    CHECK_ERR("a child after execve", setpgid(execd.pid, execd.pid), EACCES);
    stop_child(execd);

    struct child other = start_child(0, 1);
    CHECK_ERR("a child in another session", setpgid(other.pid, other.pid), EPERM);
    CHECK_ERR("its group from mine", setpgid(0, other.pid), EPERM);
    stop_child(other);

    pthread_t thread;
    if (pthread_create(&thread, NULL, idle_thread, NULL) == 0) {
        /* A thread id that is not the process's: the thread's tid is above ours here. */
        pid_t tid = -1;
        for (pid_t t = getpid() + 1; t < getpid() + 64 && tid < 0; t++)
            if (syscall(SYS_tgkill, getpid(), t, 0) == 0)
                tid = t;
        CHECK_ERR("a thread that is not the leader", setpgid(tid, 0), EINVAL);
    }

    /* setsid: a group with my id exists (I lead it): EPERM. */
    CHECK_ERR("setsid as a group leader", setsid(), EPERM);
    return check_exit();
}

static int session_checks(void)
{
    /* Not a group leader (forked): setsid works, then I lead a session. */
    CHECK("setsid", setsid() == getpid());
    CHECK_ERR("setpgid of a session leader", setpgid(0, 0), EPERM);
    CHECK_ERR("setsid again", setsid(), EPERM);
    return check_exit();
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "wait") == 0) {
        char byte;
        read(atoi(argv[2]), &byte, 1);
        return 0;
    }
    static char path[4096];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    path[n > 0 ? n : 0] = 0;
    self_path = path;
    CHECK_EQ("checks", child_status(checks), 0);
    CHECK_EQ("session checks", child_status(session_checks), 0);
    return check_exit();
}
