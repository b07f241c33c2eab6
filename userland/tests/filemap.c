/*
 * filemap: what each kind of file mapping sees. A MAP_PRIVATE mapping sees its own stores
 * only (not read(), other mappings, other processes or the file); until a process writes a
 * page of it, that page is the file's and shows later write()s and shared stores, as on
 * Linux, where it maps the page cache until the first write. MAP_SHARED stores reach
 * everyone. Also mprotect of a read-only private mapping to writable, read() into a private
 * mapping (the kernel's copy to user space must copy the page too), and a program's text
 * and data across exec. ftruncate under a mapping is maptrunc's, returned memory mapmem's.
 * Works in /tmp/t-filemap; page i of every file is filled with 'A' + i.
 */
#include "check.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "mapfile.h"

/* Whether the file still holds only its original pattern. */
static int file_unchanged(int fd, int pages)
{
    char buf[PAGE];
    for (int i = 0; i < pages; i++) {
        if (pread(fd, buf, PAGE, (off_t)i * PAGE) != PAGE)
            return 0;
        for (int j = 0; j < PAGE; j++)
            if (buf[j] != 'A' + i)
                return 0;
    }
    return 1;
}

/* Whether memory at p holds the string s (without its NUL). */
static int holds(vchar *p, const char *s)
{
    for (; *s; s++, p++)
        if (*p != *s)
            return 0;
    return 1;
}

static void put(vchar *p, const char *s)
{
    for (; *s; s++, p++)
        *p = *s;
}

/* The exit code of child `pid`, or -1 when it did not exit normally. */
static int reap(pid_t pid)
{
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

/* A fresh private mapping of `name` in a forked child: its first byte. */
static int byte_in_child(const char *name, off_t at)
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(name, O_RDONLY);
        vchar *m = map(PAGE, PROT_READ, MAP_PRIVATE, fd, at & ~(off_t)(PAGE - 1));
        _exit(m == MAP_FAILED ? 255 : (unsigned char)m[at & (PAGE - 1)]);
    }
    return reap(pid);
}

static void private_stores(void)
{
    int fd = make_file("private", 3);
    vchar *p = map(3 * PAGE, RW, MAP_PRIVATE, fd, 0);
    REQUIRE("mmap private read-write", p != MAP_FAILED);
    p[0] = 'X';
    CHECK("a private mapping sees its own store", p[0] == 'X');
    CHECK("the rest of the stored page keeps the file's bytes", p[1] == 'A' && p[PAGE - 1] == 'A');
    CHECK("the other pages keep the file's bytes", p[PAGE] == 'B' && p[2 * PAGE] == 'C');
    CHECK_EQ("read() does not see a private store", file_byte(fd, 0), 'A');
    vchar *q = map(3 * PAGE, RW, MAP_PRIVATE, fd, 0);
    CHECK("a second private mapping does not see it", q[0] == 'A');
    vchar *s = map(3 * PAGE, RW, MAP_SHARED, fd, 0);
    CHECK("a shared mapping does not see it", s[0] == 'A');
    CHECK_EQ("another process's fresh mapping does not see it", byte_in_child("private", 0), 'A');
    CHECK("the file is unchanged", file_unchanged(fd, 3));
    munmap((void *)p, 3 * PAGE);
    munmap((void *)q, 3 * PAGE);
    munmap((void *)s, 3 * PAGE);
    close(fd);
}

/*
 * Before fork, page 0 is read and page 1 written; page 2 is untouched. Both processes then
 * store into pages 0-2 and only read page 3, which the file is written to after fork.
 */
