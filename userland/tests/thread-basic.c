/*
 * thread-basic: threads of one process. pthread_create and pthread_join of 100 threads
 * (one after another and all alive at once), ids (getpid shared, gettid distinct),
 * thread-local storage (__thread, C11 _Thread_local, errno), the thread list in /proc
 * (/proc/self/task, the "Threads:" line of /proc/self/status), sched_getaffinity, names
 * per thread (prctl PR_SET_NAME / PR_GET_NAME) and membarrier.
 */
#include "threads.h"

#include <sched.h>
#include <stdatomic.h>
#include <sys/prctl.h>

#define MANY 100
/* Threads kept alive while /proc, affinity and names are looked at. */
#define FEW 4

/* membarrier(2)'s query command (Linux's include/uapi/linux/membarrier.h). */
#define MEMBARRIER_CMD_QUERY 0

static pthread_barrier_t all_alive;

/* What each of the MANY threads saw. */
static struct seen {
    long arg;
    pid_t pid, tid;
} seen[MANY];

static void *record(void *arg)
{
    long i = (long)arg;
    seen[i].arg = i;
    seen[i].pid = getpid();
    seen[i].tid = thread_id();
    return (void *)(i * 3 + 1);
}

static void *record_alive(void *arg)
{
    void *ret = record(arg);
    pthread_barrier_wait(&all_alive); /* every thread is alive at once here */
    return ret;
}

static void create_and_join(void)
{
    int created = 0, returned = 0, own_arg = 0;
    for (long i = 0; i < MANY; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, record, (void *)i) != 0)
            continue;
        created++;
        void *ret = NULL;
        returned += pthread_join(t, &ret) == 0 && ret == (void *)(i * 3 + 1);
        own_arg += seen[i].arg == i;
    }
    CHECK_EQ("100 threads created one after another", created, MANY);
    CHECK_EQ("pthread_join returns each one's value", returned, MANY);
    CHECK_EQ("each ran with its own argument", own_arg, MANY);

    memset(seen, 0, sizeof seen);
    pthread_barrier_init(&all_alive, NULL, MANY);
    pthread_t threads[MANY];
    created = 0;
    int error = 0;
    for (long i = 0; i < MANY && !error; i++) {
        error = pthread_create(&threads[i], NULL, record_alive, (void *)i);
        created += error == 0;
    }
    CHECK_EQ("100 threads alive at once (default attributes)", created, MANY);
    errno = error;
    REQUIRE("every thread created", created == MANY);
    returned = 0;
    for (long i = 0; i < MANY; i++)
        returned += join(threads[i]) == (void *)(i * 3 + 1);
    CHECK_EQ("pthread_join returns each one's value", returned, MANY);
    pthread_barrier_destroy(&all_alive);

    int same_pid = 1, distinct = 1, not_pid = 1;
    for (int i = 0; i < MANY; i++) {
        same_pid &= seen[i].pid == getpid();
        not_pid &= seen[i].tid != getpid() && seen[i].tid > 0;
        for (int j = 0; j < i; j++)
            distinct &= seen[i].tid != seen[j].tid;
    }
    CHECK("getpid is the same in every thread", same_pid);
    CHECK("gettid differs from the pid in every other thread", not_pid);
    CHECK("gettid is distinct among threads alive at once", distinct);
    CHECK("the main thread's tid is the pid", thread_id() == getpid());
    CHECK("pthread_self of the main thread equals itself",
          pthread_equal(pthread_self(), pthread_self()));
}

static __thread int gnu_tls = 7;
static _Thread_local long c11_tls = 11;
static __thread char zero_tls[4096];

static struct tls_seen {
    int initial_ok, kept, errno_kept;
    uintptr_t gnu_addr, c11_addr;
} tls_seen[FEW];
static pthread_barrier_t tls_written;

static void *use_tls(void *arg)
{
    long i = (long)arg;
    int zero = 1;
    for (size_t k = 0; k < sizeof zero_tls; k++)
        zero &= zero_tls[k] == 0;
    tls_seen[i].initial_ok = gnu_tls == 7 && c11_tls == 11 && zero;
    gnu_tls = 100 + i;
    c11_tls = 200 + i;
    memset(zero_tls, (int)i + 1, sizeof zero_tls);
    errno = 300 + i;
    tls_seen[i].gnu_addr = (uintptr_t)&gnu_tls;
    tls_seen[i].c11_addr = (uintptr_t)&c11_tls;
    pthread_barrier_wait(&tls_written); /* every thread has written its own */
    tls_seen[i].kept = gnu_tls == 100 + i && c11_tls == 200 + i &&
                       zero_tls[0] == (char)(i + 1) && zero_tls[sizeof zero_tls - 1] == (char)(i + 1);
    tls_seen[i].errno_kept = errno == 300 + i;
    return NULL;
}

