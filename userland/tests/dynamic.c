/*
 * dynamic: what a program sees at start about its ELF interpreter, and execve's rules for
 * PT_INTERP. Every build runs it: in the dynamic one (NAME-dyn) the kernel has mapped ld.so
 * and named it in the auxiliary vector (AT_BASE), in the static ones there is none (AT_BASE
 * 0). The execve checks build small ET_EXEC files that name an interpreter (missing, a
 * directory, not executable, too short, not ELF) or carry a malformed PT_INTERP, and expect
 * Linux's errno for each (fs/binfmt_elf.c, load_elf_binary).
 */
#include "check.h"
#include <elf.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/auxv.h>

/* The program's own PT_INTERP, from the headers the kernel named (AT_PHDR). */
static const Elf64_Phdr *own_interp(void)
{
    const Elf64_Phdr *ph = (const Elf64_Phdr *)getauxval(AT_PHDR);
    unsigned long n = getauxval(AT_PHNUM);
    for (unsigned long i = 0; ph && i < n; i++)
        if (ph[i].p_type == PT_INTERP)
            return &ph[i];
    return NULL;
}

/* Whether a line of /proc/self/maps starts at `addr` and maps a named file. */
static int mapped_file_at(unsigned long addr)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return 0;
    char line[512];
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long start = strtoul(line, NULL, 16);
        if (start == addr && strchr(line, '/'))
            found = 1;
    }
    fclose(f);
    return found;
}

static void start_up(void)
{
    const Elf64_Phdr *interp = own_interp();
    unsigned long base = getauxval(AT_BASE);
    CHECK("AT_BASE is set exactly when the program names an interpreter",
          (base != 0) == (interp != NULL));
    CHECK("AT_PHNUM and AT_PHENT describe 64-bit program headers",
          getauxval(AT_PHNUM) > 0 && getauxval(AT_PHENT) == sizeof(Elf64_Phdr));
    if (!interp)
        return;
    const Elf64_Ehdr *ld = (const Elf64_Ehdr *)base;
    CHECK("AT_BASE is page-aligned", base % 4096 == 0);
    CHECK("AT_BASE points at the interpreter's ELF header",
          memcmp(ld->e_ident, ELFMAG, SELFMAG) == 0 && ld->e_type == ET_DYN &&
              ld->e_machine == EM_X86_64);
    CHECK("/proc/self/maps shows the interpreter's file at AT_BASE", mapped_file_at(base));
    CHECK("the interpreter lies above the program",
          base > getauxval(AT_ENTRY) && base > getauxval(AT_PHDR));
    CHECK_EQ("AT_EXECFN names the program, not the interpreter",
             strstr((const char *)getauxval(AT_EXECFN), "dynamic") != NULL, 1);
}

/* A file named `name` with `len` bytes of `byte`, mode `mode`. */
static void make_file(const char *name, int len, char byte, mode_t mode)
{
    char buf[256];
    memset(buf, byte, sizeof buf);
    int fd = open(name, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    write(fd, buf, len);
    fchmod(fd, mode);
    close(fd);
}

/*
 * An executable ET_EXEC named `name`: one PT_LOAD over the first page (at 0x400000) and a
 * PT_INTERP of `interp_len` bytes at file offset 0x100 holding `interp` (NUL padded, or cut).
 */
static void make_elf(const char *name, const char *interp, uint64_t interp_len)
{
    unsigned char image[0x200];
    memset(image, 0, sizeof image);
    Elf64_Ehdr *eh = (Elf64_Ehdr *)image;
    memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS64;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_VERSION] = EV_CURRENT;
    eh->e_type = ET_EXEC;
    eh->e_machine = EM_X86_64;
    eh->e_version = EV_CURRENT;
    eh->e_entry = 0x400180;
    eh->e_phoff = sizeof *eh;
    eh->e_ehsize = sizeof *eh;
    eh->e_phentsize = sizeof(Elf64_Phdr);
    eh->e_phnum = 2;
    Elf64_Phdr *ph = (Elf64_Phdr *)(image + sizeof *eh);
    ph[0] = (Elf64_Phdr){.p_type = PT_INTERP, .p_flags = PF_R, .p_offset = 0x100,
                         .p_vaddr = 0x400100, .p_filesz = interp_len, .p_memsz = interp_len,
                         .p_align = 1};
    ph[1] = (Elf64_Phdr){.p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = 0,
                         .p_vaddr = 0x400000, .p_filesz = sizeof image,
                         .p_memsz = sizeof image, .p_align = 4096};
    size_t n = strlen(interp);
    memcpy(image + 0x100, interp, n < 0x80 ? n : 0x80);
    image[0x180] = 0xf4; /* hlt: never reached, every exec below fails */
    int fd = open(name, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    write(fd, image, sizeof image);
    fchmod(fd, 0755);
    close(fd);
}

static long exec_elf(const char *interp, uint64_t interp_len)
{
    char *argv[] = {"t-elf", NULL};
    char *envp[] = {NULL};
    make_elf("t-elf", interp, interp_len);
    return syscall(SYS_execve, "t-elf", argv, envp);
}

static void exec_rules(void)
{
    mkdir("t-dir", 0755);
    make_file("t-short", 10, 'x', 0755);
    make_file("t-text", 200, 'x', 0755);
    make_file("t-noexec", 200, 'x', 0644);
    CHECK_ERR("an interpreter that does not exist -> ENOENT", exec_elf("t-missing", 10), ENOENT);
    /* Linux walks an empty name from the working directory (a directory: EACCES). */
    CHECK_ERR("an empty interpreter path -> EACCES", exec_elf("", 2), EACCES);
    CHECK_ERR("an interpreter that is a directory -> EACCES", exec_elf("t-dir", 6), EACCES);
    CHECK_ERR("an interpreter without execute bits -> EACCES", exec_elf("t-noexec", 9),
              EACCES);
    CHECK_ERR("an interpreter shorter than an ELF header -> EIO", exec_elf("t-short", 8), EIO);
    CHECK_ERR("an interpreter that is not ELF -> ELIBBAD", exec_elf("t-text", 7), ELIBBAD);
    CHECK_ERR("PT_INTERP of one byte -> ENOEXEC", exec_elf("t-text", 1), ENOEXEC);
    CHECK_ERR("PT_INTERP longer than PATH_MAX -> ENOEXEC", exec_elf("t-text", 4097), ENOEXEC);
    CHECK_ERR("PT_INTERP past the end of the file -> EIO", exec_elf("t-text", 0x101), EIO);
    CHECK_ERR("PT_INTERP without its NUL -> ENOEXEC", exec_elf("t-text", 6), ENOEXEC);
    unlink("t-elf");
    unlink("t-short");
    unlink("t-text");
    unlink("t-noexec");
    rmdir("t-dir");
}

int main(void)
{
    start_up();
    exec_rules();
    return check_exit();
}
