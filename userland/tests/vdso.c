/*
 * vdso: the vDSO every process gets (AT_SYSINFO_EHDR), as glibc and musl use it. The image
 * is checked as those libraries read it (an ELF shared object whose dynamic symbols carry
 * version LINUX_2.6), each of its four functions is looked up by name and version the way
 * they do and called directly, and what it answers is compared with the system call's:
 * a vDSO clock read between two system-call reads lies between them (the clocks are one
 * clock), gettimeofday and time agree with CLOCK_REALTIME, getcpu says CPU 0 as the system
 * call does on a one-CPU machine. Then the libc wrappers, which go through the vDSO, and
 * the clock ids the vDSO passes on to the system call (CPU-time clocks, a bad id: EINVAL).
 * Also: the vDSO's pages show in /proc/self/maps as [vdso] and [vvar], and survive fork.
 */
#include "check.h"
#include <elf.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/time.h>
#include <time.h>

/* The image: its load bias and dynamic tables, as a C library finds them. */
static struct {
    uintptr_t base;
    const Elf64_Sym *symtab;
    const char *strtab;
    const uint16_t *versym;
    const Elf64_Verdef *verdef;
    uint32_t nsyms;
} image;

static int open_image(const Elf64_Ehdr *eh)
{
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_type != ET_DYN || eh->e_machine != EM_X86_64)
        return 0;
    const Elf64_Phdr *ph = (const Elf64_Phdr *)((const char *)eh + eh->e_phoff);
    const Elf64_Dyn *dyn = NULL;
    uintptr_t base = (uintptr_t)-1;
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type == PT_LOAD && base == (uintptr_t)-1)
            base = (uintptr_t)eh + ph[i].p_offset - ph[i].p_vaddr;
        else if (ph[i].p_type == PT_DYNAMIC)
            dyn = (const Elf64_Dyn *)((const char *)eh + ph[i].p_offset);
    }
    if (!dyn || base == (uintptr_t)-1)
        return 0;
    image.base = base;
    for (; dyn->d_tag != DT_NULL; dyn++) {
        uintptr_t at = base + dyn->d_un.d_ptr;
        switch (dyn->d_tag) {
        case DT_SYMTAB: image.symtab = (const Elf64_Sym *)at; break;
        case DT_STRTAB: image.strtab = (const char *)at; break;
        case DT_VERSYM: image.versym = (const uint16_t *)at; break;
        case DT_VERDEF: image.verdef = (const Elf64_Verdef *)at; break;
        case DT_HASH: image.nsyms = ((const uint32_t *)at)[1]; break;
        }
    }
    return image.symtab && image.strtab && image.versym && image.verdef && image.nsyms;
}

/* Whether symbol `i` has version `version` (its versym names a verdef of that name). */
static int has_version(uint32_t i, const char *version)
{
    uint16_t want = image.versym[i] & 0x7fff;
    for (const Elf64_Verdef *d = image.verdef;; d = (const void *)((const char *)d + d->vd_next)) {
        if (d->vd_ndx == want && !(d->vd_flags & VER_FLG_BASE)) {
            const Elf64_Verdaux *aux = (const void *)((const char *)d + d->vd_aux);
            return strcmp(image.strtab + aux->vda_name, version) == 0;
        }
        if (!d->vd_next)
            return 0;
    }
}

/* A defined function of the image by name and version, or NULL. */
static void *lookup(const char *name, const char *version)
{
    for (uint32_t i = 0; i < image.nsyms; i++) {
        const Elf64_Sym *sym = &image.symtab[i];
        if (ELF64_ST_TYPE(sym->st_info) == STT_FUNC && sym->st_shndx != SHN_UNDEF &&
            strcmp(image.strtab + sym->st_name, name) == 0 && has_version(i, version))
            return (void *)(image.base + sym->st_value);
    }
    return NULL;
}

