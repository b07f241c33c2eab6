/*
 * mapkinds: which open files mmap accepts, as on Linux. Regular files map (privately and
 * shared), and /dev/zero maps as anonymous memory; files without an mmap operation are
 * ENODEV (procfs files, directories, pipes, sockets, /dev/null), a descriptor not open for
 * reading is EACCES, an O_PATH one EBADF. MAP_SHARED_VALIDATE is MAP_SHARED that refuses
 * the flags MAP_SHARED ignores (EOPNOTSUPP), and EINVAL for anonymous memory. A private
 * mapping of a regular file is read while procfs reads the address space (the fault path
 * reads files with the address space unlocked). Works in /tmp/t-mapkinds; page i of every
 * file is filled with 'A' + i.
 */
#include "check.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>

#include "mapfile.h"

/* A flag bit no kernel defines: MAP_SHARED ignores it, MAP_SHARED_VALIDATE refuses it. */
#define UNKNOWN_MAP_FLAG 0x800000

/* Both kinds of mapping of `fd` (`what`) must fail with `err`. */
static void refused(const char *what, int fd, int err)
{
    char name[160];
    snprintf(name, sizeof name, "private mmap of %s -> %s", what, errno_name(err));
    CHECK_ERR(name, map(PAGE, PROT_READ, MAP_PRIVATE, fd, 0), err);
    snprintf(name, sizeof name, "shared mmap of %s -> %s", what, errno_name(err));
    CHECK_ERR(name, map(PAGE, PROT_READ, MAP_SHARED, fd, 0), err);
}

