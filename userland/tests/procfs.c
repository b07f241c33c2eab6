/*
 * procfs: the /proc files tools read, the kernel log and the date. /proc/mounts (fields,
 * escapes, options, statfs of each mount), /proc/stat, /proc/loadavg, /proc/uptime,
 * /proc/cpuinfo, /proc/self/maps, /proc/self/fd, syslog(2) and /proc/kmsg, and a realtime
 * clock that starts at the real date. Figures differ between kernels and runs, so they are
 * compared inside the program and only the verdicts printed. Works in /tmp/t-procfs.
 */
#include "check.h"

#include <cpuid.h>
#include <dirent.h>
#include <fcntl.h>
#include <mntent.h>
#include <regex.h>
#include <stdlib.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <time.h>

#define PROC_SUPER_MAGIC 0x9fa0
#define TMPFS_MAGIC 0x01021994
#define PIPEFS_MAGIC 0x50495045
/* 2026-12-01T00:00:00Z: the old fixed boot date (2026-01-01) is before it. */
#define DEC_2026 1796083200L

static char text[256 * 1024];

/* The whole of a file into `text` (NUL-terminated); its length, or -1. */
static long slurp(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    long n = 0, r;
    while ((r = read(fd, text + n, sizeof text - 1 - n)) > 0)
        n += r;
    close(fd);
    text[n] = 0;
    return r < 0 ? -1 : n;
}

/* The line of `text` starting with `prefix`, copied into `line` (without its newline). */
static int find_line(const char *prefix, char *line, size_t size)
{
    for (char *at = text; *at; at = strchr(at, '\n') ? strchr(at, '\n') + 1 : at + strlen(at)) {
        if (strncmp(at, prefix, strlen(prefix)) == 0) {
            size_t len = strcspn(at, "\n");
            snprintf(line, size, "%.*s", (int)(len < size ? len : size - 1), at);
            return 1;
        }
    }
    return 0;
}

