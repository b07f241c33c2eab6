/*
 * procfs-kernel: what procps reads besides the figures. /proc/sys/kernel/ostype,
 * osrelease, version, hostname and domainname (each a line, the same as uname's fields;
 * top decides from osrelease which CPU columns the kernel has), and the identity lines of
 * /proc/PID/status that ps selects processes by: `State:` with its name, `Tgid:`, `Pid:`,
 * `PPid:`, `Uid:` and `Gid:` (everyone is root).
 */
#include "check.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/utsname.h>

/* The contents of a small file, without a last newline; "" when it cannot be read. */
static const char *slurp(const char *path)
{
    static char buf[4096];
    buf[0] = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return buf;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0)
        n = 0;
    buf[n] = 0;
    if (n > 0 && buf[n - 1] == '\n')
        buf[n - 1] = 0;
    return buf;
}

/* The value after "Key:\t" in /proc/<pid>/status, or "". */
static const char *status_field(pid_t pid, const char *key)
{
    static char value[256];
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    const char *text = slurp(path);
    size_t len = strlen(key);
    value[0] = 0;
    for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, key, len) == 0 && line[len] == ':') {
            const char *v = line + len + 1;
            while (*v == '\t' || *v == ' ')
                v++;
            size_t n = strcspn(v, "\n");
            if (n >= sizeof value)
                n = sizeof value - 1;
            memcpy(value, v, n);
            value[n] = 0;
            break;
        }
    }
    return value;
}

int main(void)
{
    struct utsname u;
    REQUIRE("uname", uname(&u) == 0);
    CHECK_STR("ostype", slurp("/proc/sys/kernel/ostype"), "Linux");
    CHECK_STR("osrelease is uname's release", slurp("/proc/sys/kernel/osrelease"), u.release);
    CHECK_STR("version is uname's version", slurp("/proc/sys/kernel/version"), u.version);
    CHECK_STR("hostname is uname's nodename", slurp("/proc/sys/kernel/hostname"), u.nodename);
    CHECK_STR("domainname is uname's", slurp("/proc/sys/kernel/domainname"), u.domainname);
    CHECK_OK("sethostname", sethostname("procfs-test", 11));
    CHECK_STR("hostname follows sethostname", slurp("/proc/sys/kernel/hostname"), "procfs-test");
    CHECK_OK("the host name put back", sethostname(u.nodename, strlen(u.nodename)));
    CHECK_ERR("no other file in /proc/sys/kernel/", open("/proc/sys/kernel/nonexistent", O_RDONLY), ENOENT);
    struct stat st;
    CHECK_OK("stat /proc/sys/kernel", stat("/proc/sys/kernel", &st));
    CHECK("/proc/sys/kernel is a directory", S_ISDIR(st.st_mode));

    pid_t me = getpid();
    CHECK_STR("State of the reader", status_field(me, "State"), "R (running)");
    CHECK_EQ("Tgid", atoi(status_field(me, "Tgid")), me);
    CHECK_EQ("Pid", atoi(status_field(me, "Pid")), me);
    CHECK_EQ("PPid", atoi(status_field(me, "PPid")), getppid());
    CHECK_STR("Uid: root four times", status_field(me, "Uid"), "0\t0\t0\t0");
    CHECK_STR("Gid: root four times", status_field(me, "Gid"), "0\t0\t0\t0");

    int p[2];
    REQUIRE("pipe", pipe(p) == 0);
    pid_t child = fork();
    if (child == 0) {
        char c;
        close(p[1]);
        read(p[0], &c, 1); /* sleeps until the parent closes its end */
        _exit(0);
    }
    close(p[0]);
    /* Wait until the child sleeps in read. */
    for (int i = 0; i < 200 && strcmp(status_field(child, "State"), "S (sleeping)") != 0; i++)
        usleep(10000);
    CHECK_STR("State of a child blocked in read", status_field(child, "State"), "S (sleeping)");
    CHECK_EQ("the child's Tgid", atoi(status_field(child, "Tgid")), child);
    CHECK_EQ("the child's PPid", atoi(status_field(child, "PPid")), me);
    close(p[1]);
    int status;
    waitpid(child, &status, 0);
    return check_exit();
}
