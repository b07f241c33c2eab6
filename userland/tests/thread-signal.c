/*
 * thread-signal: signals in a process with threads. Thread-directed signals (pthread_kill,
 * raise, tgkill) reach their thread; a process-directed one (kill(getpid())) reaches the
 * one thread that does not block it, or a thread in sigwaitinfo; pending sets (shared and
 * per thread), masks per thread and inherited by new threads, handlers shared; tgkill's
 * errors. sigaltstack per thread: a SIGSEGV handler installed with SA_ONSTACK runs on the
 * alternate stack after unbounded recursion overflowed the stack, in the main thread and
 * in another thread (which starts without an alternate stack).
 */
#include "threads.h"

#include <sys/mman.h>
#include <sys/resource.h>

static volatile pid_t handled_by;
static volatile int handled_count;

static void on_signal(int sig)
{
    (void)sig;
    handled_by = thread_id();
    handled_count++;
}

static void handle(int sig)
{
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

static sigset_t only(int sig)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    return set;
}

static pthread_barrier_t ready, done;
static pid_t worker_tid[3];

/* Blocks nothing new: waits in sigsuspend with an empty mask until the handler ran. */
static void *suspend_until_handled(void *arg)
{
    long i = (long)arg;
    worker_tid[i] = thread_id();
    sigset_t none;
    sigemptyset(&none);
    pthread_barrier_wait(&ready);
    while (handled_count == 0)
        sigsuspend(&none);
    pthread_barrier_wait(&done);
    return NULL;
}

/* Keeps the inherited mask: waits for the end. */
static void *just_wait(void *arg)
{
    long i = (long)arg;
    worker_tid[i] = thread_id();
    pthread_barrier_wait(&ready);
    pthread_barrier_wait(&done);
    return NULL;
}

static void *raise_here(void *arg)
{
    long i = (long)arg;
    worker_tid[i] = thread_id();
    raise(SIGUSR2);
    return NULL;
}

static sigset_t seen_pending, seen_mask;
static int waited_sig, waited_code;
static pid_t waited_pid;

static void *pending_in_thread(void *arg)
{
    long i = (long)arg;
    worker_tid[i] = thread_id();
    pthread_sigmask(SIG_BLOCK, NULL, &seen_mask);
    pthread_barrier_wait(&ready);
    pthread_barrier_wait(&done); /* the signals have been sent */
    sigpending(&seen_pending);
    return NULL;
}

static void *wait_info(void *arg)
{
    (void)arg;
    sigset_t set = only(SIGUSR1);
    siginfo_t info;
    pthread_barrier_wait(&ready);
    waited_sig = sigwaitinfo(&set, &info);
    waited_code = info.si_code;
    waited_pid = info.si_pid;
    return NULL;
}

static void directed(void)
{
    handle(SIGUSR1);
    handle(SIGUSR2);

    /* pthread_kill: the handler runs in the target. */
    sigset_t block = only(SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &block, NULL);
    pthread_barrier_init(&ready, NULL, 2);
    pthread_barrier_init(&done, NULL, 2);
    handled_count = 0;
    pthread_t t = start(suspend_until_handled, (void *)0);
    pthread_barrier_wait(&ready);
    CHECK_EQ("pthread_kill with signal 0 to a live thread", pthread_kill(t, 0), 0);
    CHECK_EQ("pthread_kill SIGUSR1", pthread_kill(t, SIGUSR1), 0);
    pthread_barrier_wait(&done);
    join(t);
    CHECK("the handler ran once, in the target thread",
          handled_count == 1 && handled_by == worker_tid[0]);
    pthread_barrier_destroy(&ready);
    pthread_barrier_destroy(&done);

    /* kill(getpid()): only one of three threads (and not the main thread) takes it. */
    pthread_barrier_init(&ready, NULL, 4);
    pthread_barrier_init(&done, NULL, 4);
    handled_count = 0;
    pthread_t w[3];
    w[0] = start(just_wait, (void *)0);
    w[1] = start(suspend_until_handled, (void *)1);
    w[2] = start(just_wait, (void *)2);
    pthread_barrier_wait(&ready);
    CHECK_EQ("kill(getpid(), SIGUSR1) with SIGUSR1 blocked in all threads but one",
             kill(getpid(), SIGUSR1), 0);
    pthread_barrier_wait(&done);
    for (int i = 0; i < 3; i++)
        join(w[i]);
    CHECK("the one thread that does not block it ran the handler, once",
          handled_count == 1 && handled_by == worker_tid[1]);
    pthread_barrier_destroy(&ready);
    pthread_barrier_destroy(&done);

    /* sigwaitinfo in a thread takes a process-directed signal every thread blocks. */
    pthread_barrier_init(&ready, NULL, 2);
    handled_count = 0;
    t = start(wait_info, NULL);
    pthread_barrier_wait(&ready);
    kill(getpid(), SIGUSR1);
    join(t);
    CHECK("sigwaitinfo in a thread takes a signal sent to the process, blocked everywhere",
          waited_sig == SIGUSR1 && handled_count == 0);
    CHECK("its siginfo: SI_USER from this process", waited_code == SI_USER && waited_pid == getpid());
    pthread_barrier_destroy(&ready);

    /* raise() is thread-directed: the handler runs in the raising thread. */
    handled_count = 0;
    join(start(raise_here, (void *)2));
    CHECK("raise in a thread runs the handler in that thread",
          handled_count == 1 && handled_by == worker_tid[2]);

    /* Pending: a blocked process-directed signal shows in every thread, a thread-directed
     * one only in its thread. */
    sigset_t both = only(SIGUSR1);
    sigaddset(&both, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &both, NULL);
    pthread_barrier_init(&ready, NULL, 2);
    pthread_barrier_init(&done, NULL, 2);
    t = start(pending_in_thread, (void *)0);
    pthread_barrier_wait(&ready);
    kill(getpid(), SIGUSR1);
    pthread_kill(t, SIGUSR2);
    pthread_barrier_wait(&done);
    join(t);
    sigset_t mine;
    sigpending(&mine);
    CHECK("a new thread starts with its creator's signal mask",
          sigismember(&seen_mask, SIGUSR1) && sigismember(&seen_mask, SIGUSR2));
    CHECK("a blocked signal sent to the process is pending in every thread",
          sigismember(&mine, SIGUSR1) && sigismember(&seen_pending, SIGUSR1));
    CHECK("a blocked signal sent to a thread is pending in that thread only",
          sigismember(&seen_pending, SIGUSR2) && !sigismember(&mine, SIGUSR2));
    int sig = 0;
    sigset_t usr1 = only(SIGUSR1);
    CHECK("sigwait takes the process's pending signal", sigwait(&usr1, &sig) == 0 && sig == SIGUSR1);
    pthread_barrier_destroy(&ready);
    pthread_barrier_destroy(&done);

    CHECK_ERR("tgkill of a tid that does not exist -> ESRCH",
              syscall(SYS_tgkill, getpid(), 0x3fffffff, 0), ESRCH);
    CHECK_ERR("tgkill with tid 0 -> EINVAL", syscall(SYS_tgkill, getpid(), 0, 0), EINVAL);
    CHECK_ERR("tgkill with a bad signal -> EINVAL",
              syscall(SYS_tgkill, getpid(), thread_id(), 1000), EINVAL);
    CHECK_EQ("tkill of the calling thread with signal 0", syscall(SYS_tkill, thread_id(), 0), 0);
    pthread_sigmask(SIG_UNBLOCK, &both, NULL);
}

