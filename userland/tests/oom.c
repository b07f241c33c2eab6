/*
 * oom: /proc/PID/oom_score_adj and /proc/PID/oom_score, and the OOM killer's choice by
 * them (Linux 6.1: fs/proc/base.c, oom_score_adj_write and proc_oom_score; mm/oom_kill.c,
 * oom_badness).
 *
 * oom_score_adj takes an integer from -1000 to 1000 (kstrtoint's syntax: white space around
 * it, 0x and 0 prefixes), EINVAL otherwise (ERANGE past an int); fork copies it, exec keeps
 * it. oom_score is the badness scaled to 0..2000: 0 for a process the killer never chooses
 * (init, oom_score_adj -1000), about 667 for a small process with 0, 1300 or more with 1000
 * (Linux in 128 MiB: 1300, the adjustment counting RAM in whole thousands of pages); only
 * such bounds are printed (the exact figure depends on the kernel's memory use). When
 * memory runs out, a small sleeping child with oom_score_adj 1000 is killed before the child
 * that holds the memory (adj 0), which goes next, and a child with -1000 that holds more
 * than the first survives.
 */
#include "check.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>

static const char *self_path;

/* Writes `text` to `path`: 0, or the errno of the open or the write. */
static int write_text(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return errno;
    ssize_t n = write(fd, text, strlen(text));
    int err = n < 0 ? errno : 0;
    close(fd);
    return err;
}

/* The number in `path`, or -99999 when it cannot be read. */
static long read_number(const char *path)
{
    char text[32] = {0};
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -99999;
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    return n > 0 ? strtol(text, NULL, 10) : -99999;
}

static int set_adj(const char *text)
{
    return write_text("/proc/self/oom_score_adj", text);
}

static long adj(void)
{
    return read_number("/proc/self/oom_score_adj");
}

static long score(void)
{
    return read_number("/proc/self/oom_score");
}

static void values(void)
{
    CHECK_EQ("a process's oom_score_adj starts at init's, 0", adj(), 0);
    CHECK_STR("write 500", errno_name(set_adj("500")), "0");
    CHECK_EQ("read back 500", adj(), 500);
    CHECK_STR("write -1000 (the minimum)", errno_name(set_adj("-1000")), "0");
    CHECK_EQ("read back -1000", adj(), -1000);
    CHECK_STR("write 1000 (the maximum)", errno_name(set_adj("1000")), "0");
    CHECK_EQ("read back 1000", adj(), 1000);
    CHECK_STR("white space around the number: \"  42\\n\"", errno_name(set_adj("  42\n")), "0");
    CHECK_EQ("read back 42", adj(), 42);
    CHECK_STR("a hexadecimal number: 0x10", errno_name(set_adj("0x10")), "0");
    CHECK_EQ("read back 16", adj(), 16);
    CHECK_STR("an octal number: -010", errno_name(set_adj("-010")), "0");
    CHECK_EQ("read back -8", adj(), -8);
    CHECK_STR("1001 -> EINVAL", errno_name(set_adj("1001")), "EINVAL");
    CHECK_STR("-1001 -> EINVAL", errno_name(set_adj("-1001")), "EINVAL");
    CHECK_STR("not a number -> EINVAL", errno_name(set_adj("abc")), "EINVAL");
    CHECK_STR("trailing garbage -> EINVAL", errno_name(set_adj("5x")), "EINVAL");
    CHECK_STR("past an int -> ERANGE", errno_name(set_adj("99999999999")), "ERANGE");
    CHECK_EQ("a refused write leaves the value", adj(), -8);

    CHECK_EQ("-1000: oom_score 0 (never chosen)", (set_adj("-1000"), score()), 0);
    long low = (set_adj("-500"), score());
    long zero = (set_adj("0"), score());
    long high = (set_adj("500"), score());
    long top = (set_adj("1000"), score());
    CHECK("0: oom_score from 666 to 1000 (a small process)", zero >= 666 && zero < 1000);
    CHECK("oom_score grows with oom_score_adj", low < zero && zero < high && high < top);
    CHECK("1000: oom_score from 1200 to 2000", top >= 1200 && top <= 2000);
    CHECK_EQ("init's oom_score is 0 (never chosen)", read_number("/proc/1/oom_score"), 0);
    set_adj("0");
}

static int child_keeps_adj(void)
{
    if (adj() != 321)
        return 1;
    /* exec keeps it: the program again, told to check. */
    execl(self_path, self_path, "--adj-is", "321", (char *)NULL);
    return 2;
}

static void inheritance(void)
{
    set_adj("321");
    int status = child_status(child_keeps_adj);
    CHECK("fork copies it, exec keeps it",
          WIFEXITED(status) && WEXITSTATUS(status) == 0);
    set_adj("0");
    /* Another process's, by its pid. */
    pid_t pid = fork();
    if (pid == 0) {
        pause();
        _exit(0);
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/oom_score_adj", (int)pid);
    CHECK_STR("write a child's by its pid", errno_name(write_text(path, "-7")), "0");
    CHECK_EQ("read it back", read_number(path), -7);
    CHECK_EQ("the parent's is its own", adj(), 0);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* A child that sets oom_score_adj `text`, touches `mib` MiB, says so on `ready`, sleeps. */
static pid_t sleeper(const char *text, int mib, int ready)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    set_adj(text);
    size_t len = (size_t)mib << 20;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (size_t at = 0; p != MAP_FAILED && at < len; at += 4096)
        p[at] = 1;
    if (write(ready, "x", 1) != 1)
        _exit(1);
    for (;;)
        pause();
}

/* Touches memory until killed, with oom_score_adj 0. */
static int exhaust(void)
{
    set_adj("0");
    return touch_memory_until_killed();
}

static void choice(void)
{
    set_adj("-1000"); /* never this one */
    int ready[2];
    REQUIRE("pipe", pipe(ready) == 0);
    pid_t kept = sleeper("-1000", 8, ready[1]);  /* holds more than `first` */
    pid_t first = sleeper("1000", 1, ready[1]);
    char byte[2];
    REQUIRE("both sleepers ready", read(ready[0], byte, 1) == 1 && read(ready[0], byte + 1, 1) == 1);
    pid_t hog = fork();
    if (hog == 0)
        _exit(exhaust());
    int status;
    CHECK("the sleeper with oom_score_adj 1000 is killed (SIGKILL)",
          waitpid(first, &status, 0) == first && WIFSIGNALED(status) &&
              WTERMSIG(status) == SIGKILL);
    CHECK("then the process that holds the memory (SIGKILL)",
          waitpid(hog, &status, 0) == hog && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    CHECK("the sleeper with oom_score_adj -1000 is alive",
          waitpid(kept, &status, WNOHANG) == 0 && kill(kept, 0) == 0);
    kill(kept, SIGKILL);
    waitpid(kept, NULL, 0);
    close(ready[0]);
    close(ready[1]);
    set_adj("0");
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--adj-is") == 0)
        return adj() == strtol(argv[2], NULL, 10) ? 0 : 3;
    self_path = argv[0];
    setrlimit(RLIMIT_CORE, &(struct rlimit){0, 0});
    values();
    inheritance();
    choice();
    return check_exit();
}
