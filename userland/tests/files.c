/*
 * files: file descriptors and the bytes behind them. open/openat flags, read/write,
 * pread/pwrite, lseek, readv/writev, dup/dup2/dup3, fcntl, close, truncate/ftruncate.
 * And what tar, cp and ls call around a file's contents: creat, posix_fadvise (accepted and
 * ignored on tmpfs: EBADF, ESPIPE for a pipe, EINVAL), extended attributes on tmpfs with
 * none set (getxattr, lgetxattr, fgetxattr: ENODATA for security.*, trusted.* and the POSIX
 * ACLs, EOPNOTSUPP for user.*, ERANGE and EINVAL for bad names, the path's errors first;
 * empty lists), O_PATH handles (with O_NOFOLLOW on a symlink the link itself, as glibc's
 * fchmodat(AT_SYMLINK_NOFOLLOW) opens it; access mode, O_CREAT and O_TRUNC ignored).
 * Works in /tmp/t-files.
 */
#include "check.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <sys/xattr.h>

static void open_flags(void)
{
    int fd = open("f", O_CREAT | O_EXCL | O_RDWR, 0644);
    CHECK("open O_CREAT|O_EXCL creates a new file", fd >= 0);
    CHECK_ERR("open O_CREAT|O_EXCL of an existing file -> EEXIST",
              open("f", O_CREAT | O_EXCL | O_RDWR, 0644), EEXIST);
    CHECK_ERR("open O_DIRECTORY of a regular file -> ENOTDIR", open("f", O_RDONLY | O_DIRECTORY),
              ENOTDIR);
    CHECK_ERR("open of a missing file -> ENOENT", open("missing", O_RDONLY), ENOENT);
    CHECK_ERR("open of a file under a missing directory -> ENOENT",
              open("missing/f", O_CREAT | O_RDWR, 0644), ENOENT);
    CHECK_ERR("open of a path through a file -> ENOTDIR", open("f/x", O_RDONLY), ENOTDIR);
    CHECK_ERR("open O_WRONLY of a directory -> EISDIR", open(".", O_WRONLY), EISDIR);
    CHECK_ERR("open O_TMPFILE without write access (bad flags) -> EINVAL",
              syscall(SYS_open, ".", O_TMPFILE | O_RDONLY, 0600), EINVAL);
    int dir = open(".", O_RDONLY | O_DIRECTORY);
    CHECK("open O_DIRECTORY of a directory", dir >= 0);

    int at = openat(dir, "g", O_CREAT | O_WRONLY, 0600);
    CHECK("openat relative to a directory fd creates the file", at >= 0);
    struct stat st;
    CHECK_EQ("the file openat created is visible by path", stat("g", &st), 0);
    CHECK_ERR("openat with a bad dirfd and a relative path -> EBADF",
              openat(1000, "g", O_RDONLY), EBADF);
    int abs = openat(1000, "/tmp/t-files/g", O_RDONLY);
    CHECK("openat ignores dirfd for an absolute path", abs >= 0);
    CHECK_ERR("openat relative to a regular file's fd -> ENOTDIR", openat(fd, "g", O_RDONLY),
              ENOTDIR);
    close(abs);
    close(at);
    close(dir);

    int rd = open("f", O_RDONLY);
    CHECK_ERR("write to an O_RDONLY fd -> EBADF", write(rd, "x", 1), EBADF);
    close(rd);
    char c;
    int wr = open("f", O_WRONLY);
    CHECK_ERR("read from an O_WRONLY fd -> EBADF", read(wr, &c, 1), EBADF);
    CHECK_EQ("write 5 bytes", write(wr, "abcde", 5), 5);
    close(wr);

    int app = open("f", O_WRONLY | O_APPEND);
    lseek(app, 0, SEEK_SET);
    CHECK_EQ("O_APPEND write", write(app, "fg", 2), 2);
    CHECK_EQ("O_APPEND writes at the end whatever the offset", lseek(app, 0, SEEK_CUR), 7);
    close(app);
    int tr = open("f", O_RDWR | O_TRUNC);
    CHECK_EQ("O_TRUNC empties the file", lseek(tr, 0, SEEK_END), 0);
    close(tr);
    close(fd);
}

