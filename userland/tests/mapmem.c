/*
 * mapmem: memory comes back when the last mapping of it goes. The private copies of a
 * 4 MiB file mapping after munmap, and after a child that made them exits; an unlinked
 * file's data and cached pages after munmap and close, and after close and munmap. Works in
 * /tmp/t-mapmem.
 *
 * Free memory is sysinfo()'s freeram, which no check prints (it differs between kernels and
 * runs). Linux keeps some freed pages in per-CPU lists that freeram does not count, so a
 * measurement can be off by up to their limit (Linux 6.1 with 128 MiB loses about 0.9 MiB
 * here, however many rounds run). Each case therefore runs several rounds (ROUNDS,
 * FILE_ROUNDS): the loss allowed after all of them (SLACK) is a fixed amount while a leak
 * grows with every round, and even one round's 4 MiB not coming back exceeds it. A check
 * that the memory is taken at all (at least TAKEN while mapped: Linux shows the whole
 * 4 MiB) shows that the measurement sees it. The rounds are few because the baseline config
 * under a loaded host takes several seconds per round, and the runner allows 60 s.
 * Compiled with -DMAPMEM_NUMBERS, it also prints the measurements, to recheck these limits.
 */
#include "check.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>

#define PAGE 4096
#define MIB (1024L * 1024)
#define SIZE (4 * MIB)
#define ROUNDS 3
#define FILE_ROUNDS 2
#define SLACK (2 * MIB)
#define TAKEN (2 * MIB)

static long free_bytes(void)
{
    struct sysinfo si;
    if (sysinfo(&si) != 0)
        return -1;
    return (long)si.freeram * si.mem_unit;
}

/* A new file of SIZE bytes, every byte 'f', open read-write. */
static int make_file(const char *name)
{
    int fd = open(name, O_CREAT | O_RDWR | O_TRUNC, 0644);
    REQUIRE("file created", fd >= 0);
    static char chunk[64 * 1024];
    memset(chunk, 'f', sizeof chunk);
    for (long at = 0; at < SIZE; at += sizeof chunk)
        REQUIRE("file filled", pwrite(fd, chunk, sizeof chunk, at) == sizeof chunk);
    return fd;
}

/* Maps `fd` privately and stores into every page: SIZE bytes of private copies. */
static volatile char *touch_private(int fd)
{
    volatile char *p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    REQUIRE("mmap private", p != MAP_FAILED);
    for (long at = 0; at < SIZE; at += PAGE)
        p[at] = 'p';
    return p;
}

/* One line each: whether the memory was taken, and whether it all came back. */
static void report(const char *what, int rounds, long before, long mapped, long after)
{
#ifdef MAPMEM_NUMBERS
    say("%s: KiB before %ld mapped %ld after %ld", what, before / 1024, mapped / 1024,
        after / 1024);
#endif
    char line[160];
    snprintf(line, sizeof line, "%s: taken while mapped", what);
    CHECK(line, before - mapped >= TAKEN);
    snprintf(line, sizeof line, "%s: returned after %d rounds", what, rounds);
    CHECK(line, after >= before - SLACK);
}

static void private_copies(void)
{
    int fd = make_file("private");
    long before = free_bytes(), mapped = 0;
    for (int round = 0; round < ROUNDS; round++) {
        volatile char *p = touch_private(fd);
        if (round == 0)
            mapped = free_bytes();
        munmap((void *)p, SIZE);
    }
    report("private copies after munmap", ROUNDS, before, mapped, free_bytes());
    close(fd);
}

static void private_copies_in_child(void)
{
    int fd = make_file("child");
    long before = free_bytes(), mapped = 0;
    for (int round = 0; round < ROUNDS; round++) {
        int ready[2], done[2];
        REQUIRE("pipes", pipe(ready) == 0 && pipe(done) == 0);
        pid_t pid = fork();
        if (pid == 0) {
            touch_private(fd);
            char c;
            write(ready[1], "r", 1);
            read(done[0], &c, 1);
            _exit(0);
        }
        char c;
        read(ready[0], &c, 1);
        if (round == 0)
            mapped = free_bytes();
        write(done[1], "d", 1);
        waitpid(pid, NULL, 0);
        close(ready[0]), close(ready[1]), close(done[0]), close(done[1]);
    }
    report("a child's private copies after it exits", ROUNDS, before, mapped, free_bytes());
    close(fd);
}

/*
 * The file's data and its cached pages go with the last reference: a shared mapping stored
 * into every page, a private one read in every page (on Linux both map the cached pages).
 * The last reference is the open file (unmapped first) or the mappings (closed first).
 */
static void unlinked_file(int close_first)
{
    long before = free_bytes(), mapped = 0;
    int works = 1;
    for (int round = 0; round < FILE_ROUNDS; round++) {
        int fd = make_file("unlinked");
        volatile char *s = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        REQUIRE("mmap shared", s != MAP_FAILED);
        for (long at = 0; at < SIZE; at += PAGE)
            s[at] = 's';
        volatile char *p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        REQUIRE("mmap private", p != MAP_FAILED);
        for (long at = 0; at < SIZE; at += PAGE)
            works &= p[at] == 's';
        if (round == 0)
            mapped = free_bytes();
        REQUIRE("unlink", unlink("unlinked") == 0);
        if (close_first)
            close(fd);
        works &= s[PAGE] == 's' && p[PAGE] == 's';
        munmap((void *)s, SIZE);
        munmap((void *)p, SIZE);
        if (!close_first)
            close(fd);
    }
    long after = free_bytes();
    CHECK("an unlinked file's mappings keep working", works);
    report(close_first ? "an unlinked file after close and munmap"
                       : "an unlinked file after munmap and close",
           FILE_ROUNDS, before, mapped, after);
}

int main(void)
{
    scratch_dir("/tmp/t-mapmem");
    REQUIRE("sysinfo", free_bytes() > 0);
    private_copies();
    private_copies_in_child();
    unlinked_file(0);
    unlinked_file(1);
    return check_exit();
}
