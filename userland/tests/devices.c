/*
 * devices: reads and writes of the memory devices as large as Linux's. A 1 MiB read of
 * /dev/zero or /dev/urandom returns 1 MiB (`dd bs=1M count=1` copies 1 MiB, not the
 * 64 KiB of a kernel buffer), /dev/full reads zeroes and refuses writes (ENOSPC),
 * /dev/null reads nothing and takes everything, a bad buffer is EFAULT. The nodes are
 * those of a devtmpfs mounted on /tmp/t-devices (the conformance archive has only the
 * console).
 */
#include "check.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/mount.h>

#define MIB (1024 * 1024)

static int all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

int main(void)
{
    unsigned char *buf = malloc(4 * MIB);
    REQUIRE("a 4 MiB buffer", buf != NULL);
    scratch_dir("/tmp/t-devices");
    REQUIRE("mkdir dev", mkdir("dev", 0755) == 0);
    REQUIRE("mount a devtmpfs", mount("devtmpfs", "dev", "devtmpfs", 0, NULL) == 0);

    int zero = open("dev/zero", O_RDONLY);
    REQUIRE("open /dev/zero", zero >= 0);
    memset(buf, 0xa5, 4 * MIB);
    CHECK_EQ("a 1 MiB read of /dev/zero", read(zero, buf, MIB), MIB);
    CHECK("it is all zeroes", all_zero(buf, MIB));
    CHECK_EQ("the byte after it is untouched", buf[MIB], 0xa5);
    CHECK_EQ("a 4 MiB read of /dev/zero", read(zero, buf, 4 * MIB), 4 * MIB);
    CHECK_EQ("a read of 0 bytes", read(zero, buf, 0), 0);
    CHECK_ERR("a read into no memory", syscall(SYS_read, zero, (void *)8, 4096), EFAULT);
    close(zero);

    int full = open("dev/full", O_RDWR);
    REQUIRE("open /dev/full", full >= 0);
    memset(buf, 0xa5, MIB);
    CHECK_EQ("a 1 MiB read of /dev/full", read(full, buf, MIB), MIB);
    CHECK("zeroes too", all_zero(buf, MIB));
    CHECK_ERR("a write to /dev/full", write(full, buf, 10), ENOSPC);
    close(full);

    int urandom = open("dev/urandom", O_RDONLY);
    REQUIRE("open /dev/urandom", urandom >= 0);
    memset(buf, 0, MIB);
    CHECK_EQ("a 1 MiB read of /dev/urandom", read(urandom, buf, MIB), MIB);
    CHECK("its last 64 KiB are not all zero", !all_zero(buf + MIB - 65536, 65536));
    close(urandom);

    int null = open("dev/null", O_RDWR);
    REQUIRE("open /dev/null", null >= 0);
    CHECK_EQ("a read of /dev/null", read(null, buf, MIB), 0);
    CHECK_EQ("a 4 MiB write to /dev/null", write(null, buf, 4 * MIB), 4 * MIB);
    close(null);
    free(buf);
    CHECK_OK("umount", umount("dev"));
    return check_exit();
}
