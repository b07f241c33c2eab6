/*
 * memory: the address space. Bad user pointers (EFAULT), brk, anonymous and file mmap
 * (private and shared across fork), munmap, mprotect (faults kill a child with SIGSEGV),
 * mremap, madvise, the errors of bad arguments, and memory exhaustion (the OOM killer).
 * Works in /tmp/t-memory.
 */
#include "check.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#define PAGE 4096
#define KERNEL_ADDRESS ((void *)0xffffffff80000000UL)

/* Raw mmap: glibc's wrapper is thin, but this keeps every argument exactly as given. */
static void *raw_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

static void *anon(size_t len, int prot, int flags)
{
    return raw_mmap(NULL, len, prot, flags | MAP_ANONYMOUS, -1, 0);
}

static void bad_pointers(void)
{
    int fd = open("data", O_CREAT | O_RDWR | O_TRUNC, 0644);
    write(fd, "some data", 9);
    lseek(fd, 0, SEEK_SET);
    CHECK_ERR("read into address 1 -> EFAULT", syscall(SYS_read, fd, (void *)1, 4), EFAULT);
    CHECK_EQ("a failed read consumes nothing", lseek(fd, 0, SEEK_CUR), 0);
    CHECK_ERR("write from a kernel address -> EFAULT", syscall(SYS_write, fd, KERNEL_ADDRESS, 4),
              EFAULT);
    CHECK_ERR("write from NULL -> EFAULT", syscall(SYS_write, fd, NULL, 4), EFAULT);
    CHECK_ERR("stat with a bad path pointer -> EFAULT",
              syscall(SYS_stat, (void *)1, (void *)KERNEL_ADDRESS), EFAULT);
    struct stat st;
    CHECK_ERR("open with a kernel path pointer -> EFAULT",
              syscall(SYS_open, KERNEL_ADDRESS, O_RDONLY), EFAULT);
    CHECK_ERR("fstat into a kernel address -> EFAULT", syscall(SYS_fstat, fd, KERNEL_ADDRESS),
              EFAULT);
    CHECK_EQ("fstat into a good buffer still works", fstat(fd, &st), 0);
    CHECK_ERR("pipe into a bad pointer -> EFAULT", syscall(SYS_pipe, (void *)1), EFAULT);
    CHECK_ERR("clock_gettime into a bad pointer -> EFAULT",
              syscall(SYS_clock_gettime, CLOCK_MONOTONIC, (void *)1), EFAULT);
    CHECK_ERR("uname into a kernel address -> EFAULT", syscall(SYS_uname, KERNEL_ADDRESS),
              EFAULT);
    close(fd);
}

static void program_break(void)
{
    char *start = (char *)syscall(SYS_brk, 0);
    CHECK("brk(0) returns the current break", start != NULL && start != (char *)-1);
    char *grown = (char *)syscall(SYS_brk, start + 64 * 1024);
    CHECK("brk grows the heap", grown == start + 64 * 1024);
    memset(start, 0x5a, 64 * 1024);
    CHECK("the new heap is writable", start[64 * 1024 - 1] == 0x5a);
    CHECK("brk shrinks the heap", (char *)syscall(SYS_brk, start + PAGE) == start + PAGE);
    CHECK("brk below the heap start fails and returns the current break",
          (char *)syscall(SYS_brk, PAGE) == start + PAGE);
    CHECK("brk to an absurd address fails and returns the current break",
          (char *)syscall(SYS_brk, (char *)0x7ffffffff000UL) == start + PAGE);
    char *regrown = (char *)syscall(SYS_brk, start + 2 * PAGE);
    CHECK("memory given back and re-grown reads as zero", regrown == start + 2 * PAGE &&
                                                              start[PAGE] == 0 &&
                                                              start[2 * PAGE - 1] == 0);
    syscall(SYS_brk, start);
}