static void mounts(void)
{
    char target[64], link[64];
    REQUIRE("/proc/mounts read", slurp("/proc/mounts") > 0);
    ssize_t n = readlink("/proc/mounts", link, sizeof link - 1);
    link[n > 0 ? n : 0] = 0;
    CHECK_STR("/proc/mounts is a link to self/mounts", link, "self/mounts");
    int lines = 0, six = 1, root = 0;
    char src[256], dir[256], type[64], opts[256], proc_opts[256] = "";
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        int a = -1, b = -1;
        lines++;
        six &= sscanf(line, "%255s %255s %63s %255s %d %d", src, dir, type, opts, &a, &b) == 6 &&
               a == 0 && b == 0;
        root |= strcmp(dir, "/") == 0;
        if (strcmp(dir, "/proc") == 0 && strcmp(type, "proc") == 0 && strcmp(src, "proc") == 0)
            snprintf(proc_opts, sizeof proc_opts, "%s", opts);
    }
    CHECK("every line has six fields, the last two 0 0", lines >= 2 && six);
    CHECK("a line mounts /", root);
    CHECK_STR("proc on /proc: its options", proc_opts, "rw,relatime");
    FILE *f = setmntent("/proc/self/mounts", "r");
    struct mntent *m;
    int seen = 0;
    while (f && (m = getmntent(f)))
        seen |= strcmp(m->mnt_dir, "/proc") == 0 && strcmp(m->mnt_type, "proc") == 0;
    if (f)
        endmntent(f);
    CHECK("getmntent finds proc in /proc/self/mounts", seen);

    /* A mount of our own: its source escaped, its flags shown and in statfs. */
    snprintf(target, sizeof target, "/tmp/t-procfs/m");
    REQUIRE("mount point", mkdir(target, 0755) == 0);
    REQUIRE("mount tmpfs", mount("my src", target, "tmpfs", MS_NOSUID | MS_NODEV, NULL) == 0);
    slurp("/proc/mounts");
    char line[512] = "";
    const char *want = "my\\040src /tmp/t-procfs/m tmpfs rw,nosuid,nodev,relatime";
    find_line("my\\040src ", line, sizeof line);
    CHECK("the new mount's line: source escaped, flags", !strncmp(line, want, strlen(want)));
    struct statfs sf;
    CHECK_EQ("statfs of it", statfs(target, &sf), 0);
    CHECK_EQ("its f_type is tmpfs's", sf.f_type, TMPFS_MAGIC);
    struct statvfs sv;
    CHECK_EQ("statvfs of it", statvfs(target, &sv), 0);
    CHECK("its flags say nosuid and nodev", (sv.f_flag & (ST_NOSUID | ST_NODEV)) ==
                                                (ST_NOSUID | ST_NODEV));
    CHECK("it has blocks", sv.f_blocks > 0 && sv.f_bfree <= sv.f_blocks);
    CHECK_EQ("umount", umount(target), 0);
    slurp("/proc/mounts");
    CHECK("its line is gone", !find_line("my\\040src ", line, sizeof line));

    /* tmpfs's size and inode limits: ENOSPC at the limit, statfs reports both. */
    REQUIRE("mount a small tmpfs",
            mount("small", target, "tmpfs", 0, "size=64k,nr_inodes=4,mode=700") == 0);
    CHECK_EQ("size=64k: 16 blocks of 4 KiB", statfs(target, &sf) == 0 ? (long)sf.f_blocks : -1,
             16);
    CHECK_EQ("nr_inodes=4: f_files", (long)sf.f_files, 4);
    CHECK_EQ("the root takes one: f_ffree", (long)sf.f_ffree, 3);
    struct stat st;
    CHECK("mode=700 is the root's", stat(target, &st) == 0 && (st.st_mode & 07777) == 0700);
    char path[128];
    snprintf(path, sizeof path, "%s/big", target);
    int fd = open(path, O_CREAT | O_WRONLY, 0600);
    REQUIRE("a file in it", fd >= 0);
    static char chunk[16384];
    long written = 0, w;
    while ((w = write(fd, chunk, sizeof chunk)) > 0)
        written += w;
    CHECK_EQ("writes stop at the size: 64 KiB written", written, 65536);
    CHECK("then write -> ENOSPC", w == -1 && errno == ENOSPC);
    CHECK("statfs: no block free", statfs(target, &sf) == 0 && sf.f_bfree == 0);
    close(fd);
    int made = 0;
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/f%d", target, i);
        int f = open(path, O_CREAT | O_WRONLY, 0600);
        if (f < 0) {
            CHECK("past nr_inodes: open(O_CREAT) -> ENOSPC", errno == ENOSPC);
            break;
        }
        made++;
        close(f);
    }
    CHECK_EQ("files made beside the root and big", made, 2);
    snprintf(path, sizeof path, "%s/d", target);
    CHECK_ERR("past nr_inodes: mkdir -> ENOSPC", mkdir(path, 0755), ENOSPC);
    snprintf(path, sizeof path, "%s/big", target);
    CHECK_EQ("unlink frees blocks and an inode", unlink(path), 0);
    CHECK("statfs: all blocks free again", statfs(target, &sf) == 0 && sf.f_bfree == 16 &&
                                               sf.f_ffree == 1);
    CHECK_EQ("umount it", umount(target), 0);
    CHECK_ERR("an unknown tmpfs option -> EINVAL", mount("x", target, "tmpfs", 0, "bogus=1"),
              EINVAL);
    CHECK_ERR("a bad size -> EINVAL", mount("x", target, "tmpfs", 0, "size=12q"), EINVAL);
    REQUIRE("size=0 is no limit", mount("x", target, "tmpfs", 0, "size=0,nr_inodes=0") == 0);
    snprintf(path, sizeof path, "%s/big", target);
    fd = open(path, O_CREAT | O_WRONLY, 0600);
    written = 0;
    for (int i = 0; i < 8 && fd >= 0; i++)
        written += write(fd, chunk, sizeof chunk);
    CHECK_EQ("no limit: 128 KiB written", written, 131072);
    close(fd);
    CHECK_EQ("umount the unlimited one", umount(target), 0);

    CHECK_EQ("statfs /proc", statfs("/proc", &sf), 0);
    CHECK("/proc is proc, with no blocks", sf.f_type == PROC_SUPER_MAGIC && sf.f_blocks == 0);
    CHECK_ERR("statfs of a missing path -> ENOENT", statfs("/nonexistent", &sf), ENOENT);
    CHECK_ERR("fstatfs of a bad fd -> EBADF", fstatfs(-1, &sf), EBADF);
    int p[2];
    REQUIRE("pipe", pipe(p) == 0);
    CHECK("fstatfs of a pipe: pipefs", fstatfs(p[0], &sf) == 0 && sf.f_type == PIPEFS_MAGIC);
    close(p[0]), close(p[1]);
}

