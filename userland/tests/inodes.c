/*
 * inodes: what stat reports and what changes it. stat/fstat/lstat/newfstatat fields,
 * symlink/readlink and symlink loops, access/faccessat, umask, chmod/fchmod, utimensat,
 * name and path length limits. Works in /tmp/t-inodes.
 */
#include "check.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>

static void touch(const char *path, mode_t mode)
{
    int fd = open(path, O_CREAT | O_WRONLY, mode);
    if (fd >= 0)
        close(fd);
}

static void stat_fields(void)
{
    struct stat st;
    int fd = open("f", O_CREAT | O_RDWR, 0644);
    write(fd, "twelve bytes", 12);
    CHECK_EQ("stat", stat("f", &st), 0);
    CHECK_EQ("stat st_mode of a new file (umask 022)", st.st_mode, S_IFREG | 0644);
    CHECK_EQ("stat st_size", st.st_size, 12);
    CHECK_EQ("stat st_nlink", st.st_nlink, 1);
    CHECK_EQ("stat st_uid is root", st.st_uid, 0);
    CHECK_EQ("stat st_gid is root", st.st_gid, 0);
    struct stat fst;
    CHECK_EQ("fstat", fstat(fd, &fst), 0);
    CHECK("fstat and stat agree on the inode", fst.st_ino == st.st_ino && fst.st_dev == st.st_dev);
    CHECK_EQ("fstat st_size", fst.st_size, 12);
    CHECK("st_blocks counts 512-byte units covering the data", st.st_blocks * 512 >= 12);
    CHECK_ERR("fstat of a bad fd -> EBADF", fstat(1000, &st), EBADF);
    CHECK_ERR("stat of a missing file -> ENOENT", stat("missing", &st), ENOENT);
    CHECK_ERR("stat of an empty path -> ENOENT", stat("", &st), ENOENT);

    mkdir("d", 0755);
    CHECK_EQ("stat st_mode of a directory", (stat("d", &st), st.st_mode), S_IFDIR | 0755);
    CHECK_EQ("symlink", symlink("f", "link"), 0);
    CHECK_EQ("lstat", lstat("link", &st), 0);
    CHECK_EQ("lstat st_mode of a symlink", st.st_mode & S_IFMT, S_IFLNK);
    CHECK_EQ("lstat st_size of a symlink is its target's length", st.st_size, 1);
    CHECK_EQ("stat follows the symlink", (stat("link", &st), st.st_size), 12);
    CHECK_EQ("newfstatat", fstatat(AT_FDCWD, "link", &st, 0), 0);
    CHECK_EQ("newfstatat follows by default", st.st_mode, S_IFREG | 0644);
    fstatat(AT_FDCWD, "link", &st, AT_SYMLINK_NOFOLLOW);
    CHECK_EQ("newfstatat AT_SYMLINK_NOFOLLOW", st.st_mode & S_IFMT, S_IFLNK);
    CHECK_EQ("newfstatat AT_EMPTY_PATH stats the fd", fstatat(fd, "", &st, AT_EMPTY_PATH), 0);
    CHECK_EQ("AT_EMPTY_PATH gives the fd's file", st.st_size, 12);
    int dir = open("d", O_RDONLY | O_DIRECTORY);
    touch("d/inner", 0600);
    CHECK_EQ("newfstatat relative to a directory fd", fstatat(dir, "inner", &st, 0), 0);
    CHECK_EQ("it finds the file in that directory", st.st_mode, S_IFREG | 0600);
    CHECK_ERR("newfstatat with bad flags -> EINVAL", fstatat(dir, "inner", &st, 0x12345), EINVAL);
    close(dir);
    close(fd);
}

