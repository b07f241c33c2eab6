/*
 * thread-proc: processes with threads. exit() from a thread other than the first ends the
 * whole process (exit_group) with that status, as a waiting parent sees; the first thread's
 * pthread_exit leaves the process to its other threads; execve from another thread runs
 * the new program as the only thread, with the old pid; fork from a threaded process (from
 * the first thread and from another) gives a child with the caller alone, which can start
 * threads of its own; a thread waits for a child another thread forked; getppid is the
 * process's.
 *
 * The children report by exit status: a bit per failed check (see each EXEC_* / FORK_*).
 */
#include "threads.h"

static pthread_barrier_t ready;
static const char *self_path;

/*
 * Runs this program again as `thread-proc MODE` in a child and returns its raw wait status.
 * The first thread's pthread_exit is checked in a program of its own, not in a child of
 * fork(): musl's fork() does not give the child's first thread back the address the kernel
 * clears when it exits, which musl's pthread_exit relies on while other threads run.
 */
static int run_self(const char *mode)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        char *args[] = {(char *)self_path, (char *)mode, NULL};
        char *env[] = {NULL};
        execve(self_path, args, env);
        _exit(100);
    }
    int status;
    return waitpid(pid, &status, 0) == pid ? status : -1;
}

static void *exit_seven(void *arg)
{
    (void)arg;
    exit(7);
}

static int exit_from_thread(void)
{
    start(exit_seven, NULL);
    for (;;)
        pause(); /* the first thread waits; the other one ends the process */
    return 1;
}

static pid_t first_pid;

static void *outlive_leader(void *arg)
{
    (void)arg;
    sleep_ms(20); /* the first thread has most likely gone by now */
    exit(getpid() == first_pid ? 5 : 6);
}

static int leader_exits_first(void)
{
    first_pid = getpid();
    start(outlive_leader, NULL);
    pthread_exit(NULL);
}

static void *last_pthread_exit(void *arg)
{
    (void)arg;
    sleep_ms(5);
    pthread_exit(NULL);
}

static int all_pthread_exit(void)
{
    start(last_pthread_exit, NULL);
    pthread_exit(NULL);
}

static void exits(void)
{
    int status = child_status(exit_from_thread);
    CHECK("exit(7) in a thread ends the process: the parent sees exit status 7",
          WIFEXITED(status) && WEXITSTATUS(status) == 7);
    status = run_self("--leader-exits-first");
    CHECK("after the first thread's pthread_exit the other runs on, with the same pid",
          WIFEXITED(status) && WEXITSTATUS(status) == 5);
    status = run_self("--all-pthread-exit");
    CHECK("when the last thread calls pthread_exit the process exits 0",
          WIFEXITED(status) && status == 0);
}

/* The bits of the exec'd program's exit status. */
#define EXEC_PID 1     /* getpid() is not the old pid */
#define EXEC_TID 2     /* gettid() is not getpid(): it is not the first thread */
#define EXEC_THREADS 4 /* more than one thread in /proc/self/status */
#define EXEC_PARENT 8  /* getppid() is not the old parent */

/* The program exec'd as `thread-proc --exec-check PID PPID`. */
static int exec_check(char **argv)
{
    int failed = 0;
    if (getpid() != atoi(argv[2]))
        failed |= EXEC_PID;
    if (thread_id() != getpid())
        failed |= EXEC_TID;
    if (status_threads() != 1)
        failed |= EXEC_THREADS;
    if (getppid() != atoi(argv[3]))
        failed |= EXEC_PARENT;
    return failed;
}

static void *exec_from_thread(void *arg)
{
    (void)arg;
    char pid[16], ppid[16];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    snprintf(ppid, sizeof ppid, "%d", (int)getppid());
    char *args[] = {(char *)self_path, "--exec-check", pid, ppid, NULL};
    char *env[] = {NULL};
    pthread_barrier_wait(&ready);
    execve(self_path, args, env);
    _exit(100); /* execve failed */
}

static void *wait_forever(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&ready);
    for (;;)
        pause();
    return NULL;
}

static int exec_in_thread(void)
{
    pthread_barrier_init(&ready, NULL, 3);
    start(wait_forever, NULL);
    start(exec_from_thread, NULL);
    pthread_barrier_wait(&ready);
    for (;;)
        pause(); /* three threads until the execve */
    return 1;
}

static void exec(void)
{
    int status = child_status(exec_in_thread);
    CHECK("execve from a thread other than the first runs the new program",
          WIFEXITED(status) && WEXITSTATUS(status) < 100);
    int bits = WIFEXITED(status) ? WEXITSTATUS(status) : 0xff;
    CHECK("the new program has the old pid", !(bits & EXEC_PID));
    CHECK("it runs as the first thread (gettid is the pid)", !(bits & EXEC_TID));
    CHECK("it is the only thread (/proc/self/status)", !(bits & EXEC_THREADS));
    CHECK("its parent is the old parent", !(bits & EXEC_PARENT));
}

