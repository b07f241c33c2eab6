/*
 * fsargs: the file calls' arguments as Linux's prototypes type them and in the order Linux
 * checks them (include/linux/syscalls.h, fs/read_write.c, fs/open.c, fs/namei.c, fs/stat.c,
 * fs/utimes.c, fs/file.c). Offsets (`loff_t`) refused before the descriptor (pread64,
 * pwrite64, truncate, ftruncate); a buffer's whole range checked before any byte moves
 * (read, write: EFAULT); the descriptor, then the iovec array, then the access mode
 * (readv, writev); lseek's whence before ESPIPE, sums past the largest offset EINVAL, SEEK_DATA
 * and SEEK_HOLE; `unsigned int` descriptors and counts cut to 32 bits (dup2, fcntl
 * F_DUPFD, readlink's `int` size, getdents64's count, mknodat's `unsigned int` dev, fadvise's `int` advice);
 * O_LARGEFILE on every open; flags words checked before paths (fchownat, linkat,
 * utimensat, umount2; utimensat's times: both omitted is nothing, bad nanoseconds after the
 * path); utimes and utime with given times; chown, lchown and fchown apart;
 * copy_file_range and sendfile checking their offsets first, and sendfile refusing a pipe
 * as its input. Works in /tmp/t-fsargs.
 */
#include "check.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <utime.h>

/* Defined here: musl's headers do not all have them. */
#ifndef SEEK_DATA
#define SEEK_DATA 3
#define SEEK_HOLE 4
#endif
/* O_LARGEFILE as the kernel sets it on x86_64 (glibc's headers define it as 0 there). */
#define KERNEL_O_LARGEFILE 0100000

/* A length that passes the end of the user half from any user address. */
#define HUGE_COUNT (1UL << 62)
/* An address in the kernel half. */
#define KERNEL_ADDR ((void *)0xffff800000000000UL)

static int file_with(const char *name, const char *data)
{
    int fd = open(name, O_CREAT | O_RDWR | O_TRUNC, 0644);
    write(fd, data, strlen(data));
    lseek(fd, 0, SEEK_SET);
    return fd;
}

static void offsets_first(void)
{
    char buf[16];
    int fd = file_with("f", "twelve bytes");
    CHECK_ERR("pread64 at a negative offset on a bad fd -> EINVAL (the offset first)",
              syscall(SYS_pread64, -1, buf, 1, -1L), EINVAL);
    CHECK_ERR("pwrite64 at a negative offset on a bad fd -> EINVAL",
              syscall(SYS_pwrite64, -1, buf, 1, -1L), EINVAL);
    CHECK_ERR("pread64 whose end passes the largest offset -> EINVAL",
              syscall(SYS_pread64, fd, buf, 16, LLONG_MAX - 8), EINVAL);
    CHECK_EQ("pread64 ending exactly at the largest offset reads nothing",
             syscall(SYS_pread64, fd, buf, 8, LLONG_MAX - 8), 0);
    CHECK_ERR("ftruncate to a negative length on a bad fd -> EINVAL",
              syscall(SYS_ftruncate, -1, -1L), EINVAL);
    CHECK_ERR("truncate to a negative length with a bad path -> EINVAL (before the path)",
              syscall(SYS_truncate, (char *)8, -1L), EINVAL);
    int path_fd = open("f", O_PATH);
    CHECK_ERR("ftruncate of an O_PATH fd -> EBADF", ftruncate(path_fd, 0), EBADF);
    close(path_fd);
    int ro = open("f", O_RDONLY);
    CHECK_ERR("ftruncate of a read-only fd -> EINVAL", ftruncate(ro, 0), EINVAL);
    close(ro);
    close(fd);
}

