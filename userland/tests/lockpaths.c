/*
 * lockpaths: the paths where the kernel holds more than one lock at a time, or an address
 * space's lock next to a file's: page faults that read files (private and shared mappings,
 * a fault in the kernel's copy to or from user memory in the middle of a read or write),
 * procfs reading the address space of a process whose mappings are in use, shared pages
 * written back to their file when unmapped (munmap, mremap, madvise, exit), truncation of a
 * file mapped by two processes, fork of mapped files. On Linux every check simply holds; on
 * Tessera's `debug` config, lock tracking also panics the kernel on any lock order
 * inversion these paths make (docs/architecture.md lists the order). Works in
 * /tmp/t-lockpaths; page i of every file is filled with 'A' + i.
 */
#include "check.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>

#include "mapfile.h"

/* Reads /proc/<pid>/<name> (pid 0: self); whether it returned anything. */
static int read_proc(pid_t pid, const char *name)
{
    char path[64], buf[1024];
    if (pid)
        snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
    else
        snprintf(path, sizeof path, "/proc/self/%s", name);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    return n > 0;
}

/* A new file of `pages` pages (its fd in *fd), mapped shared and read-write. */
static vchar *shared_file(const char *name, int pages, int *fd)
{
    *fd = make_file(name, pages);
    vchar *m = map((size_t)pages * PAGE, RW, MAP_SHARED, *fd, 0);
    REQUIRE("map a new file shared", m != MAP_FAILED);
    return m;
}

/* Faults that read files, and procfs reading this address space meanwhile. */
static void faults_and_procfs(void)
{
    int fd = make_file("f", 4);
    vchar *priv = map(4 * PAGE, RW, MAP_PRIVATE, fd, 0);
    vchar *shared = map(4 * PAGE, RW, MAP_SHARED, fd, 0);
    REQUIRE("map a file twice", priv != MAP_FAILED && shared != MAP_FAILED);
    CHECK("a read fault of a private page", priv[0] == 'A');
    priv[PAGE] = 'p';
    CHECK("a write fault of an untouched private page copies the file", priv[PAGE + 1] == 'B');
    CHECK("a read fault of a shared page", shared[2 * PAGE] == 'C');
    shared[3 * PAGE] = 's';
    CHECK("a store through a shared page reaches read()", file_byte(fd, 3 * PAGE) == 's');
    CHECK("/proc/self/stat while the mappings are in use", read_proc(0, "stat"));
    CHECK("/proc/self/status too", read_proc(0, "status"));

    /* The kernel's copies fault file pages in: read() into an untouched private page,
     * write() from an untouched shared one, a procfs read into an untouched private page. */
    int other = make_file("other", 2);
    vchar *dst = map(2 * PAGE, RW, MAP_PRIVATE, other, 0);
    vchar *src = map(2 * PAGE, PROT_READ, MAP_SHARED, other, 0);
    REQUIRE("map a second file twice", dst != MAP_FAILED && src != MAP_FAILED);
    CHECK_EQ("read() of one file into a private mapping of another",
             pread(fd, (char *)dst + 10, 5, 0), 5);
    CHECK("the page has the read bytes and the file's others", dst[10] == 'A' && dst[0] == 'A');
    CHECK_EQ("write() to one file from a shared mapping of another",
             pwrite(fd, (char *)src + PAGE, 3, 100), 3);
    CHECK_EQ("the bytes arrived", file_byte(fd, 100), 'B');
    int stat_fd = open("/proc/self/stat", O_RDONLY);
    CHECK("a procfs read into an untouched private file page",
          read(stat_fd, (char *)dst + PAGE, 32) > 0);
    close(stat_fd);
    munmap((void *)dst, 2 * PAGE);
    munmap((void *)src, 2 * PAGE);
    close(other);
    munmap((void *)priv, 4 * PAGE);
    munmap((void *)shared, 4 * PAGE);
    close(fd);
}

/* Shared pages stored to are written back when their last mapping goes, by each way. */
static void write_backs(void)
{
    int fd;
    vchar *m = shared_file("wb", 4, &fd);
    m[0] = '0';
    m[PAGE] = '1';
    m[2 * PAGE] = '2';
    m[3 * PAGE] = '3';
    CHECK_EQ("madvise(MADV_DONTNEED) of a stored shared page",
             madvise((void *)(m + 3 * PAGE), PAGE, MADV_DONTNEED), 0);
    CHECK_EQ("its store is in the file", file_byte(fd, 3 * PAGE), '3');
    CHECK("and in the mapping again", m[3 * PAGE] == '3');
    vchar *shrunk = (vchar *)mremap((void *)m, 4 * PAGE, 2 * PAGE, 0);
    CHECK("mremap shrinks a stored shared mapping", shrunk == m);
    CHECK_EQ("the cut page's store is in the file", file_byte(fd, 2 * PAGE), '2');
    CHECK_EQ("munmap of the rest", munmap((void *)m, 2 * PAGE), 0);
    CHECK("their stores are in the file", file_byte(fd, 0) == '0' && file_byte(fd, PAGE) == '1');

    pid_t pid = fork();
    if (pid == 0) {
        vchar *c = map(PAGE, RW, MAP_SHARED, fd, 0);
        if (c == MAP_FAILED)
            _exit(1);
        c[1] = 'x';
        _exit(0); /* the exit unmaps it */
    }
    int status;
    CHECK("a child stores through a shared mapping and exits",
          waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_EQ("the store is in the file", file_byte(fd, 1), 'x');
    close(fd);
}

/* A file mapped by two processes, one of them blocked, truncated and read through procfs. */
static void truncation_and_other_processes(void)
{
    int fd;
    vchar *m = shared_file("t", 3, &fd);
    m[0] = 'm';
    int p[2], ready[2];
    REQUIRE("pipes", pipe(p) == 0 && pipe(ready) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        char c = m[2 * PAGE]; /* the child maps the pages too, then says so */
        close(p[1]);
        close(ready[0]);
        write(ready[1], &c, 1);
        ssize_t n = read(p[0], &c, 1); /* blocks until the parent is done */
        _exit(n == 0 && m[0] == 'm' ? 0 : 1);
    }
    close(p[0]);
    close(ready[1]);
    char c;
    CHECK_EQ("the child mapped the pages", read(ready[0], &c, 1), 1);
    close(ready[0]);
    CHECK("/proc/<child>/stat of a blocked child with file mappings", read_proc(pid, "stat"));
    CHECK("/proc/<child>/status too", read_proc(pid, "status"));
    CHECK_EQ("ftruncate of a file both processes map", ftruncate(fd, PAGE), 0);
    CHECK("the kept page is still mapped", m[0] == 'm');
    close(p[1]);
    int status;
    CHECK("the child saw the kept page",
          waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    munmap((void *)m, 3 * PAGE);
    close(fd);
}

int main(void)
{
    scratch_dir("/tmp/t-lockpaths");
    faults_and_procfs();
    write_backs();
    truncation_and_other_processes();
    return check_exit();
}