static void files_without_mmap(void)
{
    int stat_fd = open("/proc/self/stat", O_RDONLY);
    REQUIRE("open /proc/self/stat", stat_fd >= 0);
    refused("/proc/self/stat", stat_fd, ENODEV);
    char buf[512];
    CHECK("/proc/self/stat still reads", read(stat_fd, buf, sizeof buf) > 0);
    close(stat_fd);

    int dir = open(".", O_RDONLY | O_DIRECTORY);
    REQUIRE("open the directory", dir >= 0);
    refused("a directory", dir, ENODEV);
    close(dir);

    int p[2];
    REQUIRE("pipe", pipe(p) == 0);
    refused("a pipe's write end (not readable)", p[1], EACCES);
    refused("a pipe's read end", p[0], ENODEV);
    close(p[0]);
    close(p[1]);

    int sv[2];
    REQUIRE("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    refused("a unix socket", sv[0], ENODEV);
    close(sv[0]);
    close(sv[1]);

    REQUIRE("mknod null", mknod("null", S_IFCHR | 0666, makedev(1, 3)) == 0);
    int null = open("null", O_RDWR);
    REQUIRE("open null", null >= 0);
    refused("/dev/null", null, ENODEV);
    close(null);
}

static void descriptors(void)
{
    int fd = make_file("plain", 2);
    close(fd);
    int path = open("plain", O_PATH);
    REQUIRE("open O_PATH", path >= 0);
    refused("an O_PATH descriptor", path, EBADF);
    close(path);
    int wo = open("plain", O_WRONLY);
    REQUIRE("open write-only", wo >= 0);
    refused("a write-only descriptor", wo, EACCES);
    close(wo);
    CHECK_ERR("mmap of length 0 on a bad descriptor -> EBADF (the fd first)",
              map(0, PROT_READ, MAP_PRIVATE, 1000, 0), EBADF);
    CHECK_ERR("mmap of a bad descriptor at an unaligned offset -> EINVAL (the offset first)",
              map(PAGE, PROT_READ, MAP_PRIVATE, 1000, 1), EINVAL);
}

static void zero_device(void)
{
    REQUIRE("mknod zero", mknod("zero", S_IFCHR | 0666, makedev(1, 5)) == 0);
    int zero = open("zero", O_RDWR);
    REQUIRE("open zero", zero >= 0);
    vchar *p = map(2 * PAGE, RW, MAP_PRIVATE, zero, 0);
    CHECK("private mmap of /dev/zero", p != MAP_FAILED);
    if (p != MAP_FAILED) {
        CHECK("it reads as zeros", p[0] == 0 && p[2 * PAGE - 1] == 0);
        p[PAGE] = 'z';
        CHECK("and takes stores", p[PAGE] == 'z');
        munmap((void *)p, 2 * PAGE);
    }
    vchar *s = map(PAGE, RW, MAP_SHARED, zero, 0);
    CHECK("shared mmap of /dev/zero", s != MAP_FAILED);
    if (s != MAP_FAILED) {
        s[1] = 's';
        CHECK("it takes stores", s[0] == 0 && s[1] == 's');
        munmap((void *)s, PAGE);
    }
    close(zero);
}

static void regular_files(void)
{
    int fd = make_file("data", 3);
    vchar *p = map(3 * PAGE, RW, MAP_PRIVATE, fd, 0);
    REQUIRE("private mmap of a regular file", p != MAP_FAILED);
    CHECK("it shows the file", p[0] == 'A' && p[PAGE] == 'B' && p[3 * PAGE - 1] == 'C');
    p[1] = 'x';
    CHECK("it takes a private store", p[1] == 'x');
    CHECK_EQ("the file does not see it", file_byte(fd, 1), 'A');
    /* procfs reads this address space (rss) while its pages are in use. */
    int stat_fd = open("/proc/self/stat", O_RDONLY);
    char buf[512];
    CHECK("/proc/self/stat reads beside a private file mapping",
          read(stat_fd, buf, sizeof buf) > 0);
    close(stat_fd);
    /* A read into a page of a private file mapping not touched yet: the kernel's copy
     * faults the page in (a file read) in the middle of a procfs read. */
    vchar *q = map(2 * PAGE, RW, MAP_PRIVATE, fd, PAGE);
    REQUIRE("a second private mapping", q != MAP_FAILED);
    stat_fd = open("/proc/self/stat", O_RDONLY);
    CHECK("a procfs read into an untouched private file page",
          read(stat_fd, (char *)q + PAGE, 64) > 0);
    close(stat_fd);
    CHECK("the rest of that page keeps the file's bytes", q[2 * PAGE - 1] == 'C');
    CHECK("the page before it is the file's", q[0] == 'B');
    munmap((void *)q, 2 * PAGE);
    munmap((void *)p, 3 * PAGE);
    close(fd);
}

static void shared_validate(void)
{
    int fd = make_file("shared", 1);
    vchar *p = map(PAGE, RW, MAP_SHARED_VALIDATE, fd, 0);
    CHECK("MAP_SHARED_VALIDATE maps a regular file", p != MAP_FAILED);
    if (p != MAP_FAILED) {
        p[0] = 'V';
        CHECK_EQ("its stores reach the file, as MAP_SHARED's", file_byte(fd, 0), 'V');
        munmap((void *)p, PAGE);
    }
    p = map(PAGE, PROT_READ, MAP_SHARED | UNKNOWN_MAP_FLAG, fd, 0);
    CHECK("MAP_SHARED ignores an unknown flag", p != MAP_FAILED);
    if (p != MAP_FAILED)
        munmap((void *)p, PAGE);
    CHECK_ERR("MAP_SHARED_VALIDATE refuses an unknown flag -> EOPNOTSUPP",
              map(PAGE, PROT_READ, MAP_SHARED_VALIDATE | UNKNOWN_MAP_FLAG, fd, 0), EOPNOTSUPP);
    CHECK_ERR("MAP_SHARED_VALIDATE | MAP_SYNC on tmpfs (no DAX) -> EOPNOTSUPP",
              map(PAGE, PROT_READ, MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0), EOPNOTSUPP);
    p = map(PAGE, PROT_READ, MAP_SHARED_VALIDATE | MAP_POPULATE | MAP_NORESERVE, fd, 0);
    CHECK("MAP_SHARED_VALIDATE takes the legacy flags", p != MAP_FAILED);
    if (p != MAP_FAILED)
        munmap((void *)p, PAGE);
    CHECK_ERR("anonymous MAP_SHARED_VALIDATE -> EINVAL",
              map(PAGE, RW, MAP_SHARED_VALIDATE | MAP_ANONYMOUS, -1, 0), EINVAL);
    int ro = open("shared", O_RDONLY);
    CHECK_ERR("writable MAP_SHARED_VALIDATE of an O_RDONLY fd -> EACCES",
              map(PAGE, RW, MAP_SHARED_VALIDATE, ro, 0), EACCES);
    close(ro);
    int stat_fd = open("/proc/self/stat", O_RDONLY);
    CHECK_ERR("MAP_SHARED_VALIDATE of a procfs file -> ENODEV",
              map(PAGE, PROT_READ, MAP_SHARED_VALIDATE, stat_fd, 0), ENODEV);
    CHECK_ERR("its flags are checked before the file's mmap -> EOPNOTSUPP",
              map(PAGE, PROT_READ, MAP_SHARED_VALIDATE | UNKNOWN_MAP_FLAG, stat_fd, 0),
              EOPNOTSUPP);
    close(stat_fd);
    close(fd);
}

int main(void)
{
    scratch_dir("/tmp/t-mapkinds");
    files_without_mmap();
    descriptors();
    zero_device();
    regular_files();
    shared_validate();
    return check_exit();
}