static void private_across_fork(void)
{
    int fd = make_file("forked", 4);
    vchar *p = map(4 * PAGE, RW, MAP_PRIVATE, fd, 0);
    REQUIRE("mmap private for fork", p != MAP_FAILED);
    (void)p[0], (void)p[3 * PAGE];
    p[PAGE] = 'P';
    int up[2], down[2];
    REQUIRE("pipes", pipe(up) == 0 && pipe(down) == 0);
    char token;
    pid_t pid = fork();
    if (pid == 0) {
        check_failures = 0; /* the child's exit status counts its own checks */
        p[0] = 'k', p[PAGE] = 'k', p[2 * PAGE] = 'k';
        (void)p[3 * PAGE];
        write(up[1], "w", 1);
        read(down[0], &token, 1);
        CHECK("child: its own stores stay", p[0] == 'k' && p[PAGE] == 'k' && p[2 * PAGE] == 'k');
        CHECK("child: the parent's stores are not seen",
              p[1] == 'A' && p[PAGE + 1] == 'B' && p[2 * PAGE + 1] == 'C');
        CHECK("child: a page neither wrote shows a write() made after fork",
              p[3 * PAGE] == 'D' && p[3 * PAGE + 2] == 'x');
        _exit(check_exit());
    }
    read(up[0], &token, 1);
    CHECK("a child's store to a page read before fork is not seen", p[0] == 'A');
    CHECK("a child's store to a page written before fork is not seen", p[PAGE] == 'P');
    CHECK("a child's store to an untouched page is not seen", p[2 * PAGE] == 'C');
    p[1] = 'p', p[PAGE + 1] = 'p', p[2 * PAGE + 1] = 'p';
    CHECK("the file is unchanged by either", file_unchanged(fd, 4));
    pwrite(fd, "x", 1, 3 * PAGE + 2);
    write(down[1], "w", 1);
    CHECK_EQ("the child's checks passed", reap(pid), 0);
    CHECK("the parent keeps its own stores",
          p[1] == 'p' && p[PAGE + 1] == 'p' && p[2 * PAGE + 1] == 'p');
    CHECK("a page neither wrote shows a write() made after fork",
          p[3 * PAGE] == 'D' && p[3 * PAGE + 2] == 'x');
    close(up[0]), close(up[1]), close(down[0]), close(down[1]);
    munmap((void *)p, 4 * PAGE);
    close(fd);
}

/* Page 0 only read, page 1 written, page 2 untouched; then the file is written. */
static void writes_after_private_map(void)
{
    int fd = make_file("written", 3);
    vchar *p = map(3 * PAGE, RW, MAP_PRIVATE, fd, 0);
    REQUIRE("mmap private before writes", p != MAP_FAILED);
    (void)p[0];
    p[PAGE] = 'W';
    pwrite(fd, "new", 3, 8);
    pwrite(fd, "new", 3, PAGE + 8);
    lseek(fd, 2 * PAGE + 8, SEEK_SET);
    write(fd, "new", 3);
    CHECK("a private page only read shows a later pwrite()", holds(p + 8, "new"));
    CHECK("a private page written keeps its copy", p[PAGE] == 'W' && holds(p + PAGE + 8, "BBB"));
    CHECK("an untouched private page shows a later write()", holds(p + 2 * PAGE + 8, "new"));
    p[0] = 'w';
    pwrite(fd, "two", 3, 8);
    CHECK("after its first store a page no longer follows the file",
          p[0] == 'w' && holds(p + 8, "new"));
    CHECK_EQ("the store did not reach the file", file_byte(fd, 0), 'A');
    munmap((void *)p, 3 * PAGE);
    close(fd);
}