static void buffer_ranges(void)
{
    char buf[16];
    struct stat st;
    int fd = file_with("f", "twelve bytes");
    lseek(fd, 0, SEEK_END);
    CHECK_ERR("read at the end with a count past the user half -> EFAULT",
              syscall(SYS_read, fd, buf, HUGE_COUNT), EFAULT);
    CHECK_ERR("write with a count past the user half -> EFAULT", syscall(SYS_write, fd, buf, HUGE_COUNT),
              EFAULT);
    CHECK_EQ("... and nothing was written", (fstat(fd, &st), st.st_size), 12);
    CHECK_ERR("pread64 with a count past the user half -> EFAULT",
              syscall(SYS_pread64, fd, buf, HUGE_COUNT, 0L), EFAULT);
    int wo = open("f", O_WRONLY);
    CHECK_ERR("read of a write-only fd with a bad range -> EBADF (the mode first)",
              syscall(SYS_read, wo, KERNEL_ADDR, 16), EBADF);
    close(wo);
    CHECK_ERR("read into the kernel half -> EFAULT", syscall(SYS_read, fd, KERNEL_ADDR, 1), EFAULT);
    CHECK_ERR("getdents64 into the kernel half on a bad fd -> EBADF (the fd first)",
              syscall(SYS_getdents64, -1, KERNEL_ADDR, 100), EBADF);
    int dir = open(".", O_RDONLY | O_DIRECTORY);
    CHECK_ERR("getdents64 into the kernel half -> EFAULT",
              syscall(SYS_getdents64, dir, KERNEL_ADDR, 4096), EFAULT);
    char dents[4096];
    CHECK_EQ("getdents64's count is an unsigned int (2^32 + 4096 is 4096)",
             syscall(SYS_getdents64, dir, dents, (1UL << 32) + 4096) > 0, 1);
    CHECK_EQ("... at the end of the directory", syscall(SYS_getdents64, dir, dents, 4096), 0);
    CHECK_EQ("getdents64 at the end into the kernel half reads nothing",
             syscall(SYS_getdents64, dir, KERNEL_ADDR, 4096), 0);
    close(dir);
    close(fd);
}

static void vectors(void)
{
    struct iovec iov = {(void *)8, 4};
    int ro = open("f", O_RDONLY);
    CHECK_ERR("readv of a bad fd with no buffers -> EBADF", syscall(SYS_readv, -1, NULL, 0), EBADF);
    CHECK_ERR("readv of a bad fd with a bad array -> EBADF (the fd first)",
              syscall(SYS_readv, -1, (void *)8, 1), EBADF);
    CHECK_ERR("writev to a read-only fd with a bad array -> EFAULT (the array before the mode)",
              syscall(SYS_writev, ro, (void *)8, 1), EFAULT);
    CHECK_ERR("writev of no buffers to a read-only fd -> EBADF", syscall(SYS_writev, ro, NULL, 0),
              EBADF);
    CHECK_ERR("writev to a read-only fd -> EBADF", writev(ro, &iov, 1), EBADF);
    char buf[4];
    struct iovec one = {buf, sizeof buf};
    CHECK_EQ("readv's count is an unsigned int: 2^32 + 1 is one buffer",
             syscall(SYS_readv, ro, &one, (1UL << 32) + 1), 4);
    close(ro);
}

static void seeking(void)
{
    int p[2];
    pipe(p);
    CHECK_ERR("lseek of a pipe with an unknown whence -> EINVAL (before ESPIPE)",
              lseek(p[0], 0, 99), EINVAL);
    CHECK_ERR("lseek of a pipe -> ESPIPE", lseek(p[0], 0, SEEK_SET), ESPIPE);
    CHECK_ERR("lseek of a pipe with SEEK_DATA -> ESPIPE", lseek(p[0], 0, SEEK_DATA), ESPIPE);
    close(p[0]);
    close(p[1]);
    int fd = file_with("f", "twelve bytes");
    lseek(fd, 10, SEEK_SET);
    CHECK_ERR("lseek SEEK_CUR past the largest offset -> EINVAL", lseek(fd, LLONG_MAX, SEEK_CUR),
              EINVAL);
    CHECK_ERR("lseek SEEK_END past the largest offset -> EINVAL", lseek(fd, LLONG_MAX, SEEK_END),
              EINVAL);
    CHECK_EQ("... the offset stays", lseek(fd, 0, SEEK_CUR), 10);
    CHECK_ERR("lseek to a negative offset -> EINVAL", lseek(fd, -1, SEEK_SET), EINVAL);
    CHECK_EQ("lseek to the largest offset", lseek(fd, LLONG_MAX, SEEK_SET), LLONG_MAX);
    CHECK_EQ("SEEK_DATA at 0 of a file of data", lseek(fd, 0, SEEK_DATA), 0);
    CHECK_EQ("SEEK_DATA at 5", lseek(fd, 5, SEEK_DATA), 5);
    CHECK_EQ("SEEK_HOLE at 0 is the end of the file", lseek(fd, 0, SEEK_HOLE), 12);
    CHECK_EQ("... and moves the offset there", lseek(fd, 0, SEEK_CUR), 12);
    CHECK_ERR("SEEK_DATA at the end -> ENXIO", lseek(fd, 12, SEEK_DATA), ENXIO);
    CHECK_ERR("SEEK_HOLE past the end -> ENXIO", lseek(fd, 100, SEEK_HOLE), ENXIO);
    CHECK_ERR("SEEK_DATA at a negative offset -> ENXIO", lseek(fd, -5, SEEK_DATA), ENXIO);
    CHECK_ERR("whence 5 -> EINVAL", lseek(fd, 0, 5), EINVAL);
    close(fd);
}