static int64_t sys_ns(clockid_t clock)
{
    struct timespec ts;
    syscall(SYS_clock_gettime, clock, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int maps_has(const char *name)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    int found = 0;
    while (f && fgets(line, sizeof line, f))
        found |= strstr(line, name) != NULL;
    if (f)
        fclose(f);
    return found;
}

int main(void)
{
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)getauxval(AT_SYSINFO_EHDR);
    CHECK("AT_SYSINFO_EHDR names the vDSO", eh != NULL);
    if (!eh)
        return check_exit();
    CHECK("the vDSO is page-aligned", (uintptr_t)eh % 4096 == 0);
    CHECK("the vDSO is an x86_64 ELF shared object with symbols, hash and versions",
          open_image(eh));
    int (*vgettime)(clockid_t, struct timespec *) = lookup("__vdso_clock_gettime", "LINUX_2.6");
    int (*vgettimeofday)(struct timeval *, void *) = lookup("__vdso_gettimeofday", "LINUX_2.6");
    time_t (*vtime)(time_t *) = lookup("__vdso_time", "LINUX_2.6");
    long (*vgetcpu)(unsigned *, unsigned *, void *) = lookup("__vdso_getcpu", "LINUX_2.6");
    CHECK("__vdso_clock_gettime@LINUX_2.6", vgettime != NULL);
    CHECK("__vdso_gettimeofday@LINUX_2.6", vgettimeofday != NULL);
    CHECK("__vdso_time@LINUX_2.6", vtime != NULL);
    CHECK("__vdso_getcpu@LINUX_2.6", vgetcpu != NULL);
    CHECK("no __vdso_clock_gettime of another version", !lookup("__vdso_clock_gettime", "LINUX_9"));
    if (!vgettime || !vgettimeofday || !vtime || !vgetcpu)
        return check_exit();

    const clockid_t clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW,
                                CLOCK_BOOTTIME, CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE};
    const char *names[] = {"REALTIME", "MONOTONIC", "MONOTONIC_RAW", "BOOTTIME",
                           "REALTIME_COARSE", "MONOTONIC_COARSE"};
    for (unsigned i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
        /* Coarse clocks lag by up to a tick on Linux: compare them within 100 ms. */
        int64_t slack = i >= 4 ? 100000000 : 0;
        int64_t before = sys_ns(clocks[i]);
        struct timespec ts;
        int ret = vgettime(clocks[i], &ts);
        int64_t after = sys_ns(clocks[i]);
        int64_t ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
        char what[96];
        snprintf(what, sizeof what, "vDSO CLOCK_%s between two system-call reads", names[i]);
        CHECK(what, ret == 0 && ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000 &&
                        ns >= before - slack && ns <= after + slack);
    }
    int64_t last = 0, backwards = 0;
    for (int i = 0; i < 10000; i++) {
        struct timespec ts;
        vgettime(CLOCK_MONOTONIC, &ts);
        int64_t ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
        backwards |= ns < last;
        last = ns;
    }
    CHECK("10,000 vDSO CLOCK_MONOTONIC reads never go back", !backwards);

    struct timespec ts;
    CHECK_EQ("vDSO CLOCK_PROCESS_CPUTIME_ID answers (the system call's)",
             vgettime(CLOCK_PROCESS_CPUTIME_ID, &ts), 0);
    CHECK_EQ("vDSO clock_gettime of clock 99 -> -EINVAL (the system call's)", vgettime(99, &ts),
             -EINVAL);

    struct timeval tv = {0, -1};
    struct timezone tz = {123, 456};
    int64_t before = sys_ns(CLOCK_REALTIME) / 1000;
    int ret = vgettimeofday(&tv, &tz);
    int64_t after = sys_ns(CLOCK_REALTIME) / 1000;
    int64_t us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
    CHECK("vDSO gettimeofday between two CLOCK_REALTIME reads",
          ret == 0 && tv.tv_usec >= 0 && tv.tv_usec < 1000000 && us >= before && us <= after);
    CHECK("vDSO gettimeofday's time zone: 0 minutes west, no DST",
          tz.tz_minuteswest == 0 && tz.tz_dsttime == 0);
    CHECK_EQ("vDSO gettimeofday(NULL, NULL)", vgettimeofday(NULL, NULL), 0);
    struct timezone sys_tz = {123, 456};
    CHECK("gettimeofday system call's time zone: zeros too",
          syscall(SYS_gettimeofday, NULL, &sys_tz) == 0 && sys_tz.tz_minuteswest == 0 &&
              sys_tz.tz_dsttime == 0);

    time_t t = 0;
    int64_t s0 = sys_ns(CLOCK_REALTIME) / 1000000000;
    time_t v = vtime(&t);
    int64_t s1 = sys_ns(CLOCK_REALTIME) / 1000000000;
    CHECK("vDSO time between two CLOCK_REALTIME reads, and stored", v >= s0 && v <= s1 && t == v);
    CHECK("vDSO time(NULL)", vtime(NULL) >= s0);

    unsigned cpu = 7, node = 7;
    CHECK("vDSO getcpu: CPU 0, node 0", vgetcpu(&cpu, &node, NULL) == 0 && cpu == 0 && node == 0);
    unsigned scpu = 7, snode = 7;
    CHECK("getcpu system call: CPU 0, node 0",
          syscall(SYS_getcpu, &scpu, &snode, NULL) == 0 && scpu == 0 && snode == 0);
    CHECK_EQ("vDSO getcpu(NULL, NULL)", vgetcpu(NULL, NULL, NULL), 0);

    /* The C library's own wrappers, which use the vDSO. */
    before = sys_ns(CLOCK_MONOTONIC);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    after = sys_ns(CLOCK_MONOTONIC);
    int64_t ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    CHECK("libc clock_gettime(CLOCK_MONOTONIC) agrees", ns >= before && ns <= after);
    CHECK("libc clock_gettime of a bad clock -> EINVAL",
          clock_gettime((clockid_t)99, &ts) == -1 && errno == EINVAL);

    CHECK("/proc/self/maps shows [vdso]", maps_has("[vdso]"));
    CHECK("/proc/self/maps shows [vvar]", maps_has("[vvar]"));
    pid_t pid = fork();
    if (pid == 0) {
        struct timespec c;
        _exit(vgettime(CLOCK_MONOTONIC, &c) == 0 && getauxval(AT_SYSINFO_EHDR) == (uintptr_t)eh
                  ? 0
                  : 1);
    }
    int status;
    waitpid(pid, &status, 0);
    CHECK("a fork child calls the vDSO at the same address", WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return check_exit();
}
