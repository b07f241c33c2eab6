/*
 * unshare: what tasks share and how they stop sharing it. A child cloned with CLONE_FILES
 * shares the descriptor table (its opens and closes are the parent's); unshare(CLONE_FILES)
 * and close_range(CLOSE_RANGE_UNSHARE) give it a copy of its own; execve copies a shared
 * table before closing the close-on-exec descriptors, so the parent keeps its own.
 * CLONE_FS shares the working directory and umask until unshare(CLONE_FS). In a process
 * with two threads unshare(CLONE_THREAD / CLONE_SIGHAND / CLONE_VM) is EINVAL, and a thread
 * that unshares its table opens files the other thread does not see. unshare(CLONE_SYSVSEM)
 * applies the caller's SEM_UNDO adjustments, as exit does (Linux 6.1, kernel/fork.c
 * ksys_unshare, fs/file.c __close_range, fs/exec.c begin_new_exec).
 *
 * Children report by exit status: 0 when every check of theirs passed, else the number of
 * the first that failed.
 */
#include "check.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/sem.h>

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static const char *self_path;
static int shared_fd;
static char stack[256 * 1024] __attribute__((aligned(16)));

static int is_open(int fd)
{
    return fcntl(fd, F_GETFD) >= 0;
}

static long close_range_call(unsigned first, unsigned last, unsigned flags)
{
    return syscall(SYS_close_range, first, last, flags);
}

/* Runs `fn` in a child cloned with `flags` (and SIGCHLD); returns its exit status or -1. */
static int run_clone(int (*fn)(void *), int flags)
{
    pid_t pid = clone(fn, stack + sizeof stack, flags | SIGCHLD, NULL);
    if (pid < 0)
        return -1;
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

static int opened_in_child = -1;

/* Shares the table: an open here is an open in the parent. */
static int child_opens(void *arg)
{
    (void)arg;
    opened_in_child = open("/", O_RDONLY);
    return opened_in_child >= 0 ? 0 : 1;
}

static int child_unshares_files(void *arg)
{
    (void)arg;
    if (syscall(SYS_unshare, CLONE_FILES) != 0)
        return 1;
    if (close(shared_fd) != 0) /* closes the child's copy only */
        return 2;
    return open("/", O_RDONLY) >= 0 ? 0 : 3;
}

static int child_close_range_unshare(void *arg)
{
    (void)arg;
    if (close_range_call(3, ~0U, CLOSE_RANGE_UNSHARE) != 0)
        return 1;
    return is_open(shared_fd) ? 2 : 0;
}

static int child_cloexec_unshare(void *arg)
{
    (void)arg;
    if (close_range_call(3, ~0U, CLOSE_RANGE_CLOEXEC | CLOSE_RANGE_UNSHARE) != 0)
        return 1;
    return fcntl(shared_fd, F_GETFD) == FD_CLOEXEC ? 0 : 2;
}

static int child_execs(void *arg)
{
    (void)arg;
    char *argv[] = {(char *)self_path, "exit-check", NULL};
    char *envp[] = {NULL};
    execve(self_path, argv, envp);
    return 1;
}

static int child_chdir(void *arg)
{
    (void)arg;
    return chdir("/") == 0 ? 0 : 1;
}

static int child_unshare_fs(void *arg)
{
    (void)arg;
    if (syscall(SYS_unshare, CLONE_FS) != 0)
        return 1;
    if (chdir("/") != 0)
        return 2;
    umask(077);
    return 0;
}

static void check_files(void)
{
    shared_fd = open("/", O_RDONLY);
    REQUIRE("open", shared_fd >= 0);

    CHECK_EQ("CLONE_FILES child opens", run_clone(child_opens, CLONE_VM | CLONE_FILES), 0);
    CHECK("its descriptor is the parent's", opened_in_child >= 0 && is_open(opened_in_child));
    close(opened_in_child);

    CHECK_EQ("unshare(CLONE_FILES) in a sharing child",
             run_clone(child_unshares_files, CLONE_FILES), 0);
    CHECK("the parent's descriptor stays open", is_open(shared_fd));

    CHECK_EQ("close_range UNSHARE in a sharing child",
             run_clone(child_close_range_unshare, CLONE_FILES), 0);
    CHECK("the parent keeps its descriptors", is_open(shared_fd));

    CHECK_EQ("close_range CLOEXEC|UNSHARE in a sharing child",
             run_clone(child_cloexec_unshare, CLONE_FILES), 0);
    CHECK_EQ("the parent's flags unchanged", fcntl(shared_fd, F_GETFD), 0);

    CHECK_OK("FD_CLOEXEC", fcntl(shared_fd, F_SETFD, FD_CLOEXEC));
    CHECK_EQ("execve in a sharing child", run_clone(child_execs, CLONE_FILES), 0);
    CHECK("the parent's close-on-exec descriptor stays open", is_open(shared_fd));

    CHECK_EQ("unshare(CLONE_FILES) alone", syscall(SYS_unshare, CLONE_FILES), 0);
    CHECK("nothing closed", is_open(shared_fd));
    close(shared_fd);
}

static void check_fs(void)
{
    scratch_dir("/tmp/unshare-test");
    REQUIRE("chdir", chdir("/tmp/unshare-test") == 0);
    char cwd[256];
    CHECK_EQ("CLONE_FS child chdir", run_clone(child_chdir, CLONE_FS), 0);
    CHECK_STR("the parent moved too", getcwd(cwd, sizeof cwd) ? cwd : "?", "/");
    REQUIRE("chdir back", chdir("/tmp/unshare-test") == 0);
    mode_t old = umask(022);
    CHECK_EQ("unshare(CLONE_FS) in a sharing child", run_clone(child_unshare_fs, CLONE_FS), 0);
    CHECK_STR("the parent stayed", getcwd(cwd, sizeof cwd) ? cwd : "?", "/tmp/unshare-test");
    CHECK_EQ("the parent's umask stayed", umask(old), 022);
    chdir("/");
    rmdir("/tmp/unshare-test");
}

static pthread_barrier_t barrier;
static int thread_fd = -1;
static long thread_errors[4];

static void *second_thread(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&barrier); /* the main thread checked the EINVAL cases */
    thread_errors[0] = syscall(SYS_unshare, CLONE_FILES);
    thread_fd = open("/", O_RDONLY);
    pthread_barrier_wait(&barrier);
    pthread_barrier_wait(&barrier); /* the main thread looked */
    return NULL;
}