static void narrow_numbers(void)
{
    int fd = file_with("f", "twelve bytes");
    CHECK_EQ("dup2's newfd is an unsigned int: 2^32 + 20 is 20",
             syscall(SYS_dup2, fd, (1UL << 32) + 20), 20);
    CHECK_EQ("dup2 onto the same fd with other high bits is the corner case",
             syscall(SYS_dup2, fd, (1UL << 32) + fd), fd);
    close(20);
    CHECK_EQ("fcntl F_DUPFD's lowest fd is an int: 2^32 + 30 is 30",
             syscall(SYS_fcntl, fd, F_DUPFD, (1UL << 32) + 30), 30);
    close(30);
    CHECK_EQ("fcntl F_SETFD takes the FD_CLOEXEC bit of a long",
             syscall(SYS_fcntl, fd, F_SETFD, (1UL << 40) | FD_CLOEXEC), 0);
    CHECK_EQ("... it is set", fcntl(fd, F_GETFD), FD_CLOEXEC);
    CHECK("open sets O_LARGEFILE in the file's flags", fcntl(fd, F_GETFL) & KERNEL_O_LARGEFILE);
    int p[2];
    pipe(p);
    CHECK("a pipe has no O_LARGEFILE", !(fcntl(p[0], F_GETFL) & KERNEL_O_LARGEFILE));
    close(p[0]);
    close(p[1]);
    int path_fd = open("f", O_PATH);
    CHECK("an O_PATH fd has no O_LARGEFILE", !(fcntl(path_fd, F_GETFL) & KERNEL_O_LARGEFILE));
    close(path_fd);
    CHECK_EQ("posix_fadvise's advice is an int: 2^32 + 1 is POSIX_FADV_RANDOM",
             syscall(SYS_fadvise64, fd, 0L, 0L, (1UL << 32) + 1), 0);
    CHECK_ERR("a negative advice -> EINVAL", syscall(SYS_fadvise64, fd, 0L, 0L, -1L), EINVAL);
    close(fd);

    char buf[16] = {0};
    symlink("a-target", "link");
    CHECK_EQ("readlink's size is an int: 2^32 + 4 reads 4 bytes",
             syscall(SYS_readlink, "link", buf, (1UL << 32) + 4), 4);
    CHECK_STR("... the first four", buf, "a-ta");
    CHECK_ERR("readlink with a size of 2^32 (0 as an int) -> EINVAL",
              syscall(SYS_readlink, "link", buf, 1UL << 32), EINVAL);
    struct stat st;
    CHECK_OK("mknodat's dev is an unsigned int (high bits dropped)",
             syscall(SYS_mknodat, AT_FDCWD, "node", S_IFCHR | 0600,
                     (1UL << 32) | makedev(1, 3)));
    CHECK_OK("stat the node", stat("node", &st));
    CHECK("... it is device 1:3", major(st.st_rdev) == 1 && minor(st.st_rdev) == 3);
    CHECK_OK("open's mode is a umode_t (bits past 16 dropped)",
             syscall(SYS_open, "moded", O_CREAT | O_WRONLY, (1UL << 20) | 0640));
    CHECK_EQ("... mode 0640", (stat("moded", &st), st.st_mode), S_IFREG | 0640);
}

