/*
 * statx: what statx reports on Linux 6.1 and how it refuses (fs/stat.c, mm/shmem.c), and
 * faccessat2's flags and root's rules (fs/open.c). statx: the basic fields as stat's, the
 * mask of what was filled (STATX_BASIC_STATS and STATX_MNT_ID always; STATX_BTIME for tmpfs
 * files when asked, never for procfs or pipes), the birth time (set at creation, kept by
 * later changes), the attributes a file system can report (stx_attributes_mask) and the
 * root of a mount (STATX_ATTR_MOUNT_ROOT), mount ids (one per mount), device numbers split
 * into major and minor, AT_EMPTY_PATH with a descriptor or the working directory, the sync
 * flags, and EINVAL for the reserved mask bit, both sync flags at once or an unknown flag.
 * Works in /tmp/t-statx.
 */
#include "check.h"

#include <fcntl.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>

/* struct statx and its constants, defined here: musl's headers lack them. */
struct statx_time {
    int64_t tv_sec;
    uint32_t tv_nsec;
    int32_t reserved;
};
struct statx_buf {
    uint32_t mask, blksize;
    uint64_t attributes;
    uint32_t nlink, uid, gid;
    uint16_t mode, spare0;
    uint64_t ino, size, blocks, attributes_mask;
    struct statx_time atime, btime, ctime, mtime;
    uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
    uint64_t mnt_id;
    uint64_t spare[13];
};
#define X_BASIC_STATS 0x7ffU
#define X_BTIME 0x800U
#define X_MNT_ID 0x1000U
#define X_RESERVED 0x80000000U
#define X_ATTR_IMMUTABLE 0x10ULL
#define X_ATTR_APPEND 0x20ULL
#define X_ATTR_NODUMP 0x40ULL
#define X_ATTR_AUTOMOUNT 0x1000ULL
#define X_ATTR_MOUNT_ROOT 0x2000ULL
#define X_ATTR_DAX 0x200000ULL
#define X_AT_FORCE_SYNC 0x2000
#define X_AT_DONT_SYNC 0x4000
#ifndef AT_EACCESS
#define AT_EACCESS 0x200
#endif

/* Every file system's attributes (vfs_getattr_nosec, vfs_statx) and shmem's own. */
#define ATTRS_ANY (X_ATTR_AUTOMOUNT | X_ATTR_DAX | X_ATTR_MOUNT_ROOT)
#define ATTRS_TMPFS (ATTRS_ANY | X_ATTR_APPEND | X_ATTR_IMMUTABLE | X_ATTR_NODUMP)

static long sx(int dirfd, const char *path, int flags, unsigned mask, struct statx_buf *buf)
{
    memset(buf, 0xee, sizeof *buf);
    return syscall(SYS_statx, dirfd, path, flags, mask, buf);
}

static long faccessat2_(int dirfd, const char *path, int mode, int flags)
{
    return syscall(SYS_faccessat2, dirfd, path, mode, flags);
}

static void basic_fields(void)
{
    struct statx_buf x;
    struct stat st;
    int fd = open("f", O_CREAT | O_RDWR, 0640);
    write(fd, "0123456789", 10);
    REQUIRE("stat", stat("f", &st) == 0);
    CHECK_OK("statx of a tmpfs file", sx(AT_FDCWD, "f", 0, X_BASIC_STATS, &x));
    CHECK_EQ("stx_mask: the basic fields and the mount id", x.mask, X_BASIC_STATS | X_MNT_ID);
    CHECK_EQ("stx_mode", x.mode, S_IFREG | 0640);
    CHECK_EQ("stx_size", x.size, 10);
    CHECK_EQ("stx_nlink", x.nlink, 1);
    CHECK("stx_uid and stx_gid are root", x.uid == 0 && x.gid == 0);
    CHECK("stx_ino is stat's", x.ino == st.st_ino);
    CHECK("stx_blocks is stat's", x.blocks == (uint64_t)st.st_blocks);
    CHECK_EQ("stx_blksize is a page", x.blksize, 4096);
    CHECK("stx_dev_major and stx_dev_minor split stat's st_dev",
          x.dev_major == major(st.st_dev) && x.dev_minor == minor(st.st_dev));
    CHECK("stx_mtime is stat's",
          x.mtime.tv_sec == st.st_mtim.tv_sec && x.mtime.tv_nsec == st.st_mtim.tv_nsec);
    CHECK("stx_ctime is stat's",
          x.ctime.tv_sec == st.st_ctim.tv_sec && x.ctime.tv_nsec == st.st_ctim.tv_nsec);
    CHECK("stx_atime is stat's",
          x.atime.tv_sec == st.st_atim.tv_sec && x.atime.tv_nsec == st.st_atim.tv_nsec);
    CHECK("stx_btime is 0 when not asked for", x.btime.tv_sec == 0 && x.btime.tv_nsec == 0);
    CHECK_EQ("stx_attributes of a plain file", x.attributes, 0);
    CHECK_EQ("stx_attributes_mask of a tmpfs file", x.attributes_mask, ATTRS_TMPFS);
    CHECK("stx_rdev of a regular file is 0", x.rdev_major == 0 && x.rdev_minor == 0);
    CHECK_OK("statx with a mask of 0", sx(AT_FDCWD, "f", 0, 0, &x));
    CHECK_EQ("... fills the basic fields all the same", x.mask, X_BASIC_STATS | X_MNT_ID);
    close(fd);
}