static void shared_stores(void)
{
    int fd = make_file("shared", 3);
    vchar *s = map(3 * PAGE, RW, MAP_SHARED, fd, 0);
    vchar *s2 = map(3 * PAGE, RW, MAP_SHARED, fd, 0);
    vchar *pv = map(3 * PAGE, RW, MAP_PRIVATE, fd, 0);
    REQUIRE("mmap shared and private", s != MAP_FAILED && s2 != MAP_FAILED && pv != MAP_FAILED);
    (void)pv[0];
    put(s + 16, "store");
    put(s + PAGE + 16, "store");
    char back[5] = {0};
    pread(fd, back, 5, 16);
    CHECK("a shared store is seen by read()", memcmp(back, "store", 5) == 0);
    CHECK("a shared store is seen by another shared mapping", holds(s2 + 16, "store"));
    CHECK("a shared store is seen by a private page only read", holds(pv + 16, "store"));
    CHECK("a shared store is seen by an untouched private page", holds(pv + PAGE + 16, "store"));
    pid_t pid = fork();
    if (pid == 0) {
        check_failures = 0;
        CHECK("child: an inherited shared mapping shows the parent's store",
              holds(s + 16, "store"));
        int fd2 = open("shared", O_RDWR);
        vchar *c = map(PAGE, RW, MAP_SHARED, fd2, 2 * PAGE);
        put(c + 16, "child");
        put(s + 32, "child");
        _exit(check_exit());
    }
    CHECK_EQ("the child's checks passed", reap(pid), 0);
    CHECK("another process's store through its own mapping is seen",
          holds(s + 2 * PAGE + 16, "child"));
    CHECK("a child's store through an inherited mapping is seen", holds(s + 32, "child"));
    pwrite(fd, "write", 5, PAGE + 64);
    CHECK("write() is seen by a shared mapping", holds(s + PAGE + 64, "write"));
    CHECK("write() is seen by another shared mapping", holds(s2 + PAGE + 64, "write"));
    munmap((void *)s, 3 * PAGE);
    munmap((void *)s2, 3 * PAGE);
    munmap((void *)pv, 3 * PAGE);
    close(fd);
    fd = open("shared", O_RDONLY);
    char all[3 * PAGE];
    CHECK_EQ("the file reads back after munmap and close", read(fd, all, sizeof all), sizeof all);
    CHECK("it keeps every store", memcmp(all + 16, "store", 5) == 0 &&
                                      memcmp(all + 32, "child", 5) == 0 &&
                                      memcmp(all + PAGE + 16, "store", 5) == 0 &&
                                      memcmp(all + PAGE + 64, "write", 5) == 0 &&
                                      memcmp(all + 2 * PAGE + 16, "child", 5) == 0);
    CHECK("and the bytes around them",
          all[0] == 'A' && all[PAGE + 15] == 'B' && all[3 * PAGE - 1] == 'C');
    close(fd);
}