/* The bits of a forked child's exit status. */
#define FORK_THREADS 1 /* more than one thread in the child */
#define FORK_TID 2     /* the child's thread is not its first (gettid != getpid) */
#define FORK_CREATE 4  /* the child could not start and join threads of its own */
#define FORK_LOCK 8    /* a mutex unlocked at fork is not usable in the child */

static pthread_mutex_t at_fork = PTHREAD_MUTEX_INITIALIZER;
static long child_sum;

static void *add(void *arg)
{
    pthread_mutex_lock(&at_fork);
    child_sum += (long)arg;
    pthread_mutex_unlock(&at_fork);
    return arg;
}

/* What a child of fork() checks, as exit-status bits. */
static int forked_child(void)
{
    int failed = 0;
    if (status_threads() != 1 || task_list(NULL, 0) != 1)
        failed |= FORK_THREADS;
    if (thread_id() != getpid())
        failed |= FORK_TID;
    pthread_t t[4];
    int ok = 1;
    for (long i = 0; i < 4; i++)
        ok &= pthread_create(&t[i], NULL, add, (void *)(i + 1)) == 0;
    for (int i = 0; ok && i < 4; i++)
        ok &= pthread_join(t[i], NULL) == 0;
    if (!ok || child_sum != 10)
        failed |= FORK_CREATE;
    if (pthread_mutex_trylock(&at_fork) != 0)
        failed |= FORK_LOCK;
    return failed;
}

static int fork_status;

/* Forks (the child runs forked_child) and waits; the raw status. */
static int fork_and_wait(void)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(forked_child());
    int status = -1;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return status;
}

static void *fork_here(void *arg)
{
    (void)arg;
    fork_status = fork_and_wait();
    return NULL;
}

static pthread_barrier_t hold;
static int survivors;

static void *stay(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&hold);
    pthread_barrier_wait(&hold);
    __atomic_fetch_add(&survivors, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void report_fork(const char *from, int status)
{
    char what[160];
    snprintf(what, sizeof what, "fork from %s: the child exits 0", from);
    CHECK(what, WIFEXITED(status));
    int bits = WIFEXITED(status) ? WEXITSTATUS(status) : 0xff;
    snprintf(what, sizeof what, "fork from %s: the child has the calling thread alone", from);
    CHECK(what, !(bits & FORK_THREADS));
    snprintf(what, sizeof what, "fork from %s: the child's thread is its first (tid = pid)", from);
    CHECK(what, !(bits & FORK_TID));
    snprintf(what, sizeof what, "fork from %s: the child starts and joins 4 threads", from);
    CHECK(what, !(bits & FORK_CREATE));
    snprintf(what, sizeof what, "fork from %s: a mutex free at fork is free in the child", from);
    CHECK(what, !(bits & FORK_LOCK));
}

static void forks(void)
{
    pthread_barrier_init(&hold, NULL, 4);
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        t[i] = start(stay, NULL);
    pthread_barrier_wait(&hold); /* three more threads are running */
    report_fork("the first of four threads", fork_and_wait());
    join(start(fork_here, NULL));
    report_fork("another thread", fork_status);
    pthread_barrier_wait(&hold);
    for (int i = 0; i < 3; i++)
        join(t[i]);
    CHECK_EQ("the parent's threads ran on after the forks", survivors, 3);
    pthread_barrier_destroy(&hold);
}

static pid_t forked_by_thread;
static pid_t parent_seen_by_thread;

static void *fork_only(void *arg)
{
    (void)arg;
    parent_seen_by_thread = getppid();
    forked_by_thread = fork();
    if (forked_by_thread == 0)
        _exit(9);
    return NULL;
}

static void wait_across_threads(void)
{
    join(start(fork_only, NULL));
    REQUIRE("fork in a thread", forked_by_thread > 0);
    int status;
    CHECK("waitpid in the first thread reaps a child another thread forked",
          waitpid(forked_by_thread, &status, 0) == forked_by_thread && WIFEXITED(status) &&
              WEXITSTATUS(status) == 9);
    CHECK("getppid in a thread is the process's parent", parent_seen_by_thread == getppid());
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--exec-check") == 0)
        return exec_check(argv);
    if (argc == 2 && strcmp(argv[1], "--leader-exits-first") == 0)
        return leader_exits_first();
    if (argc == 2 && strcmp(argv[1], "--all-pthread-exit") == 0)
        return all_pthread_exit();
    self_path = argv[0];
    watchdog();
    exits();
    exec();
    forks();
    wait_across_threads();
    return check_exit();
}