static void thread_local_storage(void)
{
    gnu_tls = 70;
    c11_tls = 110;
    pthread_barrier_init(&tls_written, NULL, FEW);
    pthread_t t[FEW];
    for (long i = 0; i < FEW; i++)
        t[i] = start(use_tls, (void *)i);
    for (int i = 0; i < FEW; i++)
        join(t[i]);
    pthread_barrier_destroy(&tls_written);
    int initial = 1, kept = 1, errnos = 1, distinct = 1;
    for (int i = 0; i < FEW; i++) {
        initial &= tls_seen[i].initial_ok;
        kept &= tls_seen[i].kept;
        errnos &= tls_seen[i].errno_kept;
        distinct &= tls_seen[i].gnu_addr != (uintptr_t)&gnu_tls &&
                    tls_seen[i].c11_addr != (uintptr_t)&c11_tls;
        for (int j = 0; j < i; j++)
            distinct &= tls_seen[i].gnu_addr != tls_seen[j].gnu_addr &&
                        tls_seen[i].c11_addr != tls_seen[j].c11_addr;
    }
    CHECK("a new thread starts with the initial __thread, _Thread_local and zeroed values",
          initial);
    CHECK("each thread keeps its own values after all have written theirs", kept);
    CHECK("errno is per thread", errnos);
    CHECK("each thread's variables are at addresses of its own", distinct);
    CHECK("the main thread's values are untouched", gnu_tls == 70 && c11_tls == 110);
}

/* FEW threads that wait on `release` after recording their id, affinity and names. */
static pthread_barrier_t ready, release;
static struct alive {
    pid_t tid;
    int affinity_ok, inherited_name, name_set;
} alive[FEW];

static void *stay_alive(void *arg)
{
    long i = (long)arg;
    alive[i].tid = thread_id();
    cpu_set_t set;
    CPU_ZERO(&set);
    alive[i].affinity_ok = sched_getaffinity(0, sizeof set, &set) == 0 && CPU_ISSET(0, &set);
    char name[16] = "", want[16];
    prctl(PR_GET_NAME, name);
    alive[i].inherited_name = strcmp(name, "main-thread") == 0;
    snprintf(want, sizeof want, "worker-%ld", i);
    prctl(PR_SET_NAME, want);
    memset(name, 0, sizeof name);
    prctl(PR_GET_NAME, name);
    alive[i].name_set = strcmp(name, want) == 0;
    pthread_barrier_wait(&ready);
    pthread_barrier_wait(&release);
    return NULL;
}

/* The contents of /proc/self/task/TID/comm without its newline, into `out`. */
static void comm_of(pid_t tid, char *out, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/comm", (int)tid);
    out[0] = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return;
    ssize_t n = read(fd, out, size - 1);
    close(fd);
    out[n > 0 ? n : 0] = 0;
    char *nl = strchr(out, '\n');
    if (nl)
        *nl = 0;
}