/* Unbounded recursion; the depth test only keeps the compiler from calling it infinite. */
static int recurse(int depth)
{
    volatile char frame[512];
    frame[0] = (char)depth;
    if (depth > 1 << 30)
        return 0;
    return recurse(depth + 1) + frame[0];
}

#define ALT_SIZE (64 * 1024)
static char *alt_base;

/* Exits 42 when running on the alternate stack, 43 otherwise (the process is done). */
static void on_overflow(int sig)
{
    (void)sig;
    char local;
    stack_t now;
    int on_alt = (uintptr_t)&local >= (uintptr_t)alt_base &&
                 (uintptr_t)&local < (uintptr_t)alt_base + ALT_SIZE;
    int flagged = sigaltstack(NULL, &now) == 0 && (now.ss_flags & SS_ONSTACK);
    _exit(on_alt && flagged ? 42 : 43);
}

/* Gives the calling thread its alternate stack and the SIGSEGV handler. */
static void use_alt_stack(void)
{
    alt_base = mmap(NULL, ALT_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    stack_t ss = {.ss_sp = alt_base, .ss_size = ALT_SIZE, .ss_flags = 0};
    if (alt_base == MAP_FAILED || sigaltstack(&ss, NULL) != 0)
        _exit(44);
    struct sigaction sa = {.sa_handler = on_overflow, .sa_flags = SA_ONSTACK};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
}

static int overflow_main_thread(void)
{
    /* A smaller stack limit only makes the overflow quicker. */
    struct rlimit lim = {1 << 20, 1 << 20};
    setrlimit(RLIMIT_STACK, &lim);
    use_alt_stack();
    return recurse(0) == 0 ? 45 : 46;
}

static int thread_alt_state;

static void *overflow_thread(void *arg)
{
    (void)arg;
    use_alt_stack();
    return (void *)(long)recurse(0);
}

static int overflow_other_thread(void)
{
    /* The main thread's own alternate stack must not be the one used. */
    static char main_alt[ALT_SIZE];
    stack_t ss = {.ss_sp = main_alt, .ss_size = ALT_SIZE, .ss_flags = 0};
    sigaltstack(&ss, NULL);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_t t;
    if (pthread_create(&t, &attr, overflow_thread, NULL) != 0)
        return 47;
    pthread_join(t, NULL);
    return 48;
}

static void alternate_stacks(void)
{
    int status = child_status(overflow_main_thread);
    CHECK_EQ("main thread: unbounded recursion, SIGSEGV handled on the alternate stack "
             "(SA_ONSTACK)",
             status, 42 << 8);
    status = child_status(overflow_other_thread);
    CHECK_EQ("another thread: the same on that thread's own alternate stack", status, 42 << 8);
}

static int *volatile nowhere; /* NULL, unknown to the compiler */

static void *fault(void *arg)
{
    (void)arg;
    *nowhere = 1;
    return NULL;
}

static int fault_in_thread(void)
{
    signal(SIGSEGV, SIG_DFL);
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    join(start(fault, NULL));
    return 0;
}

static void *alt_state(void *arg)
{
    (void)arg;
    stack_t old;
    thread_alt_state = sigaltstack(NULL, &old) == 0 && (old.ss_flags & SS_DISABLE);
    return NULL;
}

int main(void)
{
    watchdog();
    directed();
    static char alt[ALT_SIZE];
    stack_t ss = {.ss_sp = alt, .ss_size = ALT_SIZE, .ss_flags = 0};
    sigaltstack(&ss, NULL);
    join(start(alt_state, NULL));
    CHECK("a new thread has no alternate stack, though its creator has one", thread_alt_state);
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, NULL);
    alternate_stacks();
    int status = child_status(fault_in_thread);
    CHECK("a fault in a thread kills the whole process with SIGSEGV",
          WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
    return check_exit();
}
