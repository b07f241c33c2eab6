/*
 * clone: clone and clone3 flag checks with Linux's errnos, and the thread group basics the
 * libraries build on: ids, shared memory and descriptors, exit versus exit_group, a
 * process-directed signal taken by the one thread that does not block it, wait4 of a
 * process whose leader exited first, fork and execve from a thread that is not the leader,
 * and handlers on the alternate signal stack. Works in /tmp/t-clone.
 */
#include "check.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

static const char *self;

/* struct clone_args (linux/sched.h, version 2): musl's headers do not have it. */
struct clone_args {
    unsigned long long flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size,
        tls, set_tid, set_tid_size, cgroup;
};
#ifndef SYS_clone3
#define SYS_clone3 435
#endif

static long raw_clone(unsigned long flags)
{
    return syscall(SYS_clone, flags, 0, 0, 0, 0);
}

static long raw_clone3(void *args, size_t size)
{
    return syscall(SYS_clone3, args, size);
}

static void flag_checks(void)
{
    CHECK_ERR("clone CLONE_THREAD without CLONE_SIGHAND", raw_clone(CLONE_THREAD | CLONE_VM),
              EINVAL);
    CHECK_ERR("clone CLONE_SIGHAND without CLONE_VM", raw_clone(CLONE_SIGHAND), EINVAL);

    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = CLONE_THREAD | CLONE_VM;
    CHECK_ERR("clone3 CLONE_THREAD without CLONE_SIGHAND", raw_clone3(&args, sizeof args), EINVAL);
    memset(&args, 0, sizeof args);
    CHECK_ERR("clone3 smaller than version 0", raw_clone3(&args, 32), EINVAL);
    char big[256];
    memset(big, 0, sizeof big);
    big[200] = 1;
    CHECK_ERR("clone3 non-zero bytes past the known struct", raw_clone3(big, sizeof big), E2BIG);
    CHECK_ERR("clone3 larger than a page", raw_clone3(big, 8192), E2BIG);
    args.exit_signal = 65;
    CHECK_ERR("clone3 exit signal out of range", raw_clone3(&args, sizeof args), EINVAL);
    args.exit_signal = SIGCHLD;
    args.stack = 4096;
    CHECK_ERR("clone3 stack without a size", raw_clone3(&args, sizeof args), EINVAL);
    CHECK_ERR("clone3 unreadable args", raw_clone3((void *)8, 64), EFAULT);

    /* A plain fork through clone3, exit signal SIGCHLD. */
    memset(&args, 0, sizeof args);
    args.exit_signal = SIGCHLD;
    long pid = raw_clone3(&args, sizeof args);
    if (pid == 0)
        _exit(7);
    int status = 0;
    CHECK_EQ("clone3 fork: wait4 finds the child", waitpid(pid, &status, 0), pid);
    CHECK("clone3 fork: exit status", WIFEXITED(status) && WEXITSTATUS(status) == 7);

    /* A child with exit signal 0 is a "clone" child: wait4 needs __WALL or __WCLONE. */
    pid = raw_clone(0);
    if (pid == 0)
        _exit(3);
    CHECK_ERR("no exit signal: plain waitpid does not see the child",
              waitpid(pid, &status, WNOHANG), ECHILD);
    CHECK_EQ("no exit signal: __WCLONE reaps it", waitpid(pid, &status, __WCLONE), pid);
    CHECK("no exit signal: its status", WIFEXITED(status) && WEXITSTATUS(status) == 3);
}

/* ---- threads ---- */

static pid_t main_tid;
static volatile int shared_value;

static void *ids(void *arg)
{
    (void)arg;
    shared_value = 1;
    long same_pid = getpid() == (pid_t)(intptr_t)arg;
    long own_tid = gettid() != main_tid && gettid() > 0;
    return (void *)(same_pid | own_tid << 1);
}

