/*
 * thread-sync: the POSIX synchronization objects between threads, and between processes
 * through a MAP_SHARED page (the futexes then are shared, not private). Mutexes (normal,
 * error-checking, recursive), condition variables (a bounded queue, broadcast), read-write
 * locks (readers together, writers alone), barriers (one serial thread per cycle) and
 * unnamed semaphores (sem_init). Every count is exact: a lost wake-up hangs (the watchdog
 * reports it), a lost update shows in the totals.
 */
#include "threads.h"

#include <semaphore.h>
#include <sys/mman.h>

#define WORKERS 4
#define ROUNDS 5000

static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *count_up(void *arg)
{
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        pthread_mutex_lock(&counter_lock);
        long v = counter;
        if (i % 64 == 0)
            sched_yield(); /* let another thread find the mutex taken */
        counter = v + 1;
        pthread_mutex_unlock(&counter_lock);
    }
    return NULL;
}

static pthread_mutex_t held;
static int try_result, unlock_result;

static void *try_held(void *arg)
{
    (void)arg;
    try_result = pthread_mutex_trylock(&held);
    unlock_result = pthread_mutex_unlock(&held);
    return NULL;
}

static void mutexes(void)
{
    pthread_t t[WORKERS];
    for (int i = 0; i < WORKERS; i++)
        t[i] = start(count_up, NULL);
    for (int i = 0; i < WORKERS; i++)
        join(t[i]);
    CHECK_EQ("4 threads x 5000 increments under one mutex", counter, WORKERS * ROUNDS);

    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(&held, &attr);
    CHECK_EQ("error-checking mutex: lock", pthread_mutex_lock(&held), 0);
    CHECK_EQ("locking it again -> EDEADLK", pthread_mutex_lock(&held), EDEADLK);
    join(start(try_held, NULL));
    CHECK_EQ("trylock from another thread -> EBUSY", try_result, EBUSY);
    CHECK_EQ("unlock from another thread -> EPERM", unlock_result, EPERM);
    CHECK_EQ("unlock by its owner", pthread_mutex_unlock(&held), 0);
    pthread_mutex_destroy(&held);

    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&held, &attr);
    int twice = pthread_mutex_lock(&held) == 0 && pthread_mutex_lock(&held) == 0;
    CHECK("recursive mutex: locked twice by its owner", twice);
    join(start(try_held, NULL));
    CHECK_EQ("trylock from another thread -> EBUSY", try_result, EBUSY);
    pthread_mutex_unlock(&held);
    join(start(try_held, NULL));
    CHECK_EQ("still held after one unlock of two", try_result, EBUSY);
    pthread_mutex_unlock(&held);
    join(start(try_held, NULL));
    CHECK_EQ("free after the second unlock", try_result, 0);
    pthread_mutex_destroy(&held);
    pthread_mutexattr_destroy(&attr);
}

/* A bounded queue: producers wait while it is full, consumers while it is empty. */
#define SLOTS 4
#define ITEMS 1000
static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER, not_empty = PTHREAD_COND_INITIALIZER;
static int queue[SLOTS], queued, head;
static long consumed_sum, consumed_count;

static void *produce(void *arg)
{
    long base = (long)arg;
    for (int i = 1; i <= ITEMS; i++) {
        pthread_mutex_lock(&queue_lock);
        while (queued == SLOTS)
            pthread_cond_wait(&not_full, &queue_lock);
        queue[(head + queued++) % SLOTS] = (int)(base + i);
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&queue_lock);
    }
    return NULL;
}

static void *consume(void *arg)
{
    (void)arg;
    for (int i = 0; i < ITEMS; i++) {
        pthread_mutex_lock(&queue_lock);
        while (queued == 0)
            pthread_cond_wait(&not_empty, &queue_lock);
        consumed_sum += queue[head];
        consumed_count++;
        head = (head + 1) % SLOTS;
        queued--;
        pthread_cond_signal(&not_full);
        pthread_mutex_unlock(&queue_lock);
    }
    return NULL;
}

static int go, woken;
static pthread_cond_t go_cond = PTHREAD_COND_INITIALIZER;

static void *wait_for_go(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&queue_lock);
    while (!go)
        pthread_cond_wait(&go_cond, &queue_lock);
    woken++;
    pthread_mutex_unlock(&queue_lock);
    return NULL;
}