/* Burns about `ms` milliseconds of CPU in user mode. */
static void spin(long ms)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    do {
        for (volatile int i = 0; i < 10000; i++)
            ;
        clock_gettime(CLOCK_MONOTONIC, &b);
    } while ((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000 < ms);
}

/* utime + stime of /proc/self/stat, in clock ticks. */
static long own_cpu_ticks(void)
{
    if (slurp("/proc/self/stat") <= 0)
        return -1;
    char *after = strrchr(text, ')');
    long utime = -1, stime = -1;
    sscanf(after, ") %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &utime, &stime);
    return utime + stime;
}

static void stat_files(void)
{
    char line[4096];
    unsigned long long v[10];
    REQUIRE("/proc/stat read", slurp("/proc/stat") > 0);
    CHECK("/proc/stat starts with the cpu line", strncmp(text, "cpu  ", 5) == 0);
    int fields = sscanf(text, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
                        &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
    CHECK_EQ("the cpu line has 10 numbers", fields, 10);
    unsigned long long user = v[0];
    CHECK("a cpu0 line", find_line("cpu0 ", line, sizeof line));
    const char *names[] = {"intr ", "ctxt ", "btime ", "processes ", "procs_running ",
                           "procs_blocked "};
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "a line '%s'", names[i]);
        CHECK(what, find_line(names[i], line, sizeof line));
    }
    long btime = 0, processes = 0, running = 0;
    find_line("btime ", line, sizeof line), sscanf(line, "btime %ld", &btime);
    find_line("processes ", line, sizeof line), sscanf(line, "processes %ld", &processes);
    find_line("procs_running ", line, sizeof line), sscanf(line, "procs_running %ld", &running);
    CHECK("procs_running counts this process", running >= 1);
    struct timespec now, up;
    clock_gettime(CLOCK_REALTIME, &now);
    clock_gettime(CLOCK_BOOTTIME, &up);
    CHECK("btime is the realtime clock minus the time since boot",
          labs(btime - (now.tv_sec - up.tv_sec)) <= 2);
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    waitpid(pid, NULL, 0);
    slurp("/proc/stat");
    long later = 0;
    find_line("processes ", line, sizeof line), sscanf(line, "processes %ld", &later);
    CHECK("processes counts a fork", later >= processes + 1);

    long before = own_cpu_ticks();
    spin(600);
    long after = own_cpu_ticks();
    CHECK("/proc/self/stat: 600 ms of CPU show in utime + stime", after - before >= 20);
    slurp("/proc/stat");
    sscanf(text, "cpu %llu", &v[0]);
    CHECK("/proc/stat: the CPU's user time grew", v[0] > user);

    double load[3];
    int run = 0, total = 0, last = 0;
    REQUIRE("/proc/loadavg read", slurp("/proc/loadavg") > 0);
    CHECK_EQ("/proc/loadavg has 6 fields", sscanf(text, "%lf %lf %lf %d/%d %d", &load[0], &load[1],
                                                  &load[2], &run, &total, &last), 6);
    CHECK("runnable >= 1, total >= runnable, last pid >= ours",
          run >= 1 && total >= run && last >= getpid());
    double uptime = -1, idle = -1;
    REQUIRE("/proc/uptime read", slurp("/proc/uptime") > 0);
    CHECK_EQ("/proc/uptime has 2 numbers", sscanf(text, "%lf %lf", &uptime, &idle), 2);
    clock_gettime(CLOCK_BOOTTIME, &up);
    CHECK("/proc/uptime agrees with CLOCK_BOOTTIME", uptime <= up.tv_sec + 1 && uptime >= up.tv_sec - 1);
}