static void thread_basics(void)
{
    main_tid = gettid();
    CHECK_EQ("the leader's tid is the pid", main_tid, getpid());
    pthread_t t;
    REQUIRE("pthread_create", pthread_create(&t, NULL, ids, (void *)(intptr_t)getpid()) == 0);
    void *result;
    REQUIRE("pthread_join", pthread_join(t, &result) == 0);
    CHECK_EQ("a thread: same pid, own tid", (intptr_t)result, 3);
    CHECK_EQ("a thread writes memory the leader reads", shared_value, 1);

    int many = 0;
    pthread_t ts[20];
    for (int i = 0; i < 20; i++)
        many += pthread_create(&ts[i], NULL, ids, (void *)(intptr_t)getpid()) == 0;
    for (int i = 0; i < 20; i++)
        if (pthread_join(ts[i], &result) == 0 && (intptr_t)result == 3)
            many++;
    CHECK_EQ("20 threads created and joined", many, 40);
}

/* A thread that opens a file: the descriptor is the process's. */
static void *opener(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)open("shared-fd", O_CREAT | O_RDWR, 0644);
}

static void shared_files(void)
{
    pthread_t t;
    void *fd;
    pthread_create(&t, NULL, opener, NULL);
    pthread_join(t, &fd);
    CHECK("a descriptor a thread opened is usable by the leader",
          write((int)(intptr_t)fd, "x", 1) == 1);
    close((int)(intptr_t)fd);
}

/* exit_group from a thread ends the process with its status; exit ends just the thread. */
static void *group_exiter(void *arg)
{
    (void)arg;
    exit(9);
}

static int exit_group_child(void)
{
    pthread_t t;
    pthread_create(&t, NULL, group_exiter, NULL);
    for (;;)
        pause();
    return 0;
}

static void *late_exiter(void *arg)
{
    (void)arg;
    usleep(20000);
    syscall(SYS_exit, 4); /* the thread only */
    return NULL;
}

static int leader_exits_first_child(void)
{
    pthread_t t;
    pthread_create(&t, NULL, late_exiter, NULL);
    syscall(SYS_exit, 5); /* the leader only: the process lives on in the thread */
    return 0;
}

static void exits(void)
{
    int status = child_status(exit_group_child);
    CHECK("exit() in a thread ends the process with its status",
          WIFEXITED(status) && WEXITSTATUS(status) == 9);
    status = child_status(leader_exits_first_child);
    CHECK("the leader exits first: the process ends with the last thread and its status",
          WIFEXITED(status) && WEXITSTATUS(status) == 4);
}

/* A process-directed signal goes to the one thread that does not block it. */
static volatile pid_t handled_by;

static void record_tid(int sig)
{
    (void)sig;
    handled_by = gettid();
}

static pid_t receiver_tid;

static void *receiver(void *arg)
{
    (void)arg;
    receiver_tid = gettid();
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, NULL);
    while (!handled_by)
        usleep(1000);
    return NULL;
}

static void process_signal(void)
{
    signal(SIGUSR1, record_tid);
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &usr1, NULL);
    pthread_t t;
    pthread_create(&t, NULL, receiver, NULL);
    while (!receiver_tid)
        usleep(1000);
    kill(getpid(), SIGUSR1);
    pthread_join(t, NULL);
    CHECK("kill(getpid()) is handled by the thread that does not block it",
          handled_by == receiver_tid);
    handled_by = 0;
    /* tgkill picks the thread, even one that blocks the signal (pending until unblocked). */
    syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1);
    CHECK("tgkill to a thread that blocks it: pending, not handled", handled_by == 0);
    sigset_t pending;
    sigpending(&pending);
    CHECK("tgkill to a thread that blocks it: in sigpending", sigismember(&pending, SIGUSR1));
    pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
    CHECK("unblocked: handled by that thread", handled_by == gettid());
    CHECK_ERR("tgkill with a tid of another process", syscall(SYS_tgkill, getpid(), 1, 0), ESRCH);
    signal(SIGUSR1, SIG_DFL);
}

/* fork in a thread: only the caller is in the child. */
static int threads_seen;