static void symlinks(void)
{
    char buf[64];
    struct stat st;
    memset(buf, 0, sizeof buf);
    CHECK_EQ("readlink returns the target length", readlink("link", buf, sizeof buf), 1);
    CHECK_STR("readlink returns the target", buf, "f");
    symlink("/tmp/t-inodes/d/inner", "abs");
    memset(buf, 0, sizeof buf);
    CHECK_EQ("readlink truncates to the buffer, no NUL", readlink("abs", buf, 4), 4);
    CHECK_STR("the truncated target", buf, "/tmp");
    CHECK_ERR("readlink of a regular file -> EINVAL", readlink("f", buf, sizeof buf), EINVAL);
    CHECK_ERR("readlink of a missing file -> ENOENT", readlink("missing", buf, sizeof buf),
              ENOENT);
    CHECK_ERR("readlink with a zero size -> EINVAL", syscall(SYS_readlink, "abs", buf, 0), EINVAL);
    CHECK_EQ("stat through an absolute symlink", (stat("abs", &st), st.st_mode), S_IFREG | 0600);
    symlink("d", "dirlink");
    CHECK_EQ("a path through a symlink to a directory", stat("dirlink/inner", &st), 0);
    CHECK_ERR("symlink over an existing name -> EEXIST", symlink("x", "link"), EEXIST);
    symlink("nowhere", "dangling");
    CHECK_ERR("stat of a dangling symlink -> ENOENT", stat("dangling", &st), ENOENT);
    CHECK_EQ("lstat of a dangling symlink", lstat("dangling", &st), 0);
    int fd = open("dangling", O_CREAT | O_WRONLY, 0644);
    CHECK("open O_CREAT through a dangling symlink creates its target",
          fd >= 0 && stat("nowhere", &st) == 0);
    close(fd);
    CHECK_ERR("open O_NOFOLLOW of a symlink -> ELOOP", open("link", O_RDONLY | O_NOFOLLOW), ELOOP);
    symlink("loop-b", "loop-a");
    symlink("loop-a", "loop-b");
    CHECK_ERR("open through a symlink loop -> ELOOP", open("loop-a", O_RDONLY), ELOOP);
    CHECK_ERR("stat through a symlink loop -> ELOOP", stat("loop-a", &st), ELOOP);
    symlink("self", "self");
    CHECK_ERR("a symlink to itself -> ELOOP", stat("self/x", &st), ELOOP);
    CHECK_EQ("lstat of a symlink in a loop works", lstat("loop-a", &st), 0);
    /* 40 links are followed (Linux's MAXSYMLINKS); a chain of 41 fails. */
    char name[16], target[16];
    for (int i = 0; i < 41; i++) {
        snprintf(name, sizeof name, "chain%d", i);
        snprintf(target, sizeof target, i == 40 ? "f" : "chain%d", i + 1);
        symlink(target, name);
    }
    CHECK_EQ("a chain of 40 symlinks is followed", stat("chain1", &st), 0);
    CHECK_ERR("a chain of 41 symlinks -> ELOOP", stat("chain0", &st), ELOOP);
    CHECK_EQ("unlink removes the symlink, not its target", unlink("link"), 0);
    CHECK_EQ("the target survives", stat("f", &st), 0);
}

static void permissions(void)
{
    struct stat st;
    CHECK_EQ("access F_OK of an existing file", access("f", F_OK), 0);
    CHECK_ERR("access of a missing file -> ENOENT", access("missing", F_OK), ENOENT);
    CHECK_EQ("access R_OK|W_OK", access("f", R_OK | W_OK), 0);
    CHECK_ERR("access X_OK of a 0644 file, even for root -> EACCES", access("f", X_OK), EACCES);
    CHECK_ERR("access with a bad mode -> EINVAL", access("f", 0x100), EINVAL);
    int dir = open("d", O_RDONLY | O_DIRECTORY);
    CHECK_EQ("faccessat relative to a directory fd", faccessat(dir, "inner", R_OK, 0), 0);
    CHECK_ERR("faccessat of a missing name -> ENOENT", faccessat(dir, "gone", F_OK, 0), ENOENT);
    /* faccessat has no flags: what the caller leaves in r10 (glibc's syscall() loads its
     * fourth argument there) is not read. faccessat2 reads and checks it. */
    CHECK_EQ("faccessat ignores what r10 holds",
             syscall(SYS_faccessat, dir, "inner", R_OK, 0xdead0000 | AT_SYMLINK_NOFOLLOW), 0);
    CHECK_ERR("faccessat2 with an unknown flag -> EINVAL",
              syscall(SYS_faccessat2, dir, "inner", R_OK, 0x10000), EINVAL);
    CHECK_ERR("faccessat2 checks the mode before the flags -> EINVAL",
              syscall(SYS_faccessat2, dir, "gone", 0x100, AT_EACCESS), EINVAL);
    CHECK_EQ("faccessat2 with AT_EACCESS", syscall(SYS_faccessat2, dir, "inner", R_OK, AT_EACCESS),
             0);
    CHECK_EQ("faccessat2 with AT_EMPTY_PATH checks the fd's own file",
             syscall(SYS_faccessat2, dir, "", R_OK | X_OK, AT_EMPTY_PATH), 0);
    CHECK_ERR("faccessat2 of an empty path without AT_EMPTY_PATH -> ENOENT",
              syscall(SYS_faccessat2, dir, "", R_OK, 0), ENOENT);
    close(dir);

    CHECK_EQ("umask returns the previous mask", umask(077), 022);
    touch("private", 0666);
    CHECK_EQ("umask 077 clears group and other bits", (stat("private", &st), st.st_mode),
             S_IFREG | 0600);
    CHECK_EQ("umask keeps only permission bits", umask(01777 | 027), 077);
    CHECK_EQ("the mask read back", umask(022), 0777);
    mkdir("masked", 0777);
    CHECK_EQ("mkdir 0777 under umask 022", (stat("masked", &st), st.st_mode), S_IFDIR | 0755);

    CHECK_EQ("chmod", chmod("f", 0751), 0);
    CHECK_EQ("chmod sets the permission bits", (stat("f", &st), st.st_mode), S_IFREG | 0751);
    CHECK_EQ("access X_OK once an execute bit is set", access("f", X_OK), 0);
    CHECK_EQ("chmod keeps setuid/setgid/sticky bits", chmod("f", 07644), 0);
    CHECK_EQ("mode with the special bits", (stat("f", &st), st.st_mode), S_IFREG | 07644);
    CHECK_EQ("chmod through a symlink changes the target", chmod("abs", 0640), 0);
    CHECK_EQ("the target's new mode", (stat("d/inner", &st), st.st_mode), S_IFREG | 0640);
    int fd = open("f", O_RDONLY);
    CHECK_EQ("fchmod", fchmod(fd, 0600), 0);
    CHECK_EQ("fchmod sets the mode", (stat("f", &st), st.st_mode), S_IFREG | 0600);
    close(fd);
    CHECK_ERR("chmod of a missing file -> ENOENT", chmod("missing", 0644), ENOENT);
    CHECK_ERR("fchmod of a bad fd -> EBADF", fchmod(1000, 0644), EBADF);
}