static void flags_before_paths(void)
{
    struct timespec ts[2] = {{10, 0}, {20, 0}};
    int fd = file_with("g", "x");
    CHECK_ERR("fchownat with an unknown flag -> EINVAL",
              syscall(SYS_fchownat, AT_FDCWD, (char *)8, 0, 0, 0x4), EINVAL);
    CHECK_OK("fchownat AT_EMPTY_PATH changes the fd's file", fchownat(fd, "", 7, 8, AT_EMPTY_PATH));
    struct stat st;
    CHECK("... its owner is 7:8", (fstat(fd, &st), st.st_uid == 7 && st.st_gid == 8));
    fchownat(fd, "", 0, 0, AT_EMPTY_PATH);
    CHECK_ERR("linkat with AT_SYMLINK_NOFOLLOW (not its flag) -> EINVAL",
              linkat(AT_FDCWD, "g", AT_FDCWD, "g2", AT_SYMLINK_NOFOLLOW), EINVAL);
    CHECK_ERR("utimensat with an unknown flag -> EINVAL", utimensat(AT_FDCWD, "g", ts, 0x4),
              EINVAL);
    CHECK_ERR("utimensat of a NULL path at AT_FDCWD -> EFAULT",
              syscall(SYS_utimensat, AT_FDCWD, NULL, ts, 0), EFAULT);
    CHECK_ERR("utimensat of a NULL path with a flag -> EINVAL",
              syscall(SYS_utimensat, fd, NULL, ts, AT_SYMLINK_NOFOLLOW), EINVAL);
    struct timespec omit[2] = {{1, UTIME_OMIT}, {2, UTIME_OMIT}};
    CHECK_OK("utimensat omitting both times does not look at the path",
             utimensat(AT_FDCWD, "missing", omit, 0));
    struct timespec bad[2] = {{0, 1000000000}, {0, 0}};
    CHECK_ERR("utimensat of a missing path with bad nanoseconds -> ENOENT (the path first)",
              utimensat(AT_FDCWD, "missing", bad, 0), ENOENT);
    CHECK_OK("utimensat AT_EMPTY_PATH sets the fd's file", utimensat(fd, "", ts, AT_EMPTY_PATH));
    CHECK_EQ("... its mtime", (fstat(fd, &st), st.st_mtim.tv_sec), 20);
    CHECK_ERR("umount2 with an unknown flag -> EINVAL (before the path)",
              umount2("/t-fsargs-nowhere", 0x100), EINVAL);
    CHECK_OK("fstatat of \"\" at AT_FDCWD with AT_EMPTY_PATH is the working directory",
             fstatat(AT_FDCWD, "", &st, AT_EMPTY_PATH));
    CHECK("... a directory", S_ISDIR(st.st_mode));
    close(fd);
}