static void cpuinfo(void)
{
    char line[4096];
    REQUIRE("/proc/cpuinfo read", slurp("/proc/cpuinfo") > 0);
    CHECK_STR("the first line", strtok(strdup(text), "\n"), "processor\t: 0");
    CHECK("a model name line", find_line("model name\t: ", line, sizeof line));
    CHECK("a cpu MHz line", find_line("cpu MHz\t\t: ", line, sizeof line));
    unsigned a, b, c, d;
    __cpuid(0, a, b, c, d);
    char vendor[13 + 12];
    memcpy(vendor, "vendor_id\t: ", 12);
    memcpy(vendor + 12, &b, 4), memcpy(vendor + 16, &d, 4), memcpy(vendor + 20, &c, 4);
    vendor[24] = 0;
    CHECK("vendor_id is CPUID's", find_line("vendor_id", line, sizeof line) && !strcmp(line, vendor));
    REQUIRE("a flags line", find_line("flags\t\t: ", line, sizeof line));
    strcat(line, " ");
    CHECK("the flags include fpu, sse2 and lm",
          strstr(line, " fpu ") && strstr(line, " sse2 ") && strstr(line, " lm "));
    CHECK("the flags leave out OSXSAVE, as Linux", !strstr(line, " osxsave "));
}

/* The /proc/self/maps line holding `addr` into `line`. */
static int maps_line(const void *addr, char *line, size_t size)
{
    if (slurp("/proc/self/maps") <= 0)
        return 0;
    for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
        unsigned long lo, hi;
        if (sscanf(l, "%lx-%lx", &lo, &hi) == 2 && lo <= (unsigned long)addr &&
            (unsigned long)addr < hi) {
            snprintf(line, size, "%s", l);
            return 1;
        }
    }
    return 0;
}

static void maps(void)
{
    char line[512], exe[256], want[600];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    REQUIRE("readlink /proc/self/exe", n > 0);
    exe[n] = 0;
    REQUIRE("the text's line", maps_line((void *)maps, line, sizeof line));
    char perms[8], dev[16], path[256];
    unsigned long ino;
    CHECK("the program's text: r-xp, its path",
          sscanf(line, "%*x-%*x %7s %*x %15s %lu %255s", perms, dev, &ino, path) == 4 &&
              !strcmp(perms, "r-xp") && !strcmp(path, exe));
    CHECK("the path starts in column 74", strchr(line, '/') - line == 73);
    int local;
    CHECK("the stack is [stack]", maps_line(&local, line, sizeof line) &&
                                      strstr(line, " [stack]") && strstr(line, " rw-p "));
    CHECK("the program break is in [heap]",
          maps_line((char *)sbrk(0) - 1, line, sizeof line) && strstr(line, " [heap]"));

    int fd = open("mapped", O_RDWR | O_CREAT, 0644);
    REQUIRE("file", fd >= 0 && ftruncate(fd, 8192) == 0);
    struct stat st;
    fstat(fd, &st);
    char *s = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
    char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 4096);
    char *none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE("mmaps", s != MAP_FAILED && p != MAP_FAILED && none != MAP_FAILED);
    snprintf(want, sizeof want, "%08lx-%08lx r--s 00000000 %02x:%02x %lu", (unsigned long)s,
             (unsigned long)s + 8192, major(st.st_dev), minor(st.st_dev), (unsigned long)st.st_ino);
    CHECK("a shared file mapping: r--s, offset, device, inode",
          maps_line(s, line, sizeof line) && !strncmp(line, want, strlen(want)) &&
              strstr(line, " /tmp/t-procfs/mapped"));
    CHECK("a private one at offset 4096: rw-p 00001000",
          maps_line(p, line, sizeof line) && strstr(line, " rw-p 00001000 "));
    snprintf(want, sizeof want, "%08lx-%08lx ---p 00000000 00:00 0 ", (unsigned long)none,
             (unsigned long)none + 4096);
    CHECK("an anonymous PROT_NONE one", maps_line(none, line, sizeof line) && !strcmp(line, want));
    unlink("mapped");
    CHECK("after unlink: (deleted)",
          maps_line(s, line, sizeof line) && strstr(line, "/tmp/t-procfs/mapped (deleted)"));
    munmap(s, 8192), munmap(p, 4096), munmap(none, 4096), close(fd);
}