static void birth_time(void)
{
    struct statx_buf x, later;
    struct stat st;
    int fd = open("b", O_CREAT | O_RDWR, 0644);
    REQUIRE("fstat", fstat(fd, &st) == 0);
    CHECK_OK("statx asking for STATX_BTIME", sx(AT_FDCWD, "b", 0, X_BASIC_STATS | X_BTIME, &x));
    CHECK_EQ("stx_mask has STATX_BTIME for a tmpfs file", x.mask,
             X_BASIC_STATS | X_BTIME | X_MNT_ID);
    CHECK("the birth time is the creation's (the first mtime)",
          x.btime.tv_sec == st.st_mtim.tv_sec && x.btime.tv_nsec == st.st_mtim.tv_nsec);
    struct timespec ts[2] = {{1000, 0}, {2000, 0}};
    futimens(fd, ts);
    write(fd, "x", 1);
    CHECK_OK("statx after a write and utimensat", sx(AT_FDCWD, "b", 0, X_BTIME, &later));
    CHECK("... the birth time stays",
          later.btime.tv_sec == x.btime.tv_sec && later.btime.tv_nsec == x.btime.tv_nsec);
    CHECK_OK("statx STATX_BTIME of /proc/self/stat",
             sx(AT_FDCWD, "/proc/self/stat", 0, X_BASIC_STATS | X_BTIME, &x));
    CHECK_EQ("procfs fills no birth time", x.mask, X_BASIC_STATS | X_MNT_ID);
    CHECK("... stx_btime is 0", x.btime.tv_sec == 0 && x.btime.tv_nsec == 0);
    CHECK_EQ("... procfs's stx_attributes_mask", x.attributes_mask, ATTRS_ANY);
    int p[2];
    pipe(p);
    CHECK_OK("statx AT_EMPTY_PATH of a pipe", sx(p[0], "", AT_EMPTY_PATH, X_BTIME, &x));
    CHECK("a pipe has the basic fields but no birth time",
          (x.mask & (X_BASIC_STATS & ~1U)) == (X_BASIC_STATS & ~1U) && !(x.mask & X_BTIME));
    CHECK("... and a mount id", x.mask & X_MNT_ID);
    CHECK_EQ("... it is a fifo", x.mode & S_IFMT, S_IFIFO);
    close(p[0]);
    close(p[1]);
    close(fd);
}