static void times_and_owners(void)
{
    struct stat st;
    struct timeval tv[2] = {{100, 5}, {200, 7}};
    CHECK_OK("utimes with given times", utimes("g", tv));
    stat("g", &st);
    CHECK("... atime 100 s 5 us, mtime 200 s 7 us",
          st.st_atim.tv_sec == 100 && st.st_atim.tv_nsec == 5000 && st.st_mtim.tv_sec == 200 &&
              st.st_mtim.tv_nsec == 7000);
    struct timeval bad[2] = {{1, 1000000}, {1, 0}};
    CHECK_ERR("utimes with tv_usec of a second -> EINVAL", utimes("g", bad), EINVAL);
    CHECK_ERR("utimes with a bad time pointer -> EFAULT (before the path)",
              syscall(SYS_utimes, (char *)8, (void *)8), EFAULT);
    struct utimbuf ub = {300, 400};
    CHECK_OK("utime with given times", utime("g", &ub));
    stat("g", &st);
    CHECK("... atime 300, mtime 400, whole seconds",
          st.st_atim.tv_sec == 300 && st.st_mtim.tv_sec == 400 && st.st_mtim.tv_nsec == 0);
    CHECK_OK("utime with NULL is now", utime("g", NULL));
    CHECK("... after 2001", (stat("g", &st), st.st_mtim.tv_sec > 1000000000));

    symlink("g", "glink");
    CHECK_OK("lchown changes the link", lchown("glink", 5, 6));
    CHECK("... the link's owner", (lstat("glink", &st), st.st_uid == 5 && st.st_gid == 6));
    CHECK("... not the target's", (stat("g", &st), st.st_uid == 0 && st.st_gid == 0));
    CHECK_OK("chown follows the link", chown("glink", 9, -1));
    CHECK("... the target's uid, its gid kept", (stat("g", &st), st.st_uid == 9 && st.st_gid == 0));
    chown("g", 0, 0);
    int p[2];
    pipe(p);
    CHECK_OK("fchown of a pipe", fchown(p[0], 0, 0));
    CHECK_ERR("fchown of a bad fd -> EBADF", fchown(-1, 0, 0), EBADF);
    CHECK_ERR("fchown of a small number that is no fd -> EBADF", fchown(900, 0, 0), EBADF);
    close(p[0]);
    close(p[1]);
}

static long cfr(int in, int64_t *off_in, int out, int64_t *off_out, size_t len, unsigned flags)
{
    return syscall(SYS_copy_file_range, in, off_in, out, off_out, len, flags);
}

static void copies(void)
{
    int in = file_with("c-in", "0123456789"), out = file_with("c-out", "");
    CHECK_ERR("copy_file_range with a bad offset pointer and flags -> EFAULT (offsets first)",
              cfr(in, (int64_t *)8, out, NULL, 1, 1), EFAULT);
    CHECK_ERR("copy_file_range of a bad fd with flags -> EBADF", cfr(-1, NULL, out, NULL, 1, 1),
              EBADF);
    int dir = open(".", O_RDONLY | O_DIRECTORY);
    CHECK_ERR("copy_file_range from a directory with flags -> EINVAL (flags before EISDIR)",
              cfr(dir, NULL, out, NULL, 1, 1), EINVAL);
    close(dir);

    off_t off = -1;
    CHECK_ERR("sendfile with a bad offset pointer and bad fds -> EFAULT (the offset first)",
              syscall(SYS_sendfile, -1, -1, (void *)8, 1), EFAULT);
    CHECK_ERR("sendfile from a negative offset -> EINVAL", syscall(SYS_sendfile, out, in, &off, 1),
              EINVAL);
    CHECK_ERR("sendfile of a count that passes the largest offset -> EINVAL",
              syscall(SYS_sendfile, out, in, NULL, (size_t)-1), EINVAL);
    CHECK_ERR("sendfile from a bad fd -> EBADF", syscall(SYS_sendfile, in, -1, NULL, 1), EBADF);
    int p[2];
    pipe(p);
    write(p[1], "ab", 2);
    off = 0;
    CHECK_ERR("sendfile from a pipe at an offset -> ESPIPE",
              syscall(SYS_sendfile, out, p[0], &off, 1), ESPIPE);
    CHECK_ERR("sendfile from a pipe without one -> EINVAL (a pipe has no splice_read)",
              syscall(SYS_sendfile, out, p[0], NULL, 2), EINVAL);
    off = 4;
    CHECK_EQ("sendfile at an offset", syscall(SYS_sendfile, out, in, &off, 3), 3);
    CHECK_EQ("... the offset advanced", off, 7);
    close(p[0]);
    close(p[1]);
    char buf[8] = {0};
    CHECK_EQ("the output", pread(out, buf, sizeof buf, 0), 3);
    CHECK_STR("... the file's bytes", buf, "456");
    close(in);
    close(out);
}

int main(void)
{
    umask(022);
    scratch_dir("/tmp/t-fsargs");
    offsets_first();
    buffer_ranges();
    vectors();
    seeking();
    narrow_numbers();
    flags_before_paths();
    times_and_owners();
    copies();
    return check_exit();
}
