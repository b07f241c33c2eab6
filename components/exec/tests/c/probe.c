/*
 * Test probe for tessera-exec, built with the host's `cc -static` (and `-static-pie`) by
 * tests/host_linux.rs and run by the host Linux kernel. It reports what Linux built:
 * its argument vector, the addresses of every string, the auxiliary vector, the initial
 * stack pointer, and the mappings of its own executable, one item per line:
 *
 *   arg <address> <hex bytes>       one per argv entry
 *   env <address> <hex bytes>       one per envp entry
 *   aux <key> <value>               every auxv pair before AT_NULL, in order
 *   execfn <hex bytes>              the string AT_EXECFN points to
 *   platform <hex bytes>            the string AT_PLATFORM points to
 *   rsp <address>                   where argc was at entry
 *   norandom <0|1>                  whether ADDR_NO_RANDOMIZE was in effect
 *   map <start> <end> <perms> <exe|anon|heap>   its own, unnamed and [heap] mappings
 *
 * With PROBE_LAYOUT in the environment it first re-executes itself (same path, argv and
 * envp) with address randomisation off, so that the stack layout is Linux's deterministic
 * one and can be compared byte for byte.
 */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/personality.h>
#include <unistd.h>

static void hex_line(const char *tag, const char *s) {
    printf("%s ", tag);
    for (; *s; s++)
        printf("%02x", (unsigned char)*s);
    printf("\n");
}

static void addr_hex_line(const char *tag, const char *s) {
    printf("%s %lx ", tag, (unsigned long)s);
    hex_line("", s);
}

static void maps(void) {
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = 0;
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return;
    char line[8192];
    while (fgets(line, sizeof line, f)) {
        unsigned long start, end;
        char perms[8], name[4096] = "";
        if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %4095[^\n]", &start, &end, perms, name) < 3)
            continue;
        const char *kind = name[0] == 0 ? "anon"
                           : strcmp(name, exe) == 0 ? "exe"
                           : strcmp(name, "[heap]") == 0 ? "heap"
                           : name[0] == '/' ? "file" /* the interpreter, libraries */
                           : NULL;
        if (kind)
            printf("map %lx %lx %s %s\n", start, end, perms, kind);
    }
    fclose(f);
}

int main(int argc, char **argv, char **envp) {
    int persona = personality(0xffffffff);
    int norandom = persona != -1 && (persona & ADDR_NO_RANDOMIZE) != 0;
    if (!norandom && getenv("PROBE_LAYOUT") && personality(persona | ADDR_NO_RANDOMIZE) != -1)
        execve((const char *)getauxval(AT_EXECFN), argv, envp);
    /* Falls through when randomisation cannot be turned off: report anyway. */

    for (int i = 0; i < argc; i++)
        addr_hex_line("arg", argv[i]);
    char **e = envp;
    for (; *e; e++)
        addr_hex_line("env", *e);
    for (Elf64_auxv_t *av = (Elf64_auxv_t *)(e + 1); av->a_type != AT_NULL; av++)
        printf("aux %lu %lx\n", (unsigned long)av->a_type, (unsigned long)av->a_un.a_val);
    hex_line("execfn", (const char *)getauxval(AT_EXECFN));
    hex_line("platform", (const char *)getauxval(AT_PLATFORM));
    printf("rsp %lx\n", (unsigned long)((char *)argv - 8));
    printf("norandom %d\n", norandom);
    maps();
    return 0;
}