static volatile char *fault_at;
static int write_fault_at(void)
{
    fault_at[0] = 1;
    return 0;
}
static int read_fault_at(void)
{
    return fault_at[0];
}

/* The raw wait status of a child touching fault_at. */
static int fault_status(int (*touch)(void), char *address)
{
    fault_at = address;
    return child_status(touch);
}

static void mappings(void)
{
    char *priv = anon(3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    REQUIRE("mmap anonymous private", priv != MAP_FAILED);
    CHECK("mmap returns a page-aligned address", ((uintptr_t)priv & (PAGE - 1)) == 0);
    CHECK("anonymous memory is zeroed", priv[0] == 0 && priv[3 * PAGE - 1] == 0);
    priv[PAGE] = 'p';
    char *shared = anon(PAGE, PROT_READ | PROT_WRITE, MAP_SHARED);
    REQUIRE("mmap anonymous shared", shared != MAP_FAILED);
    shared[0] = 's';
    pid_t pid = fork();
    if (pid == 0) {
        priv[PAGE] = 'c';
        shared[0] = 'c';
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    CHECK("a child's write to a private mapping stays in the child", priv[PAGE] == 'p');
    CHECK("a child's write to a shared mapping reaches the parent", shared[0] == 'c');

    CHECK_EQ("munmap of the middle page", munmap(priv + PAGE, PAGE), 0);
    CHECK_EQ("reading an unmapped page kills with SIGSEGV",
             fault_status(read_fault_at, priv + PAGE), SIGSEGV);
    CHECK_EQ("the pages around the hole stay mapped", fault_status(write_fault_at, priv), 0);
    CHECK_EQ("munmap of an already unmapped range", munmap(priv + PAGE, PAGE), 0);
    CHECK_ERR("munmap of an unaligned address -> EINVAL", munmap(priv + 1, PAGE), EINVAL);
    CHECK_ERR("munmap of length 0 -> EINVAL", munmap(priv, 0), EINVAL);

    CHECK_EQ("mprotect PROT_READ", mprotect(priv, PAGE, PROT_READ), 0);
    CHECK_EQ("writing a read-only page kills with SIGSEGV", fault_status(write_fault_at, priv),
             SIGSEGV);
    CHECK_EQ("reading a read-only page works", fault_status(read_fault_at, priv), 0);
    CHECK_EQ("mprotect PROT_NONE", mprotect(priv, PAGE, PROT_NONE), 0);
    CHECK_EQ("reading a PROT_NONE page kills with SIGSEGV", fault_status(read_fault_at, priv),
             SIGSEGV);
    CHECK_EQ("mprotect back to read-write", mprotect(priv, PAGE, PROT_READ | PROT_WRITE), 0);
    CHECK_EQ("writing works again", fault_status(write_fault_at, priv), 0);
    /* Raw: musl's mprotect() rounds the address down to its page itself. */
    CHECK_ERR("mprotect of an unaligned address -> EINVAL",
              syscall(SYS_mprotect, priv + 1, PAGE, PROT_READ), EINVAL);
    CHECK_ERR("mprotect of an unmapped range -> ENOMEM", mprotect(priv + PAGE, PAGE, PROT_READ),
              ENOMEM);
    CHECK_ERR("mprotect with unknown bits -> EINVAL", mprotect(priv, PAGE, 0x100), EINVAL);
    /* Linux's order (mm/mprotect.c): a zero length changes nothing before the bits are
     * looked at; PROT_SEM (8) is accepted; both grow bits at once are EINVAL. */
    CHECK_EQ("mprotect of no bytes ignores unknown bits", mprotect(priv, 0, 0x100), 0);
    CHECK_EQ("mprotect with PROT_SEM", mprotect(priv, PAGE, PROT_READ | PROT_WRITE | 0x8), 0);
    CHECK_ERR("mprotect with both grow bits -> EINVAL",
              mprotect(priv, PAGE, PROT_READ | PROT_GROWSDOWN | PROT_GROWSUP), EINVAL);
    /* mmap does not check prot bits beyond read, write and exec (mm/mmap.c, do_mmap). */
    void *sem = mmap(NULL, PAGE, PROT_READ | 0x8, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK("mmap with PROT_SEM", sem != MAP_FAILED);
    if (sem != MAP_FAILED)
        munmap(sem, PAGE);
    munmap(priv, 3 * PAGE);
    munmap(shared, PAGE);
    CHECK_EQ("writing NULL kills with SIGSEGV", fault_status(write_fault_at, NULL), SIGSEGV);
    CHECK_EQ("writing a kernel address kills with SIGSEGV",
             fault_status(write_fault_at, KERNEL_ADDRESS), SIGSEGV);
}

static void resize_and_advise(void)
{
    char *m = anon(2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    memset(m, 'm', 2 * PAGE);
    char *big = mremap(m, 2 * PAGE, 64 * PAGE, MREMAP_MAYMOVE);
    CHECK("mremap grows with MREMAP_MAYMOVE", big != MAP_FAILED);
    CHECK("mremap keeps the contents", big[0] == 'm' && big[2 * PAGE - 1] == 'm');
    CHECK("the grown part is zeroed", big[2 * PAGE] == 0 && big[64 * PAGE - 1] == 0);
    char *small = mremap(big, 64 * PAGE, PAGE, 0);
    CHECK("mremap shrinks in place", small == big);
    CHECK_EQ("the released tail faults", fault_status(read_fault_at, big + PAGE), SIGSEGV);
    CHECK_ERR("mremap with unknown flags -> EINVAL",
              syscall(SYS_mremap, small, PAGE, 2 * PAGE, 0x100), EINVAL);
    CHECK_ERR("mremap to length 0 -> EINVAL", syscall(SYS_mremap, small, PAGE, 0, MREMAP_MAYMOVE),
              EINVAL);

    small[0] = 'x';
    CHECK_EQ("madvise MADV_DONTNEED", madvise(small, PAGE, MADV_DONTNEED), 0);
    CHECK("MADV_DONTNEED on private anonymous memory reads back zeros", small[0] == 0);
    CHECK_EQ("madvise MADV_WILLNEED", madvise(small, PAGE, MADV_WILLNEED), 0);
    CHECK_EQ("madvise MADV_NORMAL", madvise(small, PAGE, MADV_NORMAL), 0);
    CHECK_ERR("madvise with an unknown advice -> EINVAL", madvise(small, PAGE, 12345), EINVAL);
    CHECK_ERR("madvise of an unaligned address -> EINVAL", madvise(small + 1, PAGE, MADV_NORMAL),
              EINVAL);
    munmap(small, PAGE);
}

static void file_mappings(void)
{
    int fd = open("mapped", O_CREAT | O_RDWR | O_TRUNC, 0644);
    char text[PAGE + 10];
    memset(text, 'f', sizeof text);
    write(fd, text, sizeof text);
    char *map = raw_mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK("mmap of a file, private", map != MAP_FAILED);
    CHECK("a file mapping shows the file", map[0] == 'f' && map[PAGE + 9] == 'f');
    CHECK("the end of the last page past the file reads as zero", map[PAGE + 10] == 0);
    munmap(map, 2 * PAGE);
    map = raw_mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, PAGE);
    CHECK("mmap of a file, shared, at an offset", map != MAP_FAILED);
    CHECK("the offset mapping starts at that offset", map[0] == 'f' && map[10] == 0);
    memcpy(map, "SHARED", 6);
    char back[6];
    pread(fd, back, 6, PAGE);
    CHECK("a store to a shared file mapping is seen by read", memcmp(back, "SHARED", 6) == 0);
    pwrite(fd, "w", 1, PAGE + 1);
    CHECK("a write is seen by a shared file mapping", map[1] == 'w');
    munmap(map, PAGE);
    map = raw_mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    map[0] = 'P';
    pread(fd, back, 1, 0);
    CHECK("a store to a private file mapping stays private", back[0] == 'f');
    munmap(map, PAGE);

    CHECK_ERR("mmap of a huge length -> ENOMEM", anon((size_t)1 << 62, PROT_READ, MAP_PRIVATE),
              ENOMEM);
    CHECK_ERR("mmap without MAP_PRIVATE or MAP_SHARED -> EINVAL", anon(PAGE, PROT_READ, 0),
              EINVAL);
    CHECK_ERR("mmap of length 0 -> EINVAL", anon(0, PROT_READ, MAP_PRIVATE), EINVAL);
    CHECK_ERR("mmap at an unaligned offset -> EINVAL",
              raw_mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 1), EINVAL);
    CHECK_ERR("mmap MAP_FIXED at an unaligned address -> EINVAL",
              raw_mmap((void *)0x10000001, PAGE, PROT_READ, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS,
                       -1, 0),
              EINVAL);
    CHECK_ERR("mmap of a bad fd -> EBADF", raw_mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, 1000, 0),
              EBADF);
    int ro = open("mapped", O_RDONLY);
    CHECK_ERR("writable shared mmap of an O_RDONLY fd -> EACCES",
              raw_mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0), EACCES);
    close(ro);
    int p[2];
    pipe(p);
    CHECK_ERR("mmap of a pipe -> ENODEV", raw_mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, p[0], 0),
              ENODEV);
    close(p[0]);
    close(p[1]);
    void *hint = raw_mmap((void *)0x200000000UL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS |
                                                                     MAP_FIXED_NOREPLACE, -1, 0);
    CHECK("MAP_FIXED_NOREPLACE maps at the address", hint == (void *)0x200000000UL);
    CHECK_ERR("MAP_FIXED_NOREPLACE over a mapping -> EEXIST",
              raw_mmap(hint, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                       -1, 0),
              EEXIST);
    CHECK("MAP_FIXED replaces a mapping",
          raw_mmap(hint, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == hint);
    munmap(hint, PAGE);
    close(fd);
}