static void condition_variables(void)
{
    pthread_t p[2], c[2];
    for (long i = 0; i < 2; i++) {
        p[i] = start(produce, (void *)(i * 100000));
        c[i] = start(consume, NULL);
    }
    for (int i = 0; i < 2; i++) {
        join(p[i]);
        join(c[i]);
    }
    long want = 2L * ITEMS * (ITEMS + 1) / 2 + 100000L * ITEMS;
    CHECK_EQ("a bounded queue: every item consumed once", consumed_count, 2 * ITEMS);
    CHECK_EQ("a bounded queue: the sum of the items", consumed_sum, want);

    pthread_t w[WORKERS];
    for (int i = 0; i < WORKERS; i++)
        w[i] = start(wait_for_go, NULL);
    sleep_ms(20); /* most are waiting by now; the others find `go` set */
    pthread_mutex_lock(&queue_lock);
    go = 1;
    pthread_cond_broadcast(&go_cond);
    pthread_mutex_unlock(&queue_lock);
    for (int i = 0; i < WORKERS; i++)
        join(w[i]);
    CHECK_EQ("pthread_cond_broadcast wakes every waiter", woken, WORKERS);
}

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_barrier_t readers_in, readers_out;
static int reader_got[3];
static long shared_a, shared_b, writes, torn;

static void *reader(void *arg)
{
    long i = (long)arg;
    reader_got[i] = pthread_rwlock_rdlock(&rw);
    pthread_barrier_wait(&readers_in); /* reachable only if the readers hold it together */
    pthread_barrier_wait(&readers_out);
    pthread_rwlock_unlock(&rw);
    return NULL;
}

static void *mixed(void *arg)
{
    long i = (long)arg;
    for (int k = 0; k < 2000; k++) {
        if ((k + i) % 4 == 0) {
            pthread_rwlock_wrlock(&rw);
            long v = shared_a;
            shared_a = v + 1;
            if (k % 128 == 0)
                sched_yield(); /* readers find a write half done if they get in */
            shared_b = v + 1;
            writes++;
            pthread_rwlock_unlock(&rw);
        } else {
            pthread_rwlock_rdlock(&rw);
            if (shared_a != shared_b)
                __atomic_fetch_add(&torn, 1, __ATOMIC_SEQ_CST);
            pthread_rwlock_unlock(&rw);
        }
    }
    return NULL;
}

static int try_rd;

static void *try_read(void *arg)
{
    (void)arg;
    try_rd = pthread_rwlock_tryrdlock(&rw);
    if (try_rd == 0)
        pthread_rwlock_unlock(&rw);
    return NULL;
}

static void rwlocks(void)
{
    pthread_barrier_init(&readers_in, NULL, 4);
    pthread_barrier_init(&readers_out, NULL, 4);
    pthread_t r[3];
    for (long i = 0; i < 3; i++)
        r[i] = start(reader, (void *)i);
    pthread_barrier_wait(&readers_in);
    CHECK("three readers hold the lock at once",
          reader_got[0] == 0 && reader_got[1] == 0 && reader_got[2] == 0);
    CHECK_EQ("trywrlock while readers hold it -> EBUSY", pthread_rwlock_trywrlock(&rw), EBUSY);
    int rd = pthread_rwlock_tryrdlock(&rw);
    CHECK_EQ("tryrdlock while readers hold it", rd, 0);
    if (rd == 0)
        pthread_rwlock_unlock(&rw);
    pthread_barrier_wait(&readers_out);
    for (int i = 0; i < 3; i++)
        join(r[i]);
    pthread_barrier_destroy(&readers_in);
    pthread_barrier_destroy(&readers_out);

    CHECK_EQ("wrlock", pthread_rwlock_wrlock(&rw), 0);
    join(start(try_read, NULL));
    CHECK_EQ("tryrdlock from another thread while written -> EBUSY", try_rd, EBUSY);
    pthread_rwlock_unlock(&rw);
    join(start(try_read, NULL));
    CHECK_EQ("tryrdlock after the writer left", try_rd, 0);

    pthread_t m[WORKERS];
    for (long i = 0; i < WORKERS; i++)
        m[i] = start(mixed, (void *)i);
    for (int i = 0; i < WORKERS; i++)
        join(m[i]);
    CHECK_EQ("readers and writers mixed: every write counted", writes, WORKERS * 2000 / 4);
    CHECK_EQ("readers and writers mixed: no write lost", shared_a, writes);
    CHECK_EQ("readers and writers mixed: no reader saw a write half done", torn, 0);
}

#define CYCLES 50
static pthread_barrier_t cycle;
static int serial[CYCLES], phase[WORKERS], phase_seen_ok[WORKERS];

static void *cycle_through(void *arg)
{
    long i = (long)arg;
    int ok = 1;
    for (int c = 0; c < CYCLES; c++) {
        phase[i] = c;
        int r = pthread_barrier_wait(&cycle);
        if (r == PTHREAD_BARRIER_SERIAL_THREAD)
            __atomic_fetch_add(&serial[c], 1, __ATOMIC_SEQ_CST);
        else if (r != 0)
            ok = 0;
        for (int k = 0; k < WORKERS; k++) /* everyone has reached cycle c */
            ok &= phase[k] >= c;
        pthread_barrier_wait(&cycle); /* nobody starts c + 1 before all have looked */
    }
    phase_seen_ok[i] = ok;
    return NULL;
}

