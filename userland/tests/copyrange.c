/*
 * copyrange: copy_file_range and close_range, the calls coreutils' cp and a C library's
 * closefrom make. copy_file_range: at the file offsets or at given ones (only those move),
 * stopping at the end of the input, its errnos (flags, directories, pipes, read-only or
 * O_APPEND output, overlapping ranges of one file, another file system). close_range: a
 * range closed, CLOSE_RANGE_CLOEXEC, its errnos.
 */
#include "check.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/mount.h>

static int file_with(const char *name, const char *data)
{
    int fd = open(name, O_CREAT | O_RDWR | O_TRUNC, 0644);
    write(fd, data, strlen(data));
    lseek(fd, 0, SEEK_SET);
    return fd;
}

static long cfr(int in, int64_t *off_in, int out, int64_t *off_out, size_t len, unsigned flags)
{
    return syscall(SYS_copy_file_range, in, off_in, out, off_out, len, flags);
}

static void copying(void)
{
    int in = file_with("t-in", "0123456789abcdef");
    int out = open("t-out", O_CREAT | O_RDWR | O_TRUNC, 0644);
    CHECK_EQ("copy_file_range at the file offsets", cfr(in, NULL, out, NULL, 4, 0), 4);
    CHECK_EQ("... the input's offset moved", lseek(in, 0, SEEK_CUR), 4);
    CHECK_EQ("... the output's offset moved", lseek(out, 0, SEEK_CUR), 4);
    int64_t off_in = 10, off_out = 100;
    CHECK_EQ("copy_file_range at given offsets", cfr(in, &off_in, out, &off_out, 3, 0), 3);
    CHECK("... the given offsets advanced", off_in == 13 && off_out == 103);
    CHECK_EQ("... the file offsets did not", lseek(in, 0, SEEK_CUR), 4);
    char buf[128] = {0};
    CHECK_EQ("the output holds both copies", pread(out, buf, sizeof buf, 0), 103);
    CHECK("... bytes 0-3 and 100-102", memcmp(buf, "0123", 4) == 0 && buf[50] == 0 &&
                                           memcmp(buf + 100, "abc", 3) == 0);
    off_in = 12;
    CHECK_EQ("copy_file_range stops at the end of the input",
             cfr(in, &off_in, out, NULL, 1000, 0), 4);
    off_in = 16;
    CHECK_EQ("copy_file_range from the end of the input -> 0", cfr(in, &off_in, out, NULL, 8, 0),
             0);
    CHECK_EQ("copy_file_range of 0 bytes", cfr(in, NULL, out, NULL, 0, 0), 0);
    CHECK_ERR("copy_file_range with flags -> EINVAL", cfr(in, NULL, out, NULL, 4, 1), EINVAL);
    off_in = -1;
    /* Linux adds the length to the offset as unsigned numbers: a wrap is EOVERFLOW. */
    CHECK_ERR("copy_file_range at a negative offset -> EOVERFLOW",
              cfr(in, &off_in, out, NULL, 4, 0), EOVERFLOW);
    CHECK_ERR("... of 0 bytes -> EINVAL", cfr(in, &off_in, out, NULL, 0, 0), EINVAL);
    CHECK_ERR("copy_file_range from a bad fd -> EBADF", cfr(99, NULL, out, NULL, 4, 0), EBADF);
    int ro = open("t-out", O_RDONLY);
    CHECK_ERR("copy_file_range into a read-only fd -> EBADF", cfr(in, NULL, ro, NULL, 4, 0),
              EBADF);
    int app = open("t-out", O_WRONLY | O_APPEND);
    CHECK_ERR("copy_file_range into an O_APPEND fd -> EBADF", cfr(in, NULL, app, NULL, 4, 0),
              EBADF);
    int wo = open("t-in", O_WRONLY);
    CHECK_ERR("copy_file_range from a write-only fd -> EBADF", cfr(wo, NULL, out, NULL, 4, 0),
              EBADF);
    int dir = open(".", O_RDONLY | O_DIRECTORY);
    CHECK_ERR("copy_file_range from a directory -> EISDIR", cfr(dir, NULL, out, NULL, 4, 0),
              EISDIR);
    int p[2];
    pipe(p);
    CHECK_ERR("copy_file_range into a pipe -> EINVAL", cfr(in, NULL, p[1], NULL, 4, 0), EINVAL);
    int64_t a = 0, b = 2;
    CHECK_ERR("copy_file_range over itself, overlapping -> EINVAL",
              cfr(in, &a, in, &b, 8, 0), EINVAL);
    a = 0, b = 8;
    CHECK_EQ("copy_file_range within one file, apart", cfr(in, &a, in, &b, 8, 0), 8);
    CHECK_EQ("... copied", pread(in, buf, 16, 0), 16);
    CHECK("... the second half repeats the first", memcmp(buf, "0123456701234567", 16) == 0);
    mkdir("t-mnt", 0755);
    if (mount("none", "t-mnt", "tmpfs", 0, NULL) == 0) {
        int other = open("t-mnt/f", O_CREAT | O_RDWR, 0644);
        a = 0;
        CHECK_ERR("copy_file_range to another file system -> EXDEV",
                  cfr(in, &a, other, NULL, 4, 0), EXDEV);
        close(other);
        umount("t-mnt");
    }
    rmdir("t-mnt");
    close(in);
    close(out);
    close(ro);
    close(app);
    close(wo);
    close(dir);
    close(p[0]);
    close(p[1]);
    unlink("t-in");
    unlink("t-out");
}

static void closing(void)
{
    int fds[6];
    for (int i = 0; i < 6; i++)
        fds[i] = dup2(0, 40 + i);
    (void)fds;
    CHECK_EQ("close_range 41-43", syscall(SYS_close_range, 41, 43, 0), 0);
    CHECK("... 40 and 44 stay open, 41 to 43 are closed",
          fcntl(40, F_GETFD) == 0 && fcntl(44, F_GETFD) == 0 && fcntl(41, F_GETFD) == -1 &&
              fcntl(43, F_GETFD) == -1);
    CHECK_EQ("close_range CLOSE_RANGE_CLOEXEC 44-45", syscall(SYS_close_range, 44, 45, 4), 0);
    CHECK("... they stay open, close-on-exec",
          fcntl(44, F_GETFD) == FD_CLOEXEC && fcntl(45, F_GETFD) == FD_CLOEXEC);
    CHECK_EQ("close_range to ~0 closes everything from 40", syscall(SYS_close_range, 40, ~0U, 0),
             0);
    CHECK("... 40 and 45 are closed", fcntl(40, F_GETFD) == -1 && fcntl(45, F_GETFD) == -1);
    CHECK_EQ("close_range of nothing open", syscall(SYS_close_range, 500, 600, 0), 0);
    CHECK_ERR("close_range with first > last -> EINVAL", syscall(SYS_close_range, 5, 4, 0),
              EINVAL);
    CHECK_ERR("close_range with an unknown flag -> EINVAL", syscall(SYS_close_range, 40, 41, 8),
              EINVAL);
    CHECK_EQ("close_range CLOSE_RANGE_UNSHARE in a process of one thread",
             syscall(SYS_close_range, 40, 41, 2), 0);
    CHECK_EQ("fd 0 is still open", fcntl(0, F_GETFD) >= 0, 1);
}

int main(void)
{
    copying();
    closing();
    return check_exit();
}
