/*
 * mapfile.h: what the file-mapping tests (filemap, maptrunc) share: mmap through the raw
 * system call, volatile access to mapped bytes, and test files whose page i is 'A' + i.
 */
#ifndef MAPFILE_H
#define MAPFILE_H

#include "check.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGE 4096
#define RW (PROT_READ | PROT_WRITE)

/* Mappings are read and written through volatile pointers: every access reaches memory. */
typedef volatile char vchar;

static vchar *map(size_t len, int prot, int flags, int fd, off_t off)
{
    return (vchar *)syscall(SYS_mmap, NULL, len, prot, flags, fd, off);
}

/* A new file of `pages` pages, page i filled with 'A' + i, open read-write. */
static int make_file(const char *name, int pages)
{
    int fd = open(name, O_CREAT | O_RDWR | O_TRUNC, 0644);
    REQUIRE("file created", fd >= 0);
    char buf[PAGE];
    for (int i = 0; i < pages; i++) {
        memset(buf, 'A' + i, PAGE);
        REQUIRE("file filled", pwrite(fd, buf, PAGE, (off_t)i * PAGE) == PAGE);
    }
    return fd;
}

/* The byte of the file at `at`, or -1. */
static int file_byte(int fd, off_t at)
{
    unsigned char c;
    return pread(fd, &c, 1, at) == 1 ? c : -1;
}

#endif