static void barriers(void)
{
    pthread_barrier_init(&cycle, NULL, WORKERS);
    pthread_t t[WORKERS];
    for (long i = 0; i < WORKERS; i++)
        t[i] = start(cycle_through, (void *)i);
    for (int i = 0; i < WORKERS; i++)
        join(t[i]);
    pthread_barrier_destroy(&cycle);
    int one_each = 1, seen = 1;
    for (int c = 0; c < CYCLES; c++)
        one_each &= serial[c] == 1;
    for (int i = 0; i < WORKERS; i++)
        seen &= phase_seen_ok[i];
    CHECK("a barrier returns PTHREAD_BARRIER_SERIAL_THREAD to one thread per cycle", one_each);
    CHECK("nobody passes a barrier before every thread reached it", seen);
}

static sem_t items, space;
static long sem_sum;

static void *sem_consumer(void *arg)
{
    (void)arg;
    for (int i = 1; i <= ITEMS; i++) {
        while (sem_wait(&items) != 0 && errno == EINTR)
            ;
        sem_sum += i;
        sem_post(&space);
    }
    return NULL;
}

static void semaphores(void)
{
    CHECK_EQ("sem_init (unnamed, shared between threads)", sem_init(&items, 0, 0), 0);
    sem_init(&space, 0, 1);
    pthread_t t = start(sem_consumer, NULL);
    for (int i = 1; i <= ITEMS; i++) {
        while (sem_wait(&space) != 0 && errno == EINTR)
            ;
        sem_post(&items);
    }
    join(t);
    CHECK_EQ("1000 posts and waits handed over one by one", sem_sum, (long)ITEMS * (ITEMS + 1) / 2);
    int v = -1;
    sem_getvalue(&items, &v);
    CHECK_EQ("sem_getvalue after as many waits as posts", v, 0);
    CHECK_ERR("sem_trywait at 0 -> EAGAIN", sem_trywait(&items), EAGAIN);
    struct timespec past = {1, 0};
    CHECK_ERR("sem_timedwait with a past deadline -> ETIMEDOUT", sem_timedwait(&items, &past),
              ETIMEDOUT);
    struct timespec soon = deadline_ms(CLOCK_REALTIME, 20);
    CHECK_ERR("sem_timedwait 20 ms ahead -> ETIMEDOUT", sem_timedwait(&items, &soon), ETIMEDOUT);
    CHECK("and not before its deadline", reached(CLOCK_REALTIME, soon));
    sem_post(&items);
    sem_post(&items);
    sem_getvalue(&items, &v);
    CHECK_EQ("two posts: value 2", v, 2);
    sem_destroy(&items);
    sem_destroy(&space);
}

/* Objects in a MAP_SHARED page, used by a parent and its child. */
struct shared {
    sem_t to_child, to_parent;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int turn;
    long total;
};

static void between_processes(void)
{
    struct shared *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                            -1, 0);
    REQUIRE("a shared page", s != MAP_FAILED);
    CHECK_EQ("sem_init with pshared 1", sem_init(&s->to_child, 1, 0), 0);
    sem_init(&s->to_parent, 1, 0);
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    CHECK_EQ("PTHREAD_PROCESS_SHARED mutex attribute",
             pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED), 0);
    pthread_mutex_init(&s->lock, &ma);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
    pthread_cond_init(&s->changed, &ca);

    pid_t pid = fork();
    REQUIRE("fork", pid >= 0);
    if (pid == 0) {
        for (int i = 0; i < 100; i++) {
            sem_wait(&s->to_child);
            s->total += 2;
            sem_post(&s->to_parent);
        }
        for (int i = 0; i < 100; i++) {
            pthread_mutex_lock(&s->lock);
            while (s->turn != 1)
                pthread_cond_wait(&s->changed, &s->lock);
            s->total += 3;
            s->turn = 0;
            pthread_cond_signal(&s->changed);
            pthread_mutex_unlock(&s->lock);
        }
        _exit(0);
    }
    for (int i = 0; i < 100; i++) {
        sem_post(&s->to_child);
        sem_wait(&s->to_parent);
        s->total += 1;
    }
    CHECK_EQ("a semaphore pair between two processes: 100 round trips", s->total, 300);
    for (int i = 0; i < 100; i++) {
        pthread_mutex_lock(&s->lock);
        s->turn = 1;
        pthread_cond_signal(&s->changed);
        while (s->turn != 0)
            pthread_cond_wait(&s->changed, &s->lock);
        pthread_mutex_unlock(&s->lock);
    }
    CHECK_EQ("a shared mutex and condition variable: 100 turns each way", s->total, 600);
    int status;
    CHECK("the child exited 0", waitpid(pid, &status, 0) == pid && status == 0);
    munmap(s, sizeof *s);
}

int main(void)
{
    watchdog();
    mutexes();
    condition_variables();
    rwlocks();
    barriers();
    semaphores();
    between_processes();
    return check_exit();
}