/* A read-only private mapping of an O_RDONLY file made writable: still a private copy. */
static void protect_private(void)
{
    close(make_file("protected", 2));
    int fd = open("protected", O_RDONLY);
    vchar *r = map(2 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    vchar *o = map(2 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
    vchar *q = map(2 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    REQUIRE("mmap read-only", r != MAP_FAILED && o != MAP_FAILED && q != MAP_FAILED);
    (void)r[0], (void)o[0], (void)q[0];
    CHECK_EQ("mprotect of a private file mapping to read-write",
             mprotect((void *)r, 2 * PAGE, RW), 0);
    r[0] = 'M';
    r[PAGE] = 'M';
    CHECK("the stores are seen by the mapping", r[0] == 'M' && r[PAGE] == 'M' && r[1] == 'A');
    CHECK("the file is unchanged", file_unchanged(fd, 2));
    CHECK("a shared mapping is unchanged", o[0] == 'A' && o[PAGE] == 'B');
    CHECK("another private mapping is unchanged", q[0] == 'A' && q[PAGE] == 'B');
    CHECK_EQ("another process's fresh mapping is unchanged", byte_in_child("protected", 0), 'A');
    munmap((void *)r, 2 * PAGE);
    munmap((void *)o, 2 * PAGE);
    munmap((void *)q, 2 * PAGE);
    close(fd);
}

/* The kernel stores into a private page only read so far: read(), a pipe, fstat, clone. */
static void kernel_stores_into_private(void)
{
    int fd = make_file("target", 2);
    vchar *p = map(2 * PAGE, RW, MAP_PRIVATE, fd, 0);
    vchar *s = map(2 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
    REQUIRE("mmap for kernel stores", p != MAP_FAILED && s != MAP_FAILED);
    (void)p[0];
    int src = open("source", O_CREAT | O_RDWR | O_TRUNC, 0644);
    write(src, "readdata", 8);
    CHECK_EQ("pread() into a private page only read", pread(src, (void *)(p + 10), 8, 0), 8);
    CHECK_EQ("pread() into an untouched private page",
             pread(src, (void *)(p + PAGE + 10), 8, 0), 8);
    CHECK("the mapping shows the data",
          holds(p + 10, "readdata") && holds(p + PAGE + 10, "readdata"));
    int fds[2];
    pipe(fds);
    write(fds[1], "pipedata", 8);
    CHECK_EQ("read() from a pipe into a private page", read(fds[0], (void *)(p + 20), 8), 8);
    CHECK("the mapping shows the pipe's data", holds(p + 20, "pipedata"));
    close(fds[0]), close(fds[1]);
    munmap((void *)p, 2 * PAGE);
    p = map(2 * PAGE, RW, MAP_PRIVATE, fd, 0);
    (void)p[PAGE];
    CHECK_EQ("fstat() into a private page only read", fstat(fd, (struct stat *)(p + PAGE)), 0);
    CHECK("fstat's answer is in the mapping", ((struct stat *)(p + PAGE))->st_size == 2 * PAGE);
    /* CLONE_CHILD_SETTID: the kernel stores the id into the child's copy of the page. */
    (void)p[0];
    volatile pid_t *ctid = (volatile pid_t *)(p + 64);
    pid_t pid = syscall(SYS_clone, CLONE_CHILD_SETTID | SIGCHLD, NULL, NULL, ctid, 0);
    if (pid == 0)
        _exit(*ctid == getpid() ? 0 : 1);
    CHECK_EQ("CLONE_CHILD_SETTID into a private page only read", reap(pid), 0);
    CHECK("the parent's page is unchanged", holds(p + 64, "AAAA"));
    CHECK("the file is unchanged", file_unchanged(fd, 2));
    CHECK("a shared mapping is unchanged", s[10] == 'A' && s[20] == 'A' && s[PAGE + 10] == 'B' &&
                                               s[PAGE] == 'B');
    CHECK_EQ("another process's fresh mapping is unchanged", byte_in_child("target", 10), 'A');
    munmap((void *)p, 2 * PAGE);
    munmap((void *)s, 2 * PAGE);
    close(src);
    close(fd);
}

/* A program's text and read-only data, compared with a second process running it. */
static __attribute__((noinline)) int text_probe(int x)
{
    return x * 7 + 3;
}
static const char marker[32] = "filemap read-only data marker";

static int text_child(void)
{
    write(1, (const void *)text_probe, 64);
    write(1, marker, sizeof marker);
    return 0;
}

/* `self` is argv[0]: the runner starts every program by its absolute path. */
static void program_text(const char *self)
{
    char *page = (char *)((unsigned long)marker & ~(unsigned long)(PAGE - 1));
    CHECK_EQ("mprotect of the program's read-only data to read-write",
             mprotect(page, PAGE, RW), 0);
    ((vchar *)marker)[0] = 'F';
    CHECK("the store is seen by this process", ((vchar *)marker)[0] == 'F');
    int out[2];
    REQUIRE("pipe", pipe(out) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out[1], 1);
        execve(self, (char *[]){(char *)self, "text", NULL}, (char *[]){NULL});
        _exit(127);
    }
    close(out[1]);
    char got[64 + sizeof marker];
    size_t n = 0;
    for (ssize_t r; n < sizeof got && (r = read(out[0], got + n, sizeof got - n)) > 0;)
        n += r;
    close(out[0]);
    CHECK_EQ("a second process runs the program", reap(pid), 0);
    CHECK("it has the same text",
          n == sizeof got && memcmp(got, (const void *)text_probe, 64) == 0);
    CHECK("it does not see the store to read-only data",
          n == sizeof got && got[64] == 'f' &&
              memcmp(got + 65, marker + 1, sizeof marker - 1) == 0);
    int fd = open(self, O_RDONLY);
    struct stat st;
    fstat(fd, &st);
    char *file = malloc(st.st_size);
    off_t n_file = 0;
    for (ssize_t r; file && n_file < st.st_size; n_file += r)
        if ((r = read(fd, file + n_file, st.st_size - n_file)) <= 0)
            break;
    CHECK("the program file reads back", file && n_file == st.st_size);
    char stored[sizeof marker];
    for (size_t i = 0; i < sizeof marker; i++)
        stored[i] = ((vchar *)marker)[i]; /* "Filemap ...": as this process now has it */
    CHECK("the text is the program file's bytes",
          file && memmem(file, st.st_size, (const void *)text_probe, 64) != NULL);
    CHECK("the program file keeps the original data",
          file && memmem(file, st.st_size, marker + 1, sizeof marker - 1) != NULL &&
              memmem(file, st.st_size, stored, sizeof marker) == NULL);
    free(file);
    close(fd);
    ((vchar *)marker)[0] = 'f';
    mprotect(page, PAGE, PROT_READ);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "text") == 0)
        return text_child();
    scratch_dir("/tmp/t-filemap");
    private_stores();
    private_across_fork();
    writes_after_private_map();
    shared_stores();
    protect_private();
    kernel_stores_into_private();
    program_text(argv[0]);
    return check_exit();
}