static void fd_link(int fd, char *out, size_t size)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, out, size - 1);
    out[n > 0 ? n : 0] = 0;
}

static void fds(void)
{
    char link[300], want[300], path[64];
    struct stat st;
    int std = 1;
    for (int fd = 0; fd < 3; fd++) {
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        std &= lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
    }
    CHECK("/proc/self/fd/0..2 are links", std);
    CHECK("/proc/self/fd is mode 0500", stat("/proc/self/fd", &st) == 0 && (st.st_mode & 0777) == 0500);
    int fd = open("file", O_RDWR | O_CREAT, 0644);
    REQUIRE("file", fd >= 0 && write(fd, "data", 4) == 4);
    fd_link(fd, link, sizeof link);
    CHECK_STR("a file's link is its path", link, "/tmp/t-procfs/file");
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    CHECK("read-write: lrwx------", lstat(path, &st) == 0 && st.st_mode == (S_IFLNK | 0700));
    char data[8] = "";
    int again = open(path, O_RDONLY);
    CHECK("opening the link opens the file", again >= 0 && read(again, data, 8) == 4 &&
                                                  !memcmp(data, "data", 4));
    snprintf(path, sizeof path, "/proc/self/fd/%d", again);
    CHECK("read-only: lr-x------", lstat(path, &st) == 0 && st.st_mode == (S_IFLNK | 0500));
    unlink("file");
    fd_link(fd, link, sizeof link);
    CHECK_STR("unlinked: (deleted)", link, "/tmp/t-procfs/file (deleted)");
    int p[2], sv[2];
    REQUIRE("pipe and socketpair", pipe(p) == 0 && socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    fstat(p[1], &st);
    snprintf(want, sizeof want, "pipe:[%lu]", (unsigned long)st.st_ino);
    fd_link(p[1], link, sizeof link);
    CHECK("a pipe: pipe:[inode]", !strcmp(link, want));
    snprintf(path, sizeof path, "/proc/self/fd/%d", p[1]);
    CHECK("write-only: l-wx------", lstat(path, &st) == 0 && st.st_mode == (S_IFLNK | 0300));
    fstat(sv[0], &st);
    snprintf(want, sizeof want, "socket:[%lu]", (unsigned long)st.st_ino);
    fd_link(sv[0], link, sizeof link);
    CHECK("a socket: socket:[inode]", !strcmp(link, want));
    CHECK_ERR("an fd not open -> ENOENT", lstat("/proc/self/fd/999", &st), ENOENT);
    CHECK_ERR("a name not a number -> ENOENT", lstat("/proc/self/fd/x", &st), ENOENT);
    DIR *d = opendir("/proc/self/fd");
    REQUIRE("opendir /proc/self/fd", d != NULL);
    char listed[64] = {0};
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && atoi(e->d_name) < 64)
            listed[atoi(e->d_name)] = e->d_type == DT_LNK ? 1 : 2;
    int same = 1;
    for (int i = 0; i < 64; i++)
        same &= listed[i] == (fcntl(i, F_GETFD) >= 0 ? 1 : 0);
    closedir(d);
    CHECK("the listing names every open fd, as links", same);
    close(fd), close(again), close(p[0]), close(p[1]), close(sv[0]), close(sv[1]);
}

