/*
 * debian.c: the Debian benchmarks (see bench.h): Debian's own dynamically linked programs,
 * from the Debian root file system the harness packs only for them (`--only debian`). One
 * operation is one run of the program: fork, execve (the kernel maps the program and
 * ld.so, ld.so maps its libraries), the program's work, exit and wait, timed by
 * run_checked (workloads.c). Each run must exit 0 with nothing on stderr, and its output
 * is checked after the clock: a wrong answer is the benchmark's error, never a time.
 *
 * python_startup: `python3 -c pass`, which must print nothing. Debian's tree here has no
 * byte code (no maintainer script ran py3compile), so the warm-up run compiles what
 * Python imports at start-up into __pycache__ (the root is a RAM file system on both
 * kernels); the timed runs load it, as on an installed system.
 *
 * bash_script: Debian's bash runs SCRIPT with `bash -c`: a loop with arithmetic, array
 * and string operations, a function and a builtin in command substitutions (subshells: a
 * fork each), a `while read` loop over a generated file, and two pipelines of external
 * programs (cut, sort) whose output fills arrays. C computes what it must print.
 */
#include "bench.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PYTHON "/usr/bin/python3"
#define BASH "/bin/bash"
#define VALUE(x) #x
#define STRING(x) VALUE(x)

const char *loop_python_startup(long n, uint64_t *ns)
{
    char *argv[] = {"python3", "-c", "pass", NULL};
    if (access(PYTHON, X_OK) != 0)
        return failed(PYTHON " (the Debian tree is packed only for the debian group)");
    const char *e = fresh_dir(OUT_DIR);
    for (long i = 0; i < n && !e; i++) {
        e = run_checked(PYTHON, argv, ns);
        if (!e)
            e = expect_output(out, "");
    }
    return e;
}

/* The loop's length, the generated file's lines and its distinct keys. */
#define LOOP 1000
#define ROWS 200
#define KEYS 12
#define FIB 40

static const char script[] =
    "f=" IN_DIR "/data\n"
    "fib() { local a=0 b=1 i t; for ((i = 0; i < $1; i++)); do t=$((a + b)); a=$b; b=$t; "
    "done; echo $a; }\n"
    "sum=0; words=(); text=\n"
    "for ((i = 0; i < " STRING(LOOP) "; i++)); do\n"
    "  sum=$(( (sum * 31 + i) % 1000003 ))\n"
    "  words+=(\"w$((i % 17))\")\n"
    "  text+=\"${words[i]#w}-\"\n"
    "done\n"
    "t=${text//-/+}\n"
    "echo \"loop $sum ${#words[@]} ${#text} ${words[-1]^^} ${t:0:16}\"\n"
    "echo \"fib $(fib " STRING(FIB) ") $(printf '%05d' $((sum % 100000)))\"\n"
    "total=0; count=0\n"
    "while read -r key value; do total=$((total + value)); count=$((count + 1)); "
    "done < \"$f\"\n"
    "echo \"read $count $total\"\n"
    "keys=($(/usr/bin/cut -d ' ' -f 1 \"$f\" | /usr/bin/sort -u))\n"
    "values=($(/usr/bin/sort -n -k 2 \"$f\" | /usr/bin/cut -d ' ' -f 2))\n"
    "echo \"keys ${#keys[@]} ${keys[0]} ${keys[-1]} min ${values[0]} max ${values[-1]}\"\n";

/* Writes the script's input and what the script must print into `want`. */
static const char *prepare_bash_script(char *want, size_t size)
{
    static char data[ROWS * 16];
    size_t len = 0;
    long total = 0, min = 1000, max = -1;
    for (long i = 0; i < ROWS; i++) {
        long key = i * 7 % KEYS, value = (i * 7919 + 104729) % 1000;
        len += snprintf(data + len, sizeof data - len, "k%02ld %ld\n", key, value);
        total += value;
        min = value < min ? value : min;
        max = value > max ? value : max;
    }
    const char *e = write_file(IN_DIR "/data", data, len);
    if (e)
        return e;
    long sum = 0;
    char text[LOOP * 4] = "";
    size_t text_len = 0;
    for (long i = 0; i < LOOP; i++) {
        sum = (sum * 31 + i) % 1000003;
        text_len += snprintf(text + text_len, sizeof text - text_len, "%ld-", i % 17);
    }
    char head[17];
    snprintf(head, sizeof head, "%s", text);
    for (char *c = head; *c; c++)
        *c = *c == '-' ? '+' : *c;
    unsigned long a = 0, b = 1;
    for (int i = 0; i < FIB; i++) {
        unsigned long t = a + b;
        a = b;
        b = t;
    }
    snprintf(want, size,
             "loop %ld %d %zu W%d %s\nfib %lu %05ld\nread %d %ld\nkeys %d k00 k%02d min %ld "
             "max %ld\n",
             sum, LOOP, text_len, (LOOP - 1) % 17, head, a, sum % 100000, ROWS, total, KEYS,
             KEYS - 1, min, max);
    return NULL;
}

const char *loop_bash_script(long n, uint64_t *ns)
{
    static char want[1024];
    char *argv[] = {"bash", "-c", (char *)script, NULL};
    if (access(BASH, X_OK) != 0)
        return failed(BASH " (the Debian tree is packed only for the debian group)");
    const char *e = fresh_dir(IN_DIR);
    if (!e)
        e = prepare_bash_script(want, sizeof want);
    for (long i = 0; i < n && !e; i++) {
        e = fresh_dir(OUT_DIR);
        if (!e)
            e = run_checked(BASH, argv, ns);
        if (!e)
            e = expect_output(out, want);
    }
    return e;
}