static void mounts_and_devices(void)
{
    struct statx_buf tmp, file, proc, procfile, pipe_x, sock_x;
    CHECK_OK("statx /tmp", sx(AT_FDCWD, "/tmp", 0, 0, &tmp));
    CHECK_OK("statx a file in /tmp", sx(AT_FDCWD, "f", 0, 0, &file));
    CHECK_OK("statx /proc", sx(AT_FDCWD, "/proc", 0, 0, &proc));
    CHECK_OK("statx /proc/self/status", sx(AT_FDCWD, "/proc/self/status", 0, 0, &procfile));
    CHECK("/tmp is the root of a mount", tmp.attributes & X_ATTR_MOUNT_ROOT);
    CHECK("/proc is the root of a mount", proc.attributes & X_ATTR_MOUNT_ROOT);
    CHECK("a file in /tmp is not", !(file.attributes & X_ATTR_MOUNT_ROOT));
    CHECK("... nor the scratch directory",
          (sx(AT_FDCWD, ".", 0, 0, &pipe_x), !(pipe_x.attributes & X_ATTR_MOUNT_ROOT)));
    CHECK("a file in /tmp has /tmp's mount id", file.mnt_id == tmp.mnt_id);
    CHECK("/proc's files have /proc's mount id", procfile.mnt_id == proc.mnt_id);
    CHECK("/proc and /tmp are different mounts", proc.mnt_id != tmp.mnt_id);
    int p[2], s[2];
    pipe(p);
    socketpair(AF_UNIX, SOCK_STREAM, 0, s);
    sx(p[0], "", AT_EMPTY_PATH, 0, &pipe_x);
    sx(s[0], "", AT_EMPTY_PATH, 0, &sock_x);
    CHECK("a pipe's mount is pipefs's, not /tmp's", pipe_x.mnt_id != tmp.mnt_id);
    CHECK("a socket's is sockfs's", sock_x.mnt_id != tmp.mnt_id && sock_x.mnt_id != pipe_x.mnt_id);
    CHECK_EQ("... a socket", sock_x.mode & S_IFMT, S_IFSOCK);
    close(p[0]);
    close(p[1]);
    close(s[0]);
    close(s[1]);

    struct statx_buf dev;
    REQUIRE("mknod 1:5", mknod("zero", S_IFCHR | 0666, makedev(1, 5)) == 0);
    CHECK_OK("statx of a device node", sx(AT_FDCWD, "zero", 0, 0, &dev));
    CHECK("stx_rdev_major 1, stx_rdev_minor 5", dev.rdev_major == 1 && dev.rdev_minor == 5);
    REQUIRE("mknod 300:70000", mknod("big", S_IFBLK | 0600, makedev(300, 70000)) == 0);
    CHECK_OK("statx of a device with a large major and minor", sx(AT_FDCWD, "big", 0, 0, &dev));
    CHECK("... 300 and 70000", dev.rdev_major == 300 && dev.rdev_minor == 70000);
    CHECK_EQ("... a block device", dev.mode & S_IFMT, S_IFBLK);
}

static void lookups_and_refusals(void)
{
    struct statx_buf x;
    struct stat st;
    int fd = open("f", O_RDONLY);
    stat("f", &st);
    CHECK_OK("statx AT_EMPTY_PATH of a descriptor", sx(fd, "", AT_EMPTY_PATH, 0, &x));
    CHECK("... its file", x.ino == st.st_ino);
    CHECK_OK("statx AT_EMPTY_PATH at AT_FDCWD", sx(AT_FDCWD, "", AT_EMPTY_PATH, 0, &x));
    CHECK_EQ("... the working directory", x.mode & S_IFMT, S_IFDIR);
    CHECK_ERR("statx of \"\" without AT_EMPTY_PATH -> ENOENT", sx(fd, "", 0, 0, &x), ENOENT);
    CHECK_OK("statx AT_STATX_FORCE_SYNC", sx(AT_FDCWD, "f", X_AT_FORCE_SYNC, 0, &x));
    CHECK_OK("statx AT_STATX_DONT_SYNC", sx(AT_FDCWD, "f", X_AT_DONT_SYNC, 0, &x));
    CHECK_ERR("statx with both sync flags -> EINVAL",
              sx(AT_FDCWD, "f", X_AT_FORCE_SYNC | X_AT_DONT_SYNC, 0, &x), EINVAL);
    CHECK_ERR("statx asking for the reserved bit -> EINVAL (before the path)",
              sx(AT_FDCWD, NULL, 0, X_RESERVED, &x), EINVAL);
    CHECK_ERR("statx with an unknown flag -> EINVAL", sx(AT_FDCWD, "f", 0x1, 0, &x), EINVAL);
    CHECK_ERR("statx into a bad buffer -> EFAULT",
              syscall(SYS_statx, AT_FDCWD, "f", 0, 0, (void *)8), EFAULT);
    CHECK_ERR("statx of a bad fd -> EBADF", sx(999, "", AT_EMPTY_PATH, 0, &x), EBADF);
    CHECK_ERR("statx relative to a file -> ENOTDIR", sx(fd, "x", 0, 0, &x), ENOTDIR);
    symlink("f", "link");
    CHECK_OK("statx AT_SYMLINK_NOFOLLOW", sx(AT_FDCWD, "link", AT_SYMLINK_NOFOLLOW, 0, &x));
    CHECK_EQ("... the link itself", x.mode & S_IFMT, S_IFLNK);
    CHECK_OK("statx follows a link by default", sx(AT_FDCWD, "link", 0, 0, &x));
    CHECK_EQ("... to the file", x.mode & S_IFMT, S_IFREG);
    close(fd);
}