/*
 * Created when the checks below CLEAR the kernel log: a later run in the same boot (the
 * musl build right after the glibc one, or the runner started twice from the shell) may
 * then find the log empty, which is not a failure. /tmp is a tmpfs of this boot, as the
 * log is.
 */
#define LOG_CLEARED "/tmp/procfs-cleared-the-kernel-log"

static void kernel_log(void)
{
    int cleared = access(LOG_CLEARED, F_OK) == 0;
    int size = klogctl(10, NULL, 0);
    CHECK("SYSLOG_ACTION_SIZE_BUFFER > 0", size > 0);
    char *buf = malloc(size + 1);
    int n = klogctl(3, buf, size);
    CHECK("READ_ALL returns text (or nothing after an earlier run's CLEAR)",
          n > 0 || (cleared && n == 0));
    buf[n > 0 ? n : 0] = 0;
    regex_t re;
    regcomp(&re, "^<[0-7]>\\[ *[0-9]+\\.[0-9]{6}\\] ", REG_EXTENDED | REG_NOSUB);
    CHECK("its records: <level>[seconds.micros] text",
          n <= 0 || (regexec(&re, buf, 0, NULL, 0) == 0 && buf[n - 1] == '\n'));
    regfree(&re);
    CHECK_EQ("READ_ALL of 0 bytes", klogctl(3, buf, 0), 0);
    CHECK_ERR("READ_ALL into NULL -> EINVAL", klogctl(3, NULL, 10), EINVAL);
    CHECK_ERR("READ_ALL of -1 bytes -> EINVAL", klogctl(3, buf, -1), EINVAL);
    CHECK_ERR("READ into NULL -> EINVAL", klogctl(2, NULL, 10), EINVAL);
    CHECK_ERR("READ_CLEAR into NULL -> EINVAL", klogctl(4, NULL, 10), EINVAL);
    CHECK_ERR("an unknown action -> EINVAL", klogctl(42, buf, 10), EINVAL);
    CHECK_ERR("CONSOLE_LEVEL 0 -> EINVAL", klogctl(8, NULL, 0), EINVAL);
    CHECK_ERR("CONSOLE_LEVEL 9 -> EINVAL", klogctl(8, NULL, 9), EINVAL);
    CHECK_EQ("CONSOLE_OFF", klogctl(6, NULL, 0), 0);
    CHECK_EQ("CONSOLE_ON", klogctl(7, NULL, 0), 0);
    CHECK_EQ("OPEN", klogctl(1, NULL, 0), 0);
    CHECK_EQ("CLOSE", klogctl(0, NULL, 0), 0);
    int unread = klogctl(9, NULL, 0);
    CHECK("SIZE_UNREAD >= 0", unread >= 0);
    int drained = 1;
    while (unread > 0 && drained) {
        int got = klogctl(2, buf, size);
        drained = got > 0 && klogctl(9, NULL, 0) < unread;
        unread = klogctl(9, NULL, 0);
    }
    CHECK("READ consumes what SIZE_UNREAD counts", drained && unread == 0);
    int kmsg = open("/proc/kmsg", O_RDONLY | O_NONBLOCK);
    CHECK_ERR("/proc/kmsg with nothing unread, O_NONBLOCK -> EAGAIN", read(kmsg, buf, size), EAGAIN);
    struct stat st;
    CHECK("/proc/kmsg is a regular file, mode 0400",
          fstat(kmsg, &st) == 0 && st.st_mode == (S_IFREG | 0400));
    close(kmsg);
    close(open(LOG_CLEARED, O_WRONLY | O_CREAT, 0644));
    CHECK_EQ("CLEAR", klogctl(5, NULL, 0), 0);
    CHECK_EQ("READ_ALL after CLEAR", klogctl(3, buf, size), 0);
    free(buf);
}

static void date(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    CHECK("the realtime clock is after 2026-12-01 (the RTC's date)", now.tv_sec > DEC_2026);
}

int main(void)
{
    scratch_dir("/tmp/t-procfs");
    mounts();
    stat_files();
    cpuinfo();
    maps();
    fds();
    kernel_log();
    date();
    return check_exit();
}