static void read_write_seek(void)
{
    int fd = open("rw", O_CREAT | O_RDWR | O_TRUNC, 0644);
    char buf[32] = {0};
    CHECK_EQ("write returns the byte count", write(fd, "hello world", 11), 11);
    CHECK_EQ("the offset follows the write", lseek(fd, 0, SEEK_CUR), 11);
    CHECK_EQ("read at end of file returns 0", read(fd, buf, sizeof buf), 0);
    CHECK_EQ("lseek SEEK_SET", lseek(fd, 0, SEEK_SET), 0);
    CHECK_EQ("read returns what is there", read(fd, buf, sizeof buf), 11);
    CHECK_STR("read gets the bytes written", buf, "hello world");
    memset(buf, 0, sizeof buf);
    CHECK_EQ("pread at offset 6", pread(fd, buf, 5, 6), 5);
    CHECK_STR("pread reads at its offset", buf, "world");
    CHECK_EQ("pwrite at offset 0", pwrite(fd, "J", 1, 0), 1);
    CHECK_EQ("pread and pwrite leave the offset alone", lseek(fd, 0, SEEK_CUR), 11);
    CHECK_EQ("lseek SEEK_END", lseek(fd, 0, SEEK_END), 11);
    CHECK_EQ("lseek SEEK_CUR backwards", lseek(fd, -5, SEEK_CUR), 6);
    CHECK_ERR("lseek to a negative offset -> EINVAL", lseek(fd, -100, SEEK_CUR), EINVAL);
    CHECK_EQ("a failed lseek keeps the offset", lseek(fd, 0, SEEK_CUR), 6);
    CHECK_ERR("lseek with a bad whence -> EINVAL", lseek(fd, 0, 42), EINVAL);
    CHECK_ERR("pread at a negative offset -> EINVAL", pread(fd, buf, 1, -1), EINVAL);
    CHECK_EQ("lseek past the end", lseek(fd, 20, SEEK_SET), 20);
    CHECK_EQ("write past the end", write(fd, "!", 1), 1);
    memset(buf, 'x', sizeof buf);
    CHECK_EQ("pread across the hole", pread(fd, buf, sizeof buf, 0), 21);
    CHECK("the hole reads as zeros", buf[11] == 0 && buf[19] == 0 && buf[20] == '!');
    CHECK("pwrite changed the first byte", buf[0] == 'J');

    int p[2];
    REQUIRE("pipe", pipe(p) == 0);
    CHECK_ERR("lseek on a pipe -> ESPIPE", lseek(p[0], 0, SEEK_SET), ESPIPE);
    CHECK_ERR("pread on a pipe -> ESPIPE", pread(p[0], buf, 1, 0), ESPIPE);
    CHECK_ERR("pwrite on a pipe -> ESPIPE", pwrite(p[1], buf, 1, 0), ESPIPE);
    close(p[0]);
    close(p[1]);
    CHECK_ERR("read from a bad fd -> EBADF", read(1000, buf, 1), EBADF);
    CHECK_ERR("write to a closed fd -> EBADF", write(p[1], buf, 1), EBADF);
    int dir = open(".", O_RDONLY | O_DIRECTORY);
    CHECK_ERR("read from a directory -> EISDIR", read(dir, buf, 1), EISDIR);
    close(dir);

    struct iovec out[3] = {{"one ", 4}, {"", 0}, {"two three", 9}};
    lseek(fd, 0, SEEK_SET);
    CHECK_EQ("writev writes every buffer in order", writev(fd, out, 3), 13);
    char a[5] = {0}, b[16] = {0};
    struct iovec in[2] = {{a, 4}, {b, sizeof b - 1}};
    lseek(fd, 0, SEEK_SET);
    CHECK_EQ("readv fills the buffers (file is longer)", readv(fd, in, 2), 19);
    CHECK_STR("readv fills the first buffer first", a, "one ");
    CHECK("readv continues in the second buffer", memcmp(b, "two three", 9) == 0);
    struct iovec bad = {buf, (size_t)-1};
    CHECK_ERR("readv with a negative total length -> EINVAL", readv(fd, &bad, 1), EINVAL);
    CHECK_ERR("writev with a negative iovec count -> EINVAL", syscall(SYS_writev, fd, out, -1), EINVAL);
    CHECK_EQ("writev with zero buffers", writev(fd, out, 0), 0);
    close(fd);
}

