/*
 * maptrunc: ftruncate under a file mapping, as on Linux. Shrinking a file zeroes the rest of
 * its new last page in every shared mapping and takes away the pages past it, even a private
 * mapping's own copies: touching them raises SIGBUS, as does a mapping's page wholly past
 * the end of a file. Growing the file again gives zeros through read() and every mapping.
 * A mapping whose pages would reach past the largest file offset is EOVERFLOW.
 * Works in /tmp/t-maptrunc; page i of every file is filled with 'A' + i.
 */
#include "check.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "mapfile.h"

static void put(vchar *p, const char *s)
{
    for (; *s; s++, p++)
        *p = *s;
}

static volatile char *fault_at;
static int touch(void)
{
    (void)fault_at[0];
    return 0;
}

/* The raw wait status of a child reading `address`. */
static int read_status(vchar *address)
{
    fault_at = address;
    return child_status(touch);
}

/* Shrinking a mapped file to mid-page 0, then growing it back to two pages. */
static void truncate_mapped(void)
{
    int fd = make_file("truncated", 2);
    vchar *s = map(2 * PAGE, RW, MAP_SHARED, fd, 0);
    vchar *p = map(2 * PAGE, RW, MAP_PRIVATE, fd, 0);
    vchar *w = map(2 * PAGE, RW, MAP_PRIVATE, fd, 0);
    REQUIRE("mmap for ftruncate", s != MAP_FAILED && p != MAP_FAILED && w != MAP_FAILED);
    (void)s[PAGE], (void)p[PAGE];
    w[PAGE] = 'w';
    put(s + 3000, "tail");
    CHECK_EQ("ftruncate to half a page", ftruncate(fd, PAGE / 2), 0);
    CHECK_EQ("past the end in the last page reads zero", s[3000], 0);
    CHECK("before the end the data stays", s[0] == 'A' && s[PAGE / 2 - 1] == 'A');
    CHECK_EQ("a shared page wholly past the end -> SIGBUS", read_status(s + PAGE), SIGBUS);
    CHECK_EQ("a private page wholly past the end -> SIGBUS", read_status(p + PAGE), SIGBUS);
    CHECK_EQ("a private copy wholly past the end is dropped too -> SIGBUS",
             read_status(w + PAGE), SIGBUS);
    CHECK_EQ("ftruncate back to two pages", ftruncate(fd, 2 * PAGE), 0);
    char back[4] = {1, 1, 1, 1};
    pread(fd, back, 4, 3000);
    CHECK("read() past the old end gives zeros", !back[0] && !back[1] && !back[2] && !back[3]);
    CHECK_EQ("read() of the regrown page gives zero", file_byte(fd, PAGE), 0);
    CHECK("a shared mapping shows zeros past the old end", !s[3000] && !s[3001] && !s[PAGE - 1]);
    CHECK("a shared mapping shows zeros in the regrown page", !s[PAGE] && !s[2 * PAGE - 1]);
    CHECK("a private mapping shows zeros in the regrown page", !p[PAGE] && !p[2 * PAGE - 1]);
    CHECK("so does one whose copy was dropped", !w[PAGE] && !w[2 * PAGE - 1]);
    munmap((void *)s, 2 * PAGE);
    munmap((void *)p, 2 * PAGE);
    munmap((void *)w, 2 * PAGE);
    close(fd);
    fd = make_file("short", 1);
    p = map(2 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK_EQ("a mapping longer than the file -> SIGBUS past its last page", read_status(p + PAGE),
             SIGBUS);
    CHECK_EQ("within the file's last page it reads", read_status(p + PAGE - 1), 0);
    munmap((void *)p, 2 * PAGE);
    close(fd);
}

/* A mapping whose last page would lie past the largest file offset: EOVERFLOW (Linux's
 * file_mmap_ok), for offsets near 2^63 and for offsets that are negative as off_t. */
static void offset_overflow(void)
{
    int fd = make_file("offsets", 1);
    CHECK_ERR("a mapping past the largest file offset -> EOVERFLOW",
              (long)map(PAGE, PROT_READ, MAP_PRIVATE, fd, (off_t)0x7ffffffffffff000LL), EOVERFLOW);
    CHECK_ERR("a negative offset -> EOVERFLOW",
              (long)map(PAGE, PROT_READ, MAP_PRIVATE, fd, (off_t)-4096), EOVERFLOW);
    CHECK_OK("the last whole page below it maps",
             (long)map(PAGE, PROT_READ, MAP_PRIVATE, fd, (off_t)0x7fffffffffffe000LL));
    close(fd);
}

int main(void)
{
    /* No core dumps: the wait status of a faulting child is then exactly its signal. */
    setrlimit(RLIMIT_CORE, &(struct rlimit){0, 0});
    scratch_dir("/tmp/t-maptrunc");
    truncate_mapped();
    offset_overflow();
    return check_exit();
}