static void proc_and_names(const char *argv0)
{
    /* Linux names a process after the base name of the file it executed, cut to 15 bytes. */
    const char *base = strrchr(argv0, '/') ? strrchr(argv0, '/') + 1 : argv0;
    char name[16] = "", want[16];
    snprintf(want, sizeof want, "%s", base);
    prctl(PR_GET_NAME, name);
    CHECK_STR("the main thread's name is the program's file name (15 bytes at most)", name,
              want);
    CHECK_EQ("PR_SET_NAME in the main thread", prctl(PR_SET_NAME, "main-thread"), 0);

    /* The threads joined above may still be leaving (see settle_tasks). */
    CHECK_EQ("/proc/self/task lists the main thread alone", settle_tasks(1), 1);
    CHECK_EQ("/proc/self/status Threads: 1", status_threads(), 1);
    pthread_barrier_init(&ready, NULL, FEW + 1);
    pthread_barrier_init(&release, NULL, FEW + 1);
    pthread_t t[FEW];
    for (long i = 0; i < FEW; i++)
        t[i] = start(stay_alive, (void *)i);
    pthread_barrier_wait(&ready);

    pid_t tids[FEW + 8];
    int n = task_list(tids, FEW + 8);
    CHECK_EQ("/proc/self/task lists every thread", n, FEW + 1);
    int listed = 1;
    for (int i = -1; i < FEW; i++) {
        pid_t want_tid = i < 0 ? getpid() : alive[i].tid;
        int found = 0;
        for (int k = 0; k < n && k < FEW + 8; k++)
            found |= tids[k] == want_tid;
        listed &= found;
    }
    CHECK("/proc/self/task has each thread's tid, the main thread's being the pid", listed);
    CHECK_EQ("/proc/self/status Threads: counts every thread", status_threads(), FEW + 1);

    int affinity = 1, inherited = 1, set = 1, comm = 1;
    for (int i = 0; i < FEW; i++) {
        affinity &= alive[i].affinity_ok;
        inherited &= alive[i].inherited_name;
        set &= alive[i].name_set;
        char c[32], w[16];
        comm_of(alive[i].tid, c, sizeof c);
        snprintf(w, sizeof w, "worker-%d", i);
        comm &= strcmp(c, w) == 0;
    }
    CHECK("sched_getaffinity in each thread includes CPU 0", affinity);
    CHECK("a new thread starts with its creator's name", inherited);
    CHECK("PR_SET_NAME then PR_GET_NAME in each thread gives its own name", set);
    CHECK("/proc/self/task/TID/comm shows each thread's name", comm);
    memset(name, 0, sizeof name);
    prctl(PR_GET_NAME, name);
    CHECK_STR("the main thread keeps its name", name, "main-thread");

    pthread_barrier_wait(&release);
    for (int i = 0; i < FEW; i++)
        join(t[i]);
    pthread_barrier_destroy(&ready);
    pthread_barrier_destroy(&release);
    CHECK_EQ("/proc/self/task lists one thread again after the joins", settle_tasks(1), 1);
    CHECK_EQ("/proc/self/status Threads: 1 again", status_threads(), 1);
}

static void affinity(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CHECK_EQ("sched_getaffinity", sched_getaffinity(0, sizeof set, &set), 0);
    CHECK("the mask includes CPU 0", CPU_ISSET(0, &set));
    long size = syscall(SYS_sched_getaffinity, 0, sizeof set, &set);
    CHECK("the raw call returns the mask's size in bytes, a multiple of 8",
          size > 0 && size % 8 == 0 && size <= (long)sizeof set);
    int first = 0; /* the lowest CPU allowed: 0 in the guests, where nothing pins the tests */
    while (first < CPU_SETSIZE - 1 && !CPU_ISSET(first, &set))
        first++;
    CPU_ZERO(&set);
    CPU_SET(first, &set);
    CHECK_EQ("sched_setaffinity to the first CPU alone", sched_setaffinity(0, sizeof set, &set),
             0);
    CPU_ZERO(&set);
    sched_getaffinity(0, sizeof set, &set);
    CHECK("then the mask is that CPU alone", CPU_ISSET(first, &set) && CPU_COUNT(&set) == 1);
    CHECK_ERR("sched_getaffinity of no such thread -> ESRCH",
              syscall(SYS_sched_getaffinity, 0x3fffffff, sizeof set, &set), ESRCH);
    /* The length is an unsigned int (kernel/sched/core.c): 1<<32 is 0. */
    CHECK_ERR("sched_getaffinity with a length of 1<<32 -> EINVAL",
              syscall(SYS_sched_getaffinity, 0, 1L << 32, &set), EINVAL);
    CHECK_ERR("sched_setaffinity with a length of 1<<32: an empty mask -> EINVAL",
              syscall(SYS_sched_setaffinity, 0, 1L << 32, &set), EINVAL);
    CHECK_ERR("sched_setaffinity reads the mask before finding the thread -> EFAULT",
              syscall(SYS_sched_setaffinity, 0x3fffffff, sizeof set, NULL), EFAULT);
}

static void membarrier_query(void)
{
    errno = 0;
    long r = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    CHECK("membarrier(MEMBARRIER_CMD_QUERY) is implemented (not ENOSYS)",
          r >= 0 || errno != ENOSYS);
    /* Which commands a kernel offers may differ; whether the query succeeds may not. */
    say("membarrier query %s", r >= 0 ? "succeeded" : "failed");
}

int main(int argc, char **argv)
{
    (void)argc;
    watchdog();
    create_and_join();
    thread_local_storage();
    proc_and_names(argv[0]);
    affinity();
    membarrier_query();
    return check_exit();
}
