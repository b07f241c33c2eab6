/*
 * thread-futex: futex(2) itself and the C library's objects that need more of it than a
 * plain wait and wake. Raw futex: a wrong value (EAGAIN), a bad address (EFAULT), relative
 * and absolute timeouts (ETIMEDOUT), wake counts, requeue; timeouts through the C library
 * (pthread_mutex_timedlock, pthread_cond_timedwait on both clocks) with a past deadline
 * and one 20 ms ahead; robust mutexes whose owner dies (a thread, a process: EOWNERDEAD,
 * pthread_mutex_consistent, ENOTRECOVERABLE); priority-inheritance mutexes (FUTEX_LOCK_PI,
 * FUTEX_UNLOCK_PI) uncontended, contended and timed.
 *
 * Timeouts are checked to have expired no earlier than their deadline, never for how
 * much later.
 */
#include "threads.h"

#include <limits.h>
#include <sys/mman.h>

#define SHORT_MS 20

static int word, word2;
static int wait_result[3];

/* One FUTEX_WAIT on `word` (value 0); records its result. */
static void *wait_once(void *arg)
{
    long i = (long)arg;
    errno = 0;
    long r = futex(&word, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 0, NULL, NULL, 0);
    wait_result[i] = r == 0 ? 0 : errno;
    return NULL;
}

static void raw_futex(void)
{
    int value = 1;
    CHECK_ERR("FUTEX_WAIT with a value that differs -> EAGAIN",
              futex(&value, FUTEX_WAIT, 0, NULL, NULL, 0), EAGAIN);
    CHECK_ERR("FUTEX_WAIT_PRIVATE with a value that differs -> EAGAIN",
              futex(&value, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 0, NULL, NULL, 0), EAGAIN);
    int *gone = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(gone, 4096);
    CHECK_ERR("FUTEX_WAIT on an unmapped address -> EFAULT",
              futex(gone, FUTEX_WAIT, 0, NULL, NULL, 0), EFAULT);
    CHECK_ERR("FUTEX_WAIT on a misaligned address -> EINVAL",
              futex((int *)((char *)&value + 1), FUTEX_WAIT, 0, NULL, NULL, 0), EINVAL);
    struct timespec rel = {0, SHORT_MS * 1000000};
    struct timespec after = deadline_ms(CLOCK_MONOTONIC, SHORT_MS);
    CHECK_ERR("FUTEX_WAIT with a 20 ms relative timeout -> ETIMEDOUT",
              futex(&value, FUTEX_WAIT, 1, &rel, NULL, 0), ETIMEDOUT);
    CHECK("and not before 20 ms passed", reached(CLOCK_MONOTONIC, after));
    struct timespec bad = {0, 1000000000};
    CHECK_ERR("FUTEX_WAIT with tv_nsec of a second -> EINVAL",
              futex(&value, FUTEX_WAIT, 1, &bad, NULL, 0), EINVAL);
    struct timespec past = {0, 1};
    CHECK_ERR("FUTEX_WAIT_BITSET with a past CLOCK_MONOTONIC deadline -> ETIMEDOUT",
              futex(&value, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, 1, &past, NULL,
                    FUTEX_BITSET_MATCH_ANY),
              ETIMEDOUT);
    struct timespec soon = deadline_ms(CLOCK_REALTIME, SHORT_MS);
    CHECK_ERR("FUTEX_WAIT_BITSET with FUTEX_CLOCK_REALTIME 20 ms ahead -> ETIMEDOUT",
              futex(&value, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME, 1,
                    &soon, NULL, FUTEX_BITSET_MATCH_ANY),
              ETIMEDOUT);
    CHECK("and not before its deadline", reached(CLOCK_REALTIME, soon));
    CHECK_ERR("FUTEX_WAIT_BITSET with an empty bitset -> EINVAL",
              futex(&value, FUTEX_WAIT_BITSET, 1, NULL, NULL, 0), EINVAL);
    CHECK_EQ("FUTEX_WAKE with nobody waiting returns 0",
             futex(&value, FUTEX_WAKE, INT_MAX, NULL, NULL, 0), 0);
    CHECK_ERR("an unknown futex operation -> ENOSYS", futex(&value, 99, 0, NULL, NULL, 0), ENOSYS);

    /* Three waiters. Requeueing them to word2 counts those already asleep without waking
     * them; once all three are there, the wakes below find exactly three. */
    pthread_t t[3];
    for (long i = 0; i < 3; i++)
        t[i] = start(wait_once, (void *)i);
    long moved = 0, most = 0;
    for (int tries = 0; moved < 3 && tries < 5000; tries++) {
        long r = futex(&word, FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG, 0,
                       (struct timespec *)(long)INT_MAX, &word2, 0);
        moved += r > 0 ? r : 0;
        most = r > most ? r : most;
        if (moved < 3)
            sleep_ms(1);
    }
    CHECK_EQ("FUTEX_CMP_REQUEUE moves the three waiters (none woken)", moved, 3);
    CHECK("no requeue counted more than there were", most <= 3);
    CHECK_ERR("FUTEX_CMP_REQUEUE with a value that differs -> EAGAIN",
              futex(&word, FUTEX_CMP_REQUEUE | FUTEX_PRIVATE_FLAG, 0, (struct timespec *)1L,
                    &word2, 5),
              EAGAIN);
    CHECK_EQ("FUTEX_WAKE of 2 with three waiting returns 2",
             futex(&word2, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 2, NULL, NULL, 0), 2);
    CHECK_EQ("then FUTEX_WAKE of all returns 1",
             futex(&word2, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, INT_MAX, NULL, NULL, 0), 1);
    for (int i = 0; i < 3; i++)
        join(t[i]);
    CHECK("each woken waiter's FUTEX_WAIT returned 0",
          wait_result[0] == 0 && wait_result[1] == 0 && wait_result[2] == 0);

    /* A shared (not private) futex in a MAP_SHARED page, woken by another process. */
    int *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    REQUIRE("a shared page", shared != MAP_FAILED);
    pid_t pid = fork();
    REQUIRE("fork", pid >= 0);
    if (pid == 0) {
        sleep_ms(10);
        __atomic_store_n(shared, 1, __ATOMIC_SEQ_CST);
        futex(shared, FUTEX_WAKE, 1, NULL, NULL, 0);
        _exit(0);
    }
    while (__atomic_load_n(shared, __ATOMIC_SEQ_CST) == 0)
        futex(shared, FUTEX_WAIT, 0, NULL, NULL, 0);
    int status;
    CHECK("a shared futex woken by another process",
          waitpid(pid, &status, 0) == pid && status == 0 && *shared == 1);
    munmap(shared, 4096);
}