static int count_threads(const char *path)
{
    int n = 0;
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static void *forker(void *arg)
{
    (void)arg;
    threads_seen = count_threads("/proc/self/task");
    pid_t pid = fork();
    if (pid == 0) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/task", getpid());
        _exit(count_threads(path));
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return (void *)(intptr_t)status;
}

static void *sleeper(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

static void fork_from_thread(void)
{
    pthread_t s, f;
    pthread_create(&s, NULL, sleeper, NULL);
    void *status;
    pthread_create(&f, NULL, forker, NULL);
    pthread_join(f, &status);
    CHECK("fork in a thread: the child has one thread",
          WIFEXITED((int)(intptr_t)status) && WEXITSTATUS((int)(intptr_t)status) == 1);
    CHECK_EQ("/proc/self/task lists every thread", threads_seen, 3);
    pthread_cancel(s);
    pthread_join(s, NULL);
}

/* execve from a thread that is not the leader: the new program has the old pid. */
static void *execer(void *arg)
{
    char pid[16];
    snprintf(pid, sizeof pid, "%d", (int)(intptr_t)arg);
    char *argv[] = {(char *)self, "exec-child", pid, NULL};
    execv(self, argv);
    _exit(99);
}

static int exec_from_thread_child(void)
{
    pthread_t s, t;
    pthread_create(&s, NULL, sleeper, NULL);
    pthread_create(&t, NULL, execer, (void *)(intptr_t)getpid());
    for (;;)
        pause();
    return 0;
}

static void exec_from_thread(void)
{
    int status = child_status(exec_from_thread_child);
    CHECK("execve in a thread: the new program runs alone with the process's pid",
          WIFEXITED(status) && WEXITSTATUS(status) == 42);
}

/* A handler installed with SA_ONSTACK runs on the alternate stack, even after a stack
 * overflow. */
static char *alt;
static volatile int on_alt;

static void on_segv(int sig)
{
    (void)sig;
    char here;
    on_alt = &here >= alt && &here < alt + 65536;
    stack_t now;
    sigaltstack(NULL, &now);
    on_alt |= (now.ss_flags & SS_ONSTACK) ? 2 : 0;
    _exit(on_alt);
}

static int (*volatile recurse_ptr)(int);

static int recurse(int depth)
{
    volatile char pad[4096];
    pad[0] = (char)depth;
    return recurse_ptr(depth + 1) + pad[0];
}

static int overflow_child(void)
{
    alt = malloc(65536);
    stack_t ss = {.ss_sp = alt, .ss_size = 65536, .ss_flags = 0};
    if (sigaltstack(&ss, NULL) != 0)
        return 100;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_segv;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGSEGV, &sa, NULL);
    recurse_ptr = recurse;
    return recurse(0);
}

static void altstack(void)
{
    stack_t ss = {.ss_sp = NULL, .ss_size = 1024, .ss_flags = 0};
    char buf[1024];
    ss.ss_sp = buf;
    CHECK_ERR("sigaltstack smaller than MINSIGSTKSZ", sigaltstack(&ss, NULL), ENOMEM);
    ss.ss_flags = 77;
    ss.ss_size = 65536;
    CHECK_ERR("sigaltstack bad flags", sigaltstack(&ss, NULL), EINVAL);
    stack_t old;
    CHECK_OK("sigaltstack query", sigaltstack(NULL, &old));
    CHECK_EQ("no alternate stack at first", old.ss_flags, SS_DISABLE);
    int status = child_status(overflow_child);
    CHECK("SIGSEGV handler on the alternate stack after a stack overflow",
          WIFEXITED(status) && WEXITSTATUS(status) == 3);
}

int main(int argc, char **argv)
{
    self = argv[0];
    if (argc == 3 && strcmp(argv[1], "exec-child") == 0) {
        /* Alone, with the pid of the process that exec'd. */
        int n = count_threads("/proc/self/task");
        return atoi(argv[2]) == getpid() && gettid() == getpid() && n == 1 ? 42 : 1;
    }
    alarm(30);
    scratch_dir("/tmp/t-clone");
    flag_checks();
    thread_basics();
    shared_files();
    exits();
    process_signal();
    fork_from_thread();
    exec_from_thread();
    altstack();
    return check_exit();
}