static void times(void)
{
    struct stat st;
    struct timespec ts[2] = {{1000000000, 123}, {1234567890, 456789}};
    CHECK_EQ("utimensat with explicit times", utimensat(AT_FDCWD, "f", ts, 0), 0);
    stat("f", &st);
    CHECK_EQ("st_atime set", st.st_atim.tv_sec, 1000000000);
    CHECK_EQ("st_atime nanoseconds set", st.st_atim.tv_nsec, 123);
    CHECK_EQ("st_mtime set", st.st_mtim.tv_sec, 1234567890);
    CHECK_EQ("st_mtime nanoseconds set", st.st_mtim.tv_nsec, 456789);
    struct timespec omit[2] = {{5, UTIME_OMIT}, {7, 0}};
    CHECK_EQ("utimensat UTIME_OMIT", utimensat(AT_FDCWD, "f", omit, 0), 0);
    stat("f", &st);
    CHECK("UTIME_OMIT keeps atime, sets mtime",
          st.st_atim.tv_sec == 1000000000 && st.st_mtim.tv_sec == 7);
    CHECK_EQ("utimensat with NULL sets the current time", utimensat(AT_FDCWD, "f", NULL, 0), 0);
    stat("f", &st);
    CHECK("the current time is after 2001", st.st_mtim.tv_sec > 1000000000);
    utimensat(AT_FDCWD, "abs", ts, AT_SYMLINK_NOFOLLOW);
    lstat("abs", &st);
    CHECK_EQ("utimensat AT_SYMLINK_NOFOLLOW sets the link's own time", st.st_mtim.tv_sec,
             1234567890);
    struct timespec bad[2] = {{0, 1000000000}, {0, 0}};
    CHECK_ERR("utimensat with tv_nsec out of range -> EINVAL", utimensat(AT_FDCWD, "f", bad, 0),
              EINVAL);
    CHECK_ERR("utimensat of a missing file -> ENOENT", utimensat(AT_FDCWD, "missing", ts, 0),
              ENOENT);
    int fd = open("f", O_RDONLY);
    CHECK_EQ("futimens", futimens(fd, ts), 0);
    CHECK_EQ("futimens sets mtime", (fstat(fd, &st), st.st_mtim.tv_sec), 1234567890);
    close(fd);
}

static void name_lengths(void)
{
    struct stat st;
    static char path[PATH_MAX + 64];
    char name[300];
    memset(name, 'n', 255);
    name[255] = 0;
    int fd = open(name, O_CREAT | O_WRONLY, 0644);
    CHECK("a 255-character name is allowed", fd >= 0);
    close(fd);
    CHECK_EQ("stat of a 255-character name", stat(name, &st), 0);
    memset(name, 'n', 256);
    name[256] = 0;
    CHECK_ERR("a 256-character component -> ENAMETOOLONG", open(name, O_CREAT | O_WRONLY, 0644),
              ENAMETOOLONG);
    CHECK_ERR("stat of a 256-character component -> ENAMETOOLONG", stat(name, &st),
              ENAMETOOLONG);
    CHECK_ERR("mkdir of a 256-character component -> ENAMETOOLONG", mkdir(name, 0755),
              ENAMETOOLONG);
    /* "./" repeated: every component is short, the whole path is not. */
    for (int i = 0; i < PATH_MAX; i += 2)
        memcpy(path + i, "./", 2);
    strcpy(path + PATH_MAX, "f");
    CHECK_ERR("a path longer than PATH_MAX -> ENAMETOOLONG", stat(path, &st), ENAMETOOLONG);
    CHECK_ERR("open of a path longer than PATH_MAX -> ENAMETOOLONG", open(path, O_RDONLY),
              ENAMETOOLONG);
    strcpy(path + PATH_MAX - 8, "f");
    CHECK_EQ("a path just under PATH_MAX works", stat(path, &st), 0);
}

int main(void)
{
    umask(022);
    scratch_dir("/tmp/t-inodes");
    stat_fields();
    symlinks();
    permissions();
    times();
    name_lengths();
    return check_exit();
}