static pthread_mutex_t plain = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t *timed_target;
static int timed_past, timed_soon, timed_soon_late;

/* Tries the held mutex `timed_target` with a past deadline and one 20 ms ahead. */
static void *try_timed(void *arg)
{
    (void)arg;
    struct timespec past = {1, 0};
    timed_past = pthread_mutex_timedlock(timed_target, &past);
    struct timespec soon = deadline_ms(CLOCK_REALTIME, SHORT_MS);
    timed_soon = pthread_mutex_timedlock(timed_target, &soon);
    timed_soon_late = reached(CLOCK_REALTIME, soon);
    return NULL;
}

static void library_timeouts(void)
{
    pthread_mutex_lock(&plain);
    timed_target = &plain;
    join(start(try_timed, NULL));
    CHECK_EQ("pthread_mutex_timedlock of a held mutex, past deadline -> ETIMEDOUT", timed_past,
             ETIMEDOUT);
    CHECK_EQ("pthread_mutex_timedlock 20 ms ahead -> ETIMEDOUT", timed_soon, ETIMEDOUT);
    CHECK("and not before its deadline", timed_soon_late);

    pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
    struct timespec past = {1, 0};
    CHECK_EQ("pthread_cond_timedwait with a past deadline -> ETIMEDOUT",
             pthread_cond_timedwait(&cond, &plain, &past), ETIMEDOUT);
    struct timespec soon = deadline_ms(CLOCK_REALTIME, SHORT_MS);
    CHECK_EQ("pthread_cond_timedwait 20 ms ahead -> ETIMEDOUT",
             pthread_cond_timedwait(&cond, &plain, &soon), ETIMEDOUT);
    CHECK("and not before its deadline", reached(CLOCK_REALTIME, soon));
    CHECK_EQ("the mutex is held again after the timeout", pthread_mutex_trylock(&plain), EBUSY);

    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    CHECK_EQ("pthread_condattr_setclock CLOCK_MONOTONIC",
             pthread_condattr_setclock(&attr, CLOCK_MONOTONIC), 0);
    pthread_cond_t mono;
    pthread_cond_init(&mono, &attr);
    soon = deadline_ms(CLOCK_MONOTONIC, SHORT_MS);
    CHECK_EQ("pthread_cond_timedwait on CLOCK_MONOTONIC 20 ms ahead -> ETIMEDOUT",
             pthread_cond_timedwait(&mono, &plain, &soon), ETIMEDOUT);
    CHECK("and not before its deadline", reached(CLOCK_MONOTONIC, soon));
    pthread_cond_destroy(&mono);
    pthread_condattr_destroy(&attr);
    pthread_mutex_unlock(&plain);
}

