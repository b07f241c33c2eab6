/*
 * fileattrs: calls tar, cp and ls make around a file's contents. creat (open with
 * O_CREAT|O_WRONLY|O_TRUNC), posix_fadvise (accepted and ignored on tmpfs: EBADF, ESPIPE
 * for a pipe, EINVAL), and extended attributes on tmpfs, which has none set: getxattr,
 * lgetxattr and fgetxattr answer ENODATA for security.*, trusted.* and the POSIX ACLs (what
 * `ls -l` asks for), EOPNOTSUPP for user.* (Linux 6.1's tmpfs has no user attributes),
 * ERANGE and EINVAL for bad names, the path's own errors first; the list calls return an
 * empty list. O_PATH handles: with O_NOFOLLOW on a symlink the link itself (what glibc's
 * fchmodat(AT_SYMLINK_NOFOLLOW) opens, which tar calls on every link it extracts: then
 * EOPNOTSUPP), access mode, O_CREAT and O_TRUNC ignored, no reads. Works in
 * /tmp/t-fileattrs.
 */
#include "check.h"

#include <fcntl.h>
#include <sys/xattr.h>

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
    scratch_dir("/tmp/t-fileattrs");
    creat_call();
    fadvise();
    xattrs();
    path_handles();
    return check_exit();
}