static void dup_and_fcntl(void)
{
    int fd = open("dup", O_CREAT | O_RDWR | O_TRUNC, 0644);
    int low = dup(fd);
    CHECK("dup returns the lowest free fd", low == fd + 1);
    CHECK_EQ("a dup shares the offset: write through the copy", write(low, "abc", 3), 3);
    CHECK_EQ("the original sees the moved offset", lseek(fd, 0, SEEK_CUR), 3);
    close(low);
    CHECK_EQ("dup2 to a chosen fd", dup2(fd, 50), 50);
    CHECK_EQ("dup2 onto itself returns the fd", dup2(fd, fd), fd);
    CHECK_ERR("dup2 of a bad fd -> EBADF", dup2(1000, 51), EBADF);
    CHECK_ERR("dup2 onto itself of a bad fd -> EBADF", dup2(1000, 1000), EBADF);
    /* Raw: musl's dup3() checks old == new itself and calls dup2 without O_CLOEXEC. */
    CHECK_ERR("dup3 onto itself -> EINVAL", syscall(SYS_dup3, fd, fd, 0), EINVAL);
    CHECK_ERR("dup3 with bad flags -> EINVAL", syscall(SYS_dup3, fd, 52, O_APPEND), EINVAL);
    CHECK_EQ("dup3 O_CLOEXEC", dup3(fd, 52, O_CLOEXEC), 52);
    CHECK_EQ("dup3 O_CLOEXEC sets FD_CLOEXEC on the copy", fcntl(52, F_GETFD), FD_CLOEXEC);
    CHECK_EQ("dup2 replaces an open fd and clears FD_CLOEXEC", dup2(fd, 52), 52);
    CHECK_EQ("the replaced fd has no FD_CLOEXEC", fcntl(52, F_GETFD), 0);
    CHECK_ERR("dup2 to a negative fd -> EBADF", dup2(fd, -1), EBADF);

    CHECK_EQ("F_GETFD of a new fd is 0", fcntl(fd, F_GETFD), 0);
    CHECK_EQ("F_SETFD FD_CLOEXEC", fcntl(fd, F_SETFD, FD_CLOEXEC), 0);
    CHECK_EQ("F_GETFD after F_SETFD", fcntl(fd, F_GETFD), FD_CLOEXEC);
    CHECK_EQ("FD_CLOEXEC is per fd, not per open file", fcntl(50, F_GETFD), 0);
    CHECK_EQ("F_GETFL access mode", fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
    CHECK_EQ("F_SETFL O_APPEND", fcntl(fd, F_SETFL, O_APPEND | O_NONBLOCK), 0);
    CHECK("F_GETFL shows O_APPEND and O_NONBLOCK",
          (fcntl(fd, F_GETFL) & (O_APPEND | O_NONBLOCK)) == (O_APPEND | O_NONBLOCK));
    CHECK("file status flags are shared with dups", fcntl(50, F_GETFL) & O_APPEND);
    int ro = open("dup", O_RDONLY);
    CHECK_EQ("F_GETFL of O_RDONLY", fcntl(ro, F_GETFL) & O_ACCMODE, O_RDONLY);
    close(ro);
    CHECK("F_DUPFD returns the lowest fd >= the minimum", fcntl(fd, F_DUPFD, 60) == 60);
    CHECK_EQ("F_DUPFD skips taken fds", fcntl(fd, F_DUPFD, 60), 61);
    CHECK_EQ("F_DUPFD clears FD_CLOEXEC", fcntl(60, F_GETFD), 0);
    CHECK_EQ("F_DUPFD_CLOEXEC", fcntl(fd, F_DUPFD_CLOEXEC, 60), 62);
    CHECK_EQ("F_DUPFD_CLOEXEC sets FD_CLOEXEC", fcntl(62, F_GETFD), FD_CLOEXEC);
    CHECK_ERR("F_DUPFD with a negative minimum -> EINVAL", fcntl(fd, F_DUPFD, -1), EINVAL);
    CHECK_ERR("fcntl of a bad fd -> EBADF", fcntl(1000, F_GETFD), EBADF);
    CHECK_ERR("fcntl with an unknown command -> EINVAL", fcntl(fd, 9999), EINVAL);

    CHECK_EQ("close", close(62), 0);
    CHECK_ERR("close of a closed fd -> EBADF", close(62), EBADF);
    CHECK_ERR("close of a bad fd -> EBADF", close(1000), EBADF);
    CHECK_ERR("close of a negative fd -> EBADF", close(-1), EBADF);
    close(50);
    close(52);
    close(60);
    close(61);
    close(fd);
}

static void truncation(void)
{
    struct stat st;
    int fd = open("trunc", O_CREAT | O_RDWR | O_TRUNC, 0644);
    write(fd, "0123456789", 10);
    CHECK_EQ("ftruncate shrinks", ftruncate(fd, 4), 0);
    fstat(fd, &st);
    CHECK_EQ("size after shrinking", st.st_size, 4);
    CHECK_EQ("ftruncate extends", ftruncate(fd, 8), 0);
    char buf[8];
    CHECK_EQ("read the extended file", pread(fd, buf, 8, 0), 8);
    CHECK("the extension reads as zeros", memcmp(buf, "0123\0\0\0\0", 8) == 0);
    CHECK_EQ("the offset is not moved by ftruncate", lseek(fd, 0, SEEK_CUR), 10);
    CHECK_EQ("truncate by path", truncate("trunc", 2), 0);
    stat("trunc", &st);
    CHECK_EQ("size after truncate", st.st_size, 2);
    CHECK_ERR("ftruncate to a negative length -> EINVAL", ftruncate(fd, -1), EINVAL);
    CHECK_ERR("truncate to a negative length -> EINVAL", truncate("trunc", -1), EINVAL);
    CHECK_ERR("truncate of a directory -> EISDIR", truncate(".", 0), EISDIR);
    CHECK_ERR("truncate of a missing file -> ENOENT", truncate("missing", 0), ENOENT);
    int ro = open("trunc", O_RDONLY);
    CHECK_ERR("ftruncate of an O_RDONLY fd -> EINVAL", ftruncate(ro, 0), EINVAL);
    close(ro);
    close(fd);
}

/* posix_fadvise's advice values (Linux's include/uapi/linux/fadvise.h). */
#define ADVICE_SEQUENTIAL 2
#define ADVICE_DONTNEED 4
#define ADVICE_NOREUSE 5

static void creat_call(void)
{
    int fd = syscall(SYS_creat, "made", 0640);
    CHECK("creat creates the file", fd >= 0);
    CHECK_EQ("creat opens it write-only", fcntl(fd, F_GETFL) & O_ACCMODE, O_WRONLY);
    CHECK_EQ("write through it", write(fd, "abcdef", 6), 6);
    close(fd);
    struct stat st;
    CHECK_OK("stat", stat("made", &st));
    CHECK_EQ("creat's mode (umask 022)", st.st_mode & 0777, 0640);
    fd = syscall(SYS_creat, "made", 0600);
    CHECK("creat of an existing file opens it", fd >= 0);
    CHECK_OK("fstat", fstat(fd, &st));
    CHECK_EQ("and truncates it", st.st_size, 0);
    CHECK_EQ("the mode is kept", st.st_mode & 0777, 0640);
    char c;
    CHECK_ERR("a creat fd is not readable", read(fd, &c, 1), EBADF);
    close(fd);
    CHECK_ERR("creat in a missing directory", syscall(SYS_creat, "none/x", 0644), ENOENT);
    CHECK_ERR("creat of a directory", syscall(SYS_creat, ".", 0644), EISDIR);
}

static void fadvise(void)
{
    int fd = open("made", O_RDWR);
    REQUIRE("open", fd >= 0);
    /* The raw call: the libc wrappers return the error instead of setting errno. */
    CHECK_OK("fadvise SEQUENTIAL", syscall(SYS_fadvise64, fd, 0, 0, ADVICE_SEQUENTIAL));
    CHECK_OK("fadvise DONTNEED of a range", syscall(SYS_fadvise64, fd, 4096, 8192, ADVICE_DONTNEED));
    CHECK_OK("fadvise NOREUSE", syscall(SYS_fadvise64, fd, 0, 0, ADVICE_NOREUSE));
    CHECK_ERR("fadvise of an unknown advice", syscall(SYS_fadvise64, fd, 0, 0, 6), EINVAL);
    CHECK_ERR("fadvise of a negative length", syscall(SYS_fadvise64, fd, 0L, -1L, 0L), EINVAL);
    close(fd);
    CHECK_ERR("fadvise of a closed fd", syscall(SYS_fadvise64, fd, 0, 0, 0), EBADF);
    int p[2];
    REQUIRE("pipe", pipe(p) == 0);
    CHECK_ERR("fadvise of a pipe", syscall(SYS_fadvise64, p[0], 0, 0, 0), ESPIPE);
    close(p[0]);
    close(p[1]);
}

static void xattrs(void)
{
    char value[64];
    char list[64];
    CHECK_OK("symlink", symlink("made", "link"));
    CHECK_ERR("getxattr security.selinux", getxattr("made", "security.selinux", value, sizeof value), ENODATA);
    CHECK_ERR("getxattr system.posix_acl_access", getxattr("made", "system.posix_acl_access", value, sizeof value), ENODATA);
    CHECK_ERR("getxattr system.posix_acl_default of a directory", getxattr(".", "system.posix_acl_default", value, sizeof value), ENODATA);
    CHECK_ERR("getxattr trusted.x", getxattr("made", "trusted.x", value, sizeof value), ENODATA);
    CHECK_ERR("getxattr user.x (tmpfs has no user attributes)", getxattr("made", "user.x", value, sizeof value), EOPNOTSUPP);
    CHECK_ERR("getxattr of an unknown namespace", getxattr("made", "other.x", value, sizeof value), EOPNOTSUPP);
    CHECK_ERR("getxattr of a bare security. prefix", getxattr("made", "security.", value, sizeof value), EINVAL);
    CHECK_ERR("getxattr of an empty name", getxattr("made", "", value, sizeof value), ERANGE);
    char long_name[300];
    memset(long_name, 'a', sizeof long_name);
    memcpy(long_name, "security.", 9);
    long_name[sizeof long_name - 1] = 0;
    CHECK_ERR("getxattr of a 299-byte name", getxattr("made", long_name, value, sizeof value), ERANGE);
    long_name[255] = 0;
    CHECK_ERR("getxattr of a 255-byte name", getxattr("made", long_name, value, sizeof value), ENODATA);
    CHECK_ERR("getxattr of a bad name pointer", syscall(SYS_getxattr, "made", (void *)8, value, sizeof value), EFAULT);
    CHECK_ERR("getxattr of a missing file", getxattr("none", "security.selinux", value, sizeof value), ENOENT);
    CHECK_ERR("the path is checked first", getxattr("none", "", value, sizeof value), ENOENT);
    CHECK_ERR("lgetxattr of a symlink", lgetxattr("link", "security.selinux", value, sizeof value), ENODATA);
    CHECK_OK("unlink the target", unlink("made"));
    CHECK_ERR("getxattr through a dangling link", getxattr("link", "security.selinux", value, sizeof value), ENOENT);
    CHECK_ERR("lgetxattr of the dangling link itself", lgetxattr("link", "security.selinux", value, sizeof value), ENODATA);
    int fd = open(".", O_RDONLY);
    CHECK_ERR("fgetxattr", fgetxattr(fd, "security.selinux", value, sizeof value), ENODATA);
    CHECK_ERR("fgetxattr user.x", fgetxattr(fd, "user.x", value, sizeof value), EOPNOTSUPP);
    CHECK_EQ("flistxattr: none", flistxattr(fd, list, sizeof list), 0);
    close(fd);
    CHECK_ERR("fgetxattr of a closed fd", fgetxattr(fd, "security.selinux", value, sizeof value), EBADF);
    CHECK_ERR("flistxattr of a closed fd", flistxattr(fd, list, sizeof list), EBADF);
    CHECK_EQ("listxattr: none", listxattr(".", list, sizeof list), 0);
    CHECK_EQ("listxattr with no buffer: the size, 0", listxattr(".", NULL, 0), 0);
    CHECK_EQ("llistxattr of a link: none", llistxattr("link", list, sizeof list), 0);
    CHECK_ERR("listxattr through a dangling link", listxattr("link", list, sizeof list), ENOENT);
}

static void path_handles(void)
{
    int w = open("target", O_CREAT | O_WRONLY, 0644);
    CHECK_EQ("write a file", write(w, "data", 4), 4);
    close(w);
    CHECK_OK("symlink", symlink("target", "plink"));
    CHECK_ERR("O_NOFOLLOW on a symlink", open("plink", O_RDONLY | O_NOFOLLOW), ELOOP);
    int fd = open("plink", O_PATH | O_NOFOLLOW);
    CHECK("O_PATH|O_NOFOLLOW opens the link itself", fd >= 0);
    struct stat st;
    CHECK_OK("fstat of it", fstat(fd, &st));
    CHECK("it is a symlink", S_ISLNK(st.st_mode));
    char c;
    CHECK_ERR("no reads through O_PATH", read(fd, &c, 1), EBADF);
    close(fd);
    fd = open("plink", O_PATH);
    CHECK_OK("fstat through a followed O_PATH", fstat(fd, &st));
    CHECK("it is the target", S_ISREG(st.st_mode) && st.st_size == 4);
    close(fd);
    fd = open("target", O_PATH | O_WRONLY | O_TRUNC);
    CHECK("O_PATH ignores the access mode and O_TRUNC", fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 4);
    close(fd);
    fd = open(".", O_PATH | O_RDWR);
    CHECK("O_PATH|O_RDWR of a directory", fd >= 0);
    close(fd);
    CHECK_ERR("O_PATH ignores O_CREAT", open("absent", O_PATH | O_CREAT, 0644), ENOENT);
    CHECK_ERR("fchmodat AT_SYMLINK_NOFOLLOW of a link", fchmodat(AT_FDCWD, "plink", 0777, AT_SYMLINK_NOFOLLOW), EOPNOTSUPP);
    CHECK_OK("fchmodat AT_SYMLINK_NOFOLLOW of a file", fchmodat(AT_FDCWD, "target", 0600, AT_SYMLINK_NOFOLLOW));
    CHECK_OK("stat", stat("target", &st));
    CHECK_EQ("its mode", st.st_mode & 0777, 0600);
}

int main(void)
{
    umask(022);
    scratch_dir("/tmp/t-files");
    open_flags();
    read_write_seek();
    dup_and_fcntl();
    truncation();
    creat_call();
    fadvise();
    xattrs();
    path_handles();
    return check_exit();
}