static pthread_mutex_t robust;

static void *lock_and_die(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&robust);
    return NULL; /* ends holding it */
}

static void init_robust(pthread_mutex_t *m, int pshared)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    if (pshared)
        pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(m, &attr);
    pthread_mutexattr_destroy(&attr);
}

static void robust_mutexes(void)
{
    init_robust(&robust, 0);
    join(start(lock_and_die, NULL));
    CHECK_EQ("a robust mutex whose owner thread ended -> EOWNERDEAD",
             pthread_mutex_lock(&robust), EOWNERDEAD);
    CHECK_EQ("pthread_mutex_consistent", pthread_mutex_consistent(&robust), 0);
    CHECK_EQ("unlock", pthread_mutex_unlock(&robust), 0);
    CHECK_EQ("then it locks normally", pthread_mutex_lock(&robust), 0);
    pthread_mutex_unlock(&robust);

    join(start(lock_and_die, NULL));
    CHECK_EQ("trylock of it after its owner ended -> EOWNERDEAD", pthread_mutex_trylock(&robust),
             EOWNERDEAD);
    pthread_mutex_unlock(&robust); /* not made consistent */
    CHECK_EQ("unlocked without pthread_mutex_consistent: lock -> ENOTRECOVERABLE",
             pthread_mutex_lock(&robust), ENOTRECOVERABLE);
    pthread_mutex_destroy(&robust);

    pthread_mutex_t *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    REQUIRE("a shared page", shared != MAP_FAILED);
    init_robust(shared, 1);
    pid_t pid = fork();
    REQUIRE("fork", pid >= 0);
    if (pid == 0) {
        pthread_mutex_lock(shared);
        _exit(0); /* ends holding it */
    }
    int status;
    waitpid(pid, &status, 0);
    CHECK_EQ("a shared robust mutex whose owner process exited -> EOWNERDEAD",
             pthread_mutex_lock(shared), EOWNERDEAD);
    CHECK_EQ("pthread_mutex_consistent", pthread_mutex_consistent(shared), 0);
    CHECK_EQ("unlock", pthread_mutex_unlock(shared), 0);
    munmap(shared, 4096);
}

static pthread_mutex_t pi;
static long pi_count;
static int pi_try, pi_timed;

static void *pi_contend(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2000; i++) {
        pthread_mutex_lock(&pi);
        long v = pi_count;
        if (i % 16 == 0)
            sched_yield(); /* the other thread then finds it held: FUTEX_LOCK_PI */
        pi_count = v + 1;
        pthread_mutex_unlock(&pi);
    }
    return NULL;
}

static void *pi_try_held(void *arg)
{
    (void)arg;
    pi_try = pthread_mutex_trylock(&pi);
    struct timespec soon = deadline_ms(CLOCK_REALTIME, SHORT_MS);
    pi_timed = pthread_mutex_timedlock(&pi, &soon);
    return NULL;
}

static void pi_mutexes(void)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    CHECK_EQ("pthread_mutexattr_setprotocol PTHREAD_PRIO_INHERIT",
             pthread_mutexattr_setprotocol(&attr, PTHREAD_PRIO_INHERIT), 0);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
    CHECK_EQ("a priority-inheritance mutex", pthread_mutex_init(&pi, &attr), 0);
    CHECK_EQ("lock, uncontended", pthread_mutex_lock(&pi), 0);
    CHECK_EQ("lock again by its owner -> EDEADLK", pthread_mutex_lock(&pi), EDEADLK);
    join(start(pi_try_held, NULL));
    CHECK_EQ("trylock from another thread -> EBUSY", pi_try, EBUSY);
    CHECK_EQ("timedlock 20 ms ahead from another thread -> ETIMEDOUT", pi_timed, ETIMEDOUT);
    CHECK_EQ("unlock", pthread_mutex_unlock(&pi), 0);
    CHECK_EQ("unlock again -> EPERM", pthread_mutex_unlock(&pi), EPERM);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        t[i] = start(pi_contend, NULL);
    for (int i = 0; i < 2; i++)
        join(t[i]);
    CHECK_EQ("contended by two threads: 2 x 2000 increments", pi_count, 4000);
    pthread_mutex_destroy(&pi);
    pthread_mutexattr_destroy(&attr);
}

int main(void)
{
    watchdog();
    raw_futex();
    library_timeouts();
    robust_mutexes();
    pi_mutexes();
    return check_exit();
}
