/*
 * dirs: the directory tree. mkdir/rmdir, unlink, rename, link, getdents64 listings,
 * chdir/fchdir/getcwd. Works in /tmp/t-dirs.
 */
#include "check.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>

/* renameat2's flag (Linux's include/uapi/linux/fs.h); glibc's <stdio.h> has it, musl not. */
#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

static void touch(const char *path)
{
    int fd = open(path, O_CREAT | O_WRONLY, 0644);
    if (fd >= 0)
        close(fd);
}

static int name_order(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The names in directory `path` read with raw getdents64 (buffer of `bufsize` bytes),
 * sorted (the kernel's order is unspecified) and joined with spaces into `out`. Also
 * returns, in *types, one letter per sorted name: d(irectory), f(ile), l(ink), ?(other).
 */
static long listing(const char *path, size_t bufsize, char *out, char *types)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -1;
    char buf[4096];
    char *names[64];
    char kinds[64];
    int count = 0;
    long n;
    while ((n = syscall(SYS_getdents64, fd, buf, bufsize)) > 0) {
        for (long at = 0; at < n;) {
            struct dirent64 *d = (struct dirent64 *)(buf + at);
            if (count < 64) {
                kinds[count] = d->d_type;
                names[count++] = strdup(d->d_name);
            }
            at += d->d_reclen;
        }
    }
    close(fd);
    if (n < 0)
        return -1;
    /* Sort names and their types together: types travel in the last byte of a copy. */
    for (int i = 0; i < count; i++) {
        size_t len = strlen(names[i]);
        names[i] = realloc(names[i], len + 2);
        names[i][len + 1] = kinds[i];
    }
    qsort(names, count, sizeof names[0], name_order);
    out[0] = 0;
    for (int i = 0; i < count; i++) {
        unsigned char kind = names[i][strlen(names[i]) + 1];
        types[i] = kind == DT_DIR ? 'd' : kind == DT_REG ? 'f' : kind == DT_LNK ? 'l' : '?';
        strcat(out, i ? " " : "");
        strcat(out, names[i]);
        free(names[i]);
    }
    types[count] = 0;
    return count;
}

static void make_and_remove(void)
{
    struct stat st;
    CHECK_EQ("mkdir", mkdir("d", 0755), 0);
    CHECK_ERR("mkdir of an existing directory -> EEXIST", mkdir("d", 0755), EEXIST);
    touch("file");
    CHECK_ERR("mkdir over an existing file -> EEXIST", mkdir("file", 0755), EEXIST);
    CHECK_ERR("mkdir under a missing parent -> ENOENT", mkdir("missing/d", 0755), ENOENT);
    CHECK_ERR("mkdir under a file -> ENOTDIR", mkdir("file/d", 0755), ENOTDIR);
    CHECK_EQ("a new directory has 2 links", (stat("d", &st), st.st_nlink), 2);
    CHECK_EQ("mkdir of a subdirectory", mkdir("d/sub", 0755), 0);
    CHECK_EQ("a subdirectory adds a link to its parent", (stat("d", &st), st.st_nlink), 3);
    touch("d/sub/f");
    CHECK_ERR("rmdir of a non-empty directory -> ENOTEMPTY", rmdir("d/sub"), ENOTEMPTY);
    CHECK_ERR("rmdir of a file -> ENOTDIR", rmdir("file"), ENOTDIR);
    CHECK_ERR("rmdir of . -> EINVAL", rmdir("d/."), EINVAL);
    CHECK_ERR("rmdir of a missing directory -> ENOENT", rmdir("missing"), ENOENT);
    CHECK_ERR("unlink of a directory -> EISDIR", unlink("d/sub"), EISDIR);
    CHECK_EQ("unlink", unlink("d/sub/f"), 0);
    CHECK_ERR("unlink of a missing file -> ENOENT", unlink("d/sub/f"), ENOENT);
    CHECK_EQ("rmdir of an empty directory", rmdir("d/sub"), 0);
    CHECK_ERR("a removed directory is gone", stat("d/sub", &st), ENOENT);
    CHECK_EQ("rmdir gives back the parent's link", (stat("d", &st), st.st_nlink), 2);

    int fd = open("open-unlinked", O_CREAT | O_RDWR, 0644);
    write(fd, "still here", 10);
    CHECK_EQ("unlink of an open file", unlink("open-unlinked"), 0);
    char buf[16] = {0};
    CHECK_EQ("an unlinked open file is still readable", pread(fd, buf, 10, 0), 10);
    CHECK_STR("its contents are intact", buf, "still here");
    CHECK_EQ("fstat of an unlinked file shows 0 links", (fstat(fd, &st), st.st_nlink), 0);
    close(fd);
}

static void rename_and_link(void)
{
    struct stat st;
    char buf[64] = {0};
    mkdir("r", 0755);
    chdir("r");
    int fd = open("a", O_CREAT | O_WRONLY, 0644);
    write(fd, "A", 1);
    close(fd);
    touch("b");
    CHECK_EQ("rename a file over another", rename("a", "b"), 0);
    CHECK_ERR("the old name is gone", stat("a", &st), ENOENT);
    CHECK_EQ("the new name has the moved file", (stat("b", &st), st.st_size), 1);
    CHECK_EQ("rename to itself", rename("b", "b"), 0);
    CHECK_ERR("rename of a missing file -> ENOENT", rename("a", "c"), ENOENT);
    mkdir("dir1", 0755);
    mkdir("dir2", 0755);
    touch("dir2/x");
    CHECK_ERR("rename a directory over a non-empty one -> ENOTEMPTY", rename("dir1", "dir2"),
              ENOTEMPTY);
    CHECK_ERR("rename a file over a directory -> EISDIR", rename("b", "dir1"), EISDIR);
    CHECK_ERR("rename a directory over a file -> ENOTDIR", rename("dir1", "b"), ENOTDIR);
    CHECK_ERR("rename a directory into itself -> EINVAL", rename("dir2", "dir2/inner"), EINVAL);
    unlink("dir2/x");
    CHECK_EQ("rename a directory over an empty one", rename("dir1", "dir2"), 0);
    CHECK_EQ("rename a file into a directory", rename("b", "dir2/b"), 0);
    CHECK_EQ("renaming keeps the contents", (stat("dir2/b", &st), st.st_size), 1);

    /* renameat has no flags: whatever the caller leaves in r8 (glibc's syscall() loads its
     * fifth argument there) is not read. renameat2 reads it. */
    touch("c");
    touch("d");
    CHECK_EQ("renameat ignores what r8 holds (RENAME_NOREPLACE, unknown bits)",
             syscall(SYS_renameat, AT_FDCWD, "c", AT_FDCWD, "d", RENAME_NOREPLACE | 0x80), 0);
    CHECK_ERR("the old name is gone after renameat", stat("c", &st), ENOENT);
    touch("c");
    CHECK_ERR("renameat2 with RENAME_NOREPLACE over a name -> EEXIST",
              syscall(SYS_renameat2, AT_FDCWD, "c", AT_FDCWD, "d", RENAME_NOREPLACE), EEXIST);
    CHECK_ERR("renameat2 with an unknown flag -> EINVAL",
              syscall(SYS_renameat2, AT_FDCWD, "c", AT_FDCWD, "e", 0x80), EINVAL);
    CHECK_EQ("renameat2 without flags", syscall(SYS_renameat2, AT_FDCWD, "c", AT_FDCWD, "e", 0),
             0);
    unlink("d");
    unlink("e");

    CHECK_EQ("link", link("dir2/b", "hard"), 0);
    CHECK_EQ("a hard link counts 2 links", (stat("hard", &st), st.st_nlink), 2);
    CHECK_ERR("link to an existing name -> EEXIST", link("dir2/b", "hard"), EEXIST);
    CHECK_ERR("link of a directory -> EPERM", link("dir2", "dirlink"), EPERM);
    CHECK_ERR("link of a missing file -> ENOENT", link("nothing", "x"), ENOENT);
    fd = open("hard", O_WRONLY | O_APPEND);
    write(fd, "B", 1);
    close(fd);
    fd = open("dir2/b", O_RDONLY);
    CHECK_EQ("both names reach the same file", read(fd, buf, sizeof buf), 2);
    close(fd);
    unlink("dir2/b");
    CHECK_EQ("unlink of one name leaves the other with 1 link",
             (stat("hard", &st), st.st_nlink), 1);
    chdir("..");
}

static void listings(void)
{
    char names[512], types[70];
    mkdir("l", 0755);
    touch("l/charlie");
    touch("l/alpha");
    mkdir("l/bravo", 0755);
    symlink("alpha", "l/delta");
    CHECK_EQ("getdents64 counts every entry", listing("l", 4096, names, types), 6);
    CHECK_STR("getdents64 lists every name (sorted)", names, ". .. alpha bravo charlie delta");
    CHECK_STR("getdents64 d_type of each entry", types, "ddfdfl");
    CHECK_EQ("getdents64 with a buffer for one entry at a time",
             listing("l", 32, names, types), 6);
    CHECK_STR("small buffers list the same names", names, ". .. alpha bravo charlie delta");
    for (int i = 0; i < 40; i++) {
        char name[32];
        snprintf(name, sizeof name, "l/bravo/entry-%02d", i);
        touch(name);
    }
    CHECK_EQ("a directory of 42 entries read in several calls",
             listing("l/bravo", 256, names, types), 42);
    int fd = open("l", O_RDONLY | O_DIRECTORY);
    char buf[4096];
    CHECK_ERR("getdents64 with a too small buffer -> EINVAL",
              syscall(SYS_getdents64, fd, buf, 8), EINVAL);
    CHECK("getdents64 returns data", syscall(SYS_getdents64, fd, buf, sizeof buf) > 0);
    CHECK_EQ("getdents64 at the end returns 0", syscall(SYS_getdents64, fd, buf, sizeof buf), 0);
    CHECK_EQ("lseek to 0 rewinds a directory", lseek(fd, 0, SEEK_SET), 0);
    CHECK("getdents64 after a rewind returns data again",
          syscall(SYS_getdents64, fd, buf, sizeof buf) > 0);
    close(fd);
    fd = open("l/alpha", O_RDONLY);
    CHECK_ERR("getdents64 of a regular file -> ENOTDIR",
              syscall(SYS_getdents64, fd, buf, sizeof buf), ENOTDIR);
    close(fd);
    CHECK_ERR("getdents64 of a bad fd -> EBADF", syscall(SYS_getdents64, 1000, buf, sizeof buf),
              EBADF);
}

static void working_directory(void)
{
    char buf[256];
    mkdir("w", 0755);
    mkdir("w/inner", 0755);
    CHECK_STR("getcwd in the scratch directory", getcwd(buf, sizeof buf), "/tmp/t-dirs");
    CHECK_EQ("chdir to a relative path", chdir("w/inner"), 0);
    CHECK_STR("getcwd follows chdir", getcwd(buf, sizeof buf), "/tmp/t-dirs/w/inner");
    CHECK_EQ("chdir ..", chdir(".."), 0);
    CHECK_STR("getcwd after chdir ..", getcwd(buf, sizeof buf), "/tmp/t-dirs/w");
    CHECK_EQ("raw getcwd returns the length with the NUL", syscall(SYS_getcwd, buf, sizeof buf),
             strlen("/tmp/t-dirs/w") + 1);
    CHECK_ERR("getcwd into a too small buffer -> ERANGE", syscall(SYS_getcwd, buf, 5), ERANGE);
    int fd = open("inner", O_RDONLY | O_DIRECTORY);
    CHECK_EQ("chdir to /", chdir("/"), 0);
    CHECK_STR("getcwd at the root", getcwd(buf, sizeof buf), "/");
    CHECK_EQ("fchdir", fchdir(fd), 0);
    CHECK_STR("getcwd after fchdir", getcwd(buf, sizeof buf), "/tmp/t-dirs/w/inner");
    close(fd);
    fd = open("/tmp/t-dirs/file", O_RDONLY);
    CHECK_ERR("fchdir to a file -> ENOTDIR", fchdir(fd), ENOTDIR);
    close(fd);
    CHECK_ERR("fchdir to a bad fd -> EBADF", fchdir(1000), EBADF);
    CHECK_ERR("chdir to a file -> ENOTDIR", chdir("/tmp/t-dirs/file"), ENOTDIR);
    CHECK_ERR("chdir to a missing directory -> ENOENT", chdir("/tmp/t-dirs/missing"), ENOENT);
    CHECK_STR("a failed chdir keeps the directory", getcwd(buf, sizeof buf),
              "/tmp/t-dirs/w/inner");
    CHECK_EQ("chdir to /.. stays at the root", chdir("/.."), 0);
    CHECK_STR("getcwd after chdir /..", getcwd(buf, sizeof buf), "/");
    chdir("/tmp/t-dirs");
}

int main(void)
{
    umask(022);
    scratch_dir("/tmp/t-dirs");
    make_and_remove();
    rename_and_link();
    listings();
    working_directory();
    return check_exit();
}