static void check_threads(void)
{
    pthread_t thread;
    pthread_barrier_init(&barrier, NULL, 2);
    REQUIRE("pthread_create", pthread_create(&thread, NULL, second_thread, NULL) == 0);
    CHECK_ERR("unshare(CLONE_THREAD) with two threads", syscall(SYS_unshare, CLONE_THREAD),
              EINVAL);
    CHECK_ERR("unshare(CLONE_SIGHAND) with two threads", syscall(SYS_unshare, CLONE_SIGHAND),
              EINVAL);
    CHECK_ERR("unshare(CLONE_VM) with two threads", syscall(SYS_unshare, CLONE_VM), EINVAL);
    pthread_barrier_wait(&barrier);
    pthread_barrier_wait(&barrier);
    CHECK_EQ("the thread unshared its table", thread_errors[0], 0);
    CHECK("its open is not the main thread's", thread_fd >= 0 && !is_open(thread_fd));
    pthread_barrier_wait(&barrier);
    pthread_join(thread, NULL);
    /*
     * The joined thread may still be exiting (the kernel wakes pthread_join before the
     * thread leaves its group), so the single-threaded case is checked in a forked child.
     */
    pid_t child = fork();
    if (child == 0)
        _exit(syscall(SYS_unshare, CLONE_THREAD | CLONE_SIGHAND | CLONE_VM) == 0 ? 0 : 1);
    int status = -1;
    waitpid(child, &status, 0);
    CHECK("alone: unshare(CLONE_THREAD|CLONE_SIGHAND|CLONE_VM)",
          WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void check_sysvsem(void)
{
    int id = semget(IPC_PRIVATE, 1, 0600);
    REQUIRE("semget", id >= 0);
    struct sembuf up = {.sem_num = 0, .sem_op = 1, .sem_flg = SEM_UNDO};
    CHECK_OK("semop +1 with SEM_UNDO", semop(id, &up, 1));
    CHECK_EQ("value 1", semctl(id, 0, GETVAL), 1);
    CHECK_EQ("unshare(CLONE_SYSVSEM)", syscall(SYS_unshare, CLONE_SYSVSEM), 0);
    CHECK_EQ("the undo applied", semctl(id, 0, GETVAL), 0);
    semctl(id, 0, IPC_RMID);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "exit-check") == 0)
        return 0;
    self_path = "/proc/self/exe";
    static char path[4096];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    if (n > 0) {
        path[n] = 0;
        self_path = path;
    }
    CHECK_ERR("unshare of an unknown bit", syscall(SYS_unshare, 0x1), EINVAL);
    CHECK_EQ("unshare(0)", syscall(SYS_unshare, 0), 0);
    check_files();
    check_fs();
    /* Before any thread: threads share the undo list (CLONE_SYSVSEM), and unshare then
     * only drops the caller's reference to it. */
    check_sysvsem();
    check_threads();
    return check_exit();
}
