/*
 * thread-cancel: how threads end early. pthread_cancel, deferred (a thread blocked in
 * read(), in pthread_cond_wait, looping on pthread_testcancel; cancellation disabled, then
 * enabled) and asynchronous (a thread in a loop without system calls: the C library's
 * cancellation signal must interrupt it); pthread_exit and cancellation running cleanup
 * handlers (last pushed first) and the destructors of thread-specific data
 * (pthread_key_create), in the thread that ends, cleanup handlers first.
 */
#include "threads.h"

static pthread_barrier_t started;

/* What the cleanup handlers and destructors saw, in order: one letter per call. */
static char trail[32];
static int trail_len;
static pid_t ran_in[8];

static void note(char c)
{
    if (trail_len < (int)sizeof trail - 1) {
        ran_in[trail_len % 8] = thread_id();
        trail[trail_len++] = c;
        trail[trail_len] = 0;
    }
}

static void reset_trail(void)
{
    trail_len = 0;
    trail[0] = 0;
}

static void cleanup(void *arg)
{
    note(*(const char *)arg);
}

static int pipe_fds[2];

static void *blocked_in_read(void *arg)
{
    (void)arg;
    char c;
    pthread_cleanup_push(cleanup, "r");
    pthread_barrier_wait(&started);
    ssize_t ignored = read(pipe_fds[0], &c, 1); /* nothing ever comes */
    (void)ignored;
    pthread_cleanup_pop(0);
    return (void *)1;
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;

static void unlock(void *arg)
{
    note('u');
    pthread_mutex_unlock(arg);
}

static void *blocked_in_cond_wait(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    pthread_cleanup_push(unlock, &lock);
    pthread_barrier_wait(&started);
    for (;;)
        pthread_cond_wait(&never, &lock);
    pthread_cleanup_pop(1);
    return (void *)1;
}

static volatile int stop;

static void *testing(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&started);
    while (!stop)
        pthread_testcancel();
    return (void *)1;
}

static pthread_barrier_t canceled_while_disabled;
static int ran_on;

static void *disabled_then_enabled(void *arg)
{
    (void)arg;
    int old = -1;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
    pthread_barrier_wait(&started);
    pthread_barrier_wait(&canceled_while_disabled); /* not a cancellation point */
    sleep_ms(1);                                    /* is one, but cancellation is off */
    ran_on = old == PTHREAD_CANCEL_ENABLE;
    pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
    pthread_testcancel();
    ran_on = 0; /* not reached */
    return (void *)1;
}

static volatile unsigned long spins;

/* Asynchronous cancellation from the start, so no barrier here: a thread canceled inside
 * pthread_barrier_wait would never leave it, and pthread_barrier_destroy waits for that. */
static void *spinning(void *arg)
{
    (void)arg;
    pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
    for (;;)
        spins++; /* no system call, no cancellation point */
    return (void *)1;
}

/* Cancels `spinning` once it spins; the value it ended with. */
static void *cancel_spinning(void)
{
    pthread_t t = start(spinning, NULL);
    while (spins == 0)
        sleep_ms(1);
    int r = pthread_cancel(t);
    if (r != 0)
        say("FAIL pthread_cancel: %s", errno_name(r));
    return join(t);
}

/* Starts fn, waits until it is running, cancels it; the value it ended with. */
static void *cancel(void *(*fn)(void *))
{
    pthread_barrier_init(&started, NULL, 2);
    pthread_t t = start(fn, NULL);
    pthread_barrier_wait(&started);
    int r = pthread_cancel(t);
    if (r != 0)
        say("FAIL pthread_cancel: %s", errno_name(r));
    void *ret = join(t);
    pthread_barrier_destroy(&started);
    return ret;
}