static void access_checks(void)
{
    int fd = open("plain", O_CREAT | O_WRONLY, 0644);
    close(fd);
    fd = open("gx", O_CREAT | O_WRONLY, 0010);
    close(fd);
    fd = open("none", O_CREAT | O_WRONLY, 0);
    close(fd);
    mkdir("closed", 0);
    symlink("nowhere", "dangling");
    CHECK_OK("root may read and write a file of mode 0", faccessat2_(AT_FDCWD, "none", R_OK | W_OK, 0));
    CHECK_ERR("root may not execute a file with no x bit -> EACCES",
              faccessat2_(AT_FDCWD, "plain", X_OK, 0), EACCES);
    CHECK_OK("one x bit (the group's) lets root execute", faccessat2_(AT_FDCWD, "gx", X_OK, 0));
    CHECK_OK("root may search a directory of mode 0", faccessat2_(AT_FDCWD, "closed", X_OK | R_OK | W_OK, 0));
    CHECK_OK("AT_EACCESS: the same for root", faccessat2_(AT_FDCWD, "gx", X_OK, AT_EACCESS));
    CHECK_ERR("AT_EACCESS keeps the x rule", faccessat2_(AT_FDCWD, "plain", X_OK, AT_EACCESS), EACCES);
    CHECK_ERR("a dangling link is followed -> ENOENT", faccessat2_(AT_FDCWD, "dangling", F_OK, 0),
              ENOENT);
    CHECK_OK("AT_SYMLINK_NOFOLLOW checks the link itself",
             faccessat2_(AT_FDCWD, "dangling", F_OK, AT_SYMLINK_NOFOLLOW));
    CHECK_OK("... a link's mode allows execution", faccessat2_(AT_FDCWD, "dangling", X_OK, AT_SYMLINK_NOFOLLOW));
    int path_fd = open("plain", O_PATH);
    CHECK_OK("AT_EMPTY_PATH of an O_PATH descriptor", faccessat2_(path_fd, "", R_OK, AT_EMPTY_PATH));
    CHECK_ERR("... X_OK of it -> EACCES", faccessat2_(path_fd, "", X_OK, AT_EMPTY_PATH), EACCES);
    CHECK_OK("AT_EMPTY_PATH at AT_FDCWD: the working directory",
             faccessat2_(AT_FDCWD, "", X_OK, AT_EMPTY_PATH));
    CHECK_ERR("a relative path from a file descriptor -> ENOTDIR",
              faccessat2_(path_fd, "x", F_OK, 0), ENOTDIR);
    close(path_fd);
    CHECK_ERR("a mode bit past X_OK -> EINVAL", faccessat2_(AT_FDCWD, "plain", 8, 0), EINVAL);
    CHECK_ERR("AT_SYMLINK_FOLLOW is no faccessat2 flag -> EINVAL",
              faccessat2_(AT_FDCWD, "plain", F_OK, AT_SYMLINK_FOLLOW), EINVAL);
    CHECK_ERR("flags are checked before the path -> EINVAL",
              faccessat2_(AT_FDCWD, (const char *)8, F_OK, 0x1), EINVAL);
    CHECK_ERR("a bad path -> EFAULT", faccessat2_(AT_FDCWD, (const char *)8, F_OK, 0), EFAULT);
    CHECK_ERR("a bad descriptor -> EBADF", faccessat2_(999, "x", F_OK, 0), EBADF);
    CHECK_ERR("mode and flags are ints: high bits are dropped (2^32 | X_OK)",
              syscall(SYS_faccessat2, AT_FDCWD, "plain", (1UL << 32) | X_OK, 1UL << 32), EACCES);
}

int main(void)
{
    umask(022);
    scratch_dir("/tmp/t-statx");
    basic_fields();
    birth_time();
    mounts_and_devices();
    lookups_and_refusals();
    access_checks();
    return check_exit();
}