/* Sets this process's oom_score_adj (/proc/PID/oom_score_adj; a failure is ignored: the
 * child that exhausts memory is the largest process anyway). */
static void oom_score_adj(const char *value)
{
    int fd = open("/proc/self/oom_score_adj", O_WRONLY);
    if (fd >= 0) {
        if (write(fd, value, strlen(value)) < 0) {
            /* ignored: see above */
        }
        close(fd);
    }
}

/* Touches anonymous memory until the kernel kills it. */
static int exhaust(void)
{
    oom_score_adj("1000"); /* the victim, whatever else the machine holds */
    return touch_memory_until_killed();
}

/* Memory exhausted: the OOM killer ends the process that holds the most (this child), the
 * rest of the system goes on, and the memory comes back. */
static void out_of_memory(void)
{
    oom_score_adj("-1000"); /* never this one (on Linux) */
    int status = child_status(exhaust);
    CHECK("a process that exhausts memory is killed with SIGKILL",
          WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    /* And the memory came back: 8 MiB can be had and touched again. */
    size_t len = 8 << 20;
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    int touched = p != MAP_FAILED;
    for (size_t at = 0; touched && at < len; at += 4096)
        p[at] = 1;
    CHECK("afterwards, 8 MiB can be mapped and touched", touched);
    if (p != MAP_FAILED)
        munmap(p, len);
}

int main(void)
{
    /* No core dumps: the wait status of a faulting child is then exactly its signal. */
    setrlimit(RLIMIT_CORE, &(struct rlimit){0, 0});
    scratch_dir("/tmp/t-memory");
    bad_pointers();
    program_break();
    mappings();
    resize_and_advise();
    file_mappings();
    out_of_memory();
    return check_exit();
}