static void cancellation(void)
{
    REQUIRE("pipe", pipe(pipe_fds) == 0);
    reset_trail();
    CHECK("deferred: a thread blocked in read() ends PTHREAD_CANCELED",
          cancel(blocked_in_read) == PTHREAD_CANCELED);
    CHECK_STR("its cleanup handler ran", trail, "r");

    reset_trail();
    CHECK("deferred: a thread in pthread_cond_wait ends PTHREAD_CANCELED",
          cancel(blocked_in_cond_wait) == PTHREAD_CANCELED);
    CHECK_STR("its cleanup handler ran (with the mutex taken back)", trail, "u");
    CHECK_EQ("the handler unlocked the mutex", pthread_mutex_trylock(&lock), 0);
    pthread_mutex_unlock(&lock);

    CHECK("deferred: a thread looping on pthread_testcancel ends PTHREAD_CANCELED",
          cancel(testing) == PTHREAD_CANCELED);

    pthread_barrier_init(&canceled_while_disabled, NULL, 2);
    pthread_barrier_init(&started, NULL, 2);
    pthread_t t = start(disabled_then_enabled, NULL);
    pthread_barrier_wait(&started);
    CHECK_EQ("pthread_cancel of a thread with cancellation disabled", pthread_cancel(t), 0);
    pthread_barrier_wait(&canceled_while_disabled);
    CHECK("it ends PTHREAD_CANCELED once it enables cancellation", join(t) == PTHREAD_CANCELED);
    CHECK("it ran on while cancellation was disabled", ran_on);
    pthread_barrier_destroy(&started);
    pthread_barrier_destroy(&canceled_while_disabled);

    CHECK("asynchronous: a thread in a loop without system calls ends PTHREAD_CANCELED",
          cancel_spinning() == PTHREAD_CANCELED);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
}

static pthread_key_t key, other_key;
static int destructor_calls;
static void *destructor_value;

static void destructor(void *value)
{
    note('d');
    destructor_calls++;
    destructor_value = value;
    /* Set again once: the C library calls the destructor again. */
    if (destructor_calls == 1 && value == (void *)&key)
        pthread_setspecific(key, &other_key);
}

static pid_t exiting_tid;

static void *exits_with_handlers(void *arg)
{
    exiting_tid = thread_id();
    pthread_setspecific(key, arg);
    pthread_cleanup_push(cleanup, "A");
    pthread_cleanup_push(cleanup, "B");
    pthread_cleanup_push(cleanup, "C");
    pthread_cleanup_pop(1); /* runs C now */
    pthread_cleanup_push(cleanup, "X");
    pthread_cleanup_pop(0); /* X never runs */
    pthread_exit((void *)42);
    pthread_cleanup_pop(0);
    pthread_cleanup_pop(0);
    return NULL;
}

static void *returns_with_value(void *arg)
{
    exiting_tid = thread_id();
    pthread_setspecific(key, arg);
    return (void *)43;
}

static void *cleared_value(void *arg)
{
    pthread_setspecific(key, arg);
    pthread_setspecific(key, NULL);
    return NULL;
}

static void *canceled_with_value(void *arg)
{
    (void)arg;
    pthread_setspecific(key, &other_key);
    pthread_cleanup_push(cleanup, "c");
    pthread_barrier_wait(&started);
    for (;;)
        pause();
    pthread_cleanup_pop(0);
    return NULL;
}

static void exit_handlers(void)
{
    CHECK_EQ("pthread_key_create with a destructor", pthread_key_create(&key, destructor), 0);
    pthread_key_create(&other_key, NULL);

    reset_trail();
    pthread_t t = start(exits_with_handlers, &other_key);
    CHECK("pthread_exit's value reaches pthread_join", join(t) == (void *)42);
    CHECK_STR("pthread_cleanup_pop(1) ran its handler, pop(0) did not; pthread_exit ran the "
              "rest last pushed first, then the destructor",
              trail, "CBAd");
    int same = 1;
    for (int i = 0; i < trail_len; i++)
        same &= ran_in[i] == exiting_tid;
    CHECK("the handlers and the destructor ran in the exiting thread", same);
    CHECK("the destructor got the thread's value",
          destructor_calls == 1 && destructor_value == &other_key);

    reset_trail();
    destructor_calls = 0;
    join(start(returns_with_value, &key));
    CHECK_STR("returning from the thread's function runs the destructor, again when it sets "
              "the value again",
              trail, "dd");
    CHECK("the second call got the new value", destructor_calls == 2 && destructor_value == &other_key);

    reset_trail();
    join(start(cleared_value, &key));
    CHECK_STR("no destructor call for a value set back to NULL", trail, "");

    reset_trail();
    destructor_calls = 0;
    CHECK("a canceled thread ends PTHREAD_CANCELED", cancel(canceled_with_value) == PTHREAD_CANCELED);
    CHECK_STR("cancellation runs the cleanup handler, then the destructor", trail, "cd");
    CHECK("the main thread's value of the key is its own (NULL)", pthread_getspecific(key) == NULL);
    CHECK_EQ("pthread_key_delete", pthread_key_delete(key), 0);
    pthread_key_delete(other_key);
}

int main(void)
{
    watchdog();
    cancellation();
    exit_handlers();
    return check_exit();
}
