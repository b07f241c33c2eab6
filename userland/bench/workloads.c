/*
 * workloads.c: the workload benchmarks (see bench.h). One operation is one run of a whole
 * workload: BusyBox's sh running a script (sh_*, tar_tree, hash_gzip, make_j4), or C
 * doing file-tree work (file_tree). The BusyBox ones need /bin/busybox and its applet
 * links, which `cargo xtask bench` packs when a workload is selected.
 *
 * A run's inputs are written once per body call, into IN_DIR; each run works in an empty
 * OUT_DIR (removed and made again before it, untimed). The clock covers the fork of sh,
 * the script and the wait. After it, untimed, the run is checked: sh must exit 0 with
 * nothing on stderr, and its output must be what C computes independently from the
 * inputs it generated (counts, sums, CRC-32s, the files tar extracted). A wrong answer is
 * the benchmark's error, never a time.
 */
#include "bench.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define STDOUT_FILE BENCH_DIR "/stdout"
#define STDERR_FILE BENCH_DIR "/stderr"
#define VALUE(x) #x
#define STRING(x) VALUE(x)

/* What the program printed on stdout (the largest output is sh_pipeline's, under 1 KiB). */
char out[16384];
static char why[512];

/* A deterministic pseudo-random sequence (splitmix64), the same on every kernel. */
static uint64_t seed;

static uint64_t next_random(void)
{
    uint64_t z = (seed += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* The CRC-32 of gzip and zlib (what BusyBox's `crc32` prints, as 8 hex digits). */
static uint32_t crc32_of(const unsigned char *p, size_t len)
{
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int bit = 0; bit < 8; bit++)
            crc = crc & 1 ? (crc >> 1) ^ 0xedb88320u : crc >> 1;
    }
    return ~crc;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    return remove(path);
}

/* Removes `dir` and everything in it (nothing there is fine), then makes it empty. */
const char *fresh_dir(const char *dir)
{
    if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT)
        return failed("removing the previous run's files");
    if (mkdir(dir, 0755) != 0)
        return failed("mkdir");
    return NULL;
}

const char *write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return failed(path);
    ssize_t w = write(fd, data, len);
    close(fd);
    return w == (ssize_t)len ? NULL : failed("write");
}

/* Reads a whole file into `buf` (NUL-terminated); its length, or -1. */
static ssize_t read_file(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    size_t len = 0;
    for (ssize_t r; len < size - 1 && (r = read(fd, buf + len, size - 1 - len)) > 0;)
        len += r;
    close(fd);
    buf[len] = 0;
    return len;
}

/* Runs the program `path` with `argv` in OUT_DIR, stdout and stderr to files; times fork
 * to wait. It must exit 0 with nothing on stderr; its stdout is left in `out`. */
const char *run_checked(const char *path, char *const argv[], uint64_t *ns)
{
    char *envp[] = {"PATH=/bin:/sbin:/usr/bin:/usr/sbin", "HOME=/", NULL};
    uint64_t t0 = now_ns();
    pid_t pid = fork();
    if (pid < 0)
        return failed("fork");
    if (pid == 0) {
        int o = open(STDOUT_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(STDERR_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0 || chdir(OUT_DIR) != 0)
            _exit(126);
        execve(path, argv, envp);
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid)
        return failed("waitpid");
    *ns += now_ns() - t0;
    char err[256];
    ssize_t elen = read_file(STDERR_FILE, err, sizeof err);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || elen != 0) {
        char *nl = elen > 0 ? strchr(err, '\n') : NULL;
        if (nl)
            *nl = 0;
        snprintf(why, sizeof why, "%s: wait status %d, stderr: %s", argv[0], status,
                 elen > 0 ? err : "(empty)");
        return why;
    }
    if (read_file(STDOUT_FILE, out, sizeof out) < 0)
        return failed(STDOUT_FILE);
    return NULL;
}

/* Runs `script` with BusyBox's `sh -c` in OUT_DIR (see run_checked). */
static const char *run_sh(const char *script, uint64_t *ns)
{
    char *argv[] = {"sh", "-c", (char *)script, NULL};
    return run_checked("/bin/sh", argv, ns);
}

/* About 40 bytes of `text` on one line (a newline as \n), for an error message. */
static const char *excerpt(char *buf, const char *text)
{
    size_t len = 0;
    for (; *text && len < 40; text++) {
        if (*text == '\n')
            buf[len++] = '\\', buf[len++] = 'n';
        else
            buf[len++] = *text;
    }
    buf[len] = 0;
    return buf;
}

/* The output `got` must be `want`; says where they part. */
const char *expect_output(const char *got, const char *want)
{
    if (strcmp(got, want) == 0)
        return NULL;
    size_t at = 0;
    while (got[at] && got[at] == want[at])
        at++;
    char a[96], b[96];
    snprintf(why, sizeof why, "wrong output at byte %zu: got \"%s\", want \"%s\"", at,
             excerpt(a, got + at), excerpt(b, want + at));
    return why;
}

/* A workload run by sh: its inputs, its script, and the output it must print. */
struct workload {
    const char *script;
    /* Writes the inputs into IN_DIR and the expected stdout into `want` (untimed). */
    const char *(*prepare)(char *want, size_t size);
    /* Checks what the run left in OUT_DIR beyond its output (NULL: nothing to check). */
    const char *(*check_files)(void);
};

static char want[sizeof out];

static const char *run_workload(const struct workload *w, long n, uint64_t *ns)
{
    const char *e = fresh_dir(IN_DIR);
    if (!e)
        e = w->prepare(want, sizeof want);
    for (long i = 0; i < n && !e; i++) {
        e = fresh_dir(OUT_DIR);
        if (!e)
            e = run_sh(w->script, ns);
        if (!e)
            e = expect_output(out, want);
        if (!e && w->check_files)
            e = w->check_files();
    }
    return e;
}

/* sh_exec and sh_big_exec: sh runs a program EXEC_RUNS times (fork + execve each). */
#define EXEC_RUNS 100

static const char *prepare_sh_exec(char *want, size_t size)
{
    snprintf(want, size, "%d\n", EXEC_RUNS);
    return NULL;
}

const char *loop_sh_exec(long n, uint64_t *ns)
{
    static const struct workload w = {
        "i=0; while [ $i -lt " STRING(EXEC_RUNS) " ]; do /bin/true || exit 1; "
        "i=$((i + 1)); done; echo $i",
        prepare_sh_exec, NULL};
    return run_workload(&w, n, ns);
}

const char *loop_sh_big_exec(long n, uint64_t *ns)
{
    static const struct workload w = {
        "i=0; while [ $i -lt " STRING(EXEC_RUNS) " ]; do " BIG_TARGET " || exit 1; "
        "i=$((i + 1)); done; echo $i",
        prepare_sh_exec, NULL};
    return run_workload(&w, n, ns);
}

/* sh_pipeline: PIPELINES four-stage pipelines (a subshell's echo and three programs). */
#define PIPELINES 50

static const char *prepare_sh_pipeline(char *want, size_t size)
{
    size_t len = 0;
    for (int i = 0; i < PIPELINES; i++)
        len += snprintf(want + len, size - len, "LINE %d\n", i);
    return NULL;
}

const char *loop_sh_pipeline(long n, uint64_t *ns)
{
    static const struct workload w = {
        "i=0; while [ $i -lt " STRING(PIPELINES) " ]; do "
        "echo \"line $i\" | /bin/cat | /usr/bin/tr a-z A-Z | /bin/grep LINE || exit 1; "
        "i=$((i + 1)); done",
        prepare_sh_pipeline, NULL};
    return run_workload(&w, n, ns);
}

/* sh_text: a script of ten applets over a generated file of TEXT_LINES lines
 * "kNNN VALUE WORD": key 0..TEXT_KEYS-1, value 0..9999, word from `words`. */
#define TEXT_LINES 20000
#define TEXT_KEYS 500

static const char *const words[] = {"apple", "banana", "cherry", "damson", "elder", "fig"};

static const char *prepare_sh_text(char *want, size_t size)
{
    static char data[TEXT_LINES * 24];
    static unsigned char key_seen[TEXT_KEYS];
    memset(key_seen, 0, sizeof key_seen);
    size_t len = 0, last = 0;
    long sum = 0, min = 10000, apples = 0, bananas = 0, k007 = 0, keys = 0;
    seed = 1;
    for (int i = 0; i < TEXT_LINES; i++) {
        unsigned key = next_random() % TEXT_KEYS, value = next_random() % 10000;
        unsigned word = next_random() % (sizeof words / sizeof *words);
        last = len;
        len += snprintf(data + len, sizeof data - len, "k%03u %u %s\n", key, value,
                        words[word]);
        sum += value;
        min = value < min ? value : min;
        apples += word == 0;
        bananas += word == 1;
        k007 += key == 7;
        keys += !key_seen[key];
        key_seen[key] = 1;
    }
    const char *e = write_file(IN_DIR "/data", data, len);
    if (e)
        return e;
    /* wc -l, grep -c, awk sum, distinct keys, numeric minimum, sed -n p, tr + grep, tail */
    snprintf(want, size, "%d\n%ld\n%ld\n%ld\n%ld\n%ld\n%ld\n%s", TEXT_LINES, apples, sum, keys,
             min, k007, bananas, data + last);
    return NULL;
}

const char *loop_sh_text(long n, uint64_t *ns)
{
    static const struct workload w = {
        "f=" IN_DIR "/data\n"
        "/usr/bin/wc -l < $f\n"
        "/bin/grep -c apple $f\n"
        "/usr/bin/awk '{ s += $2 } END { print s }' $f\n"
        "/usr/bin/cut -d ' ' -f 1 $f | /usr/bin/sort | /usr/bin/uniq | /usr/bin/wc -l\n"
        "/usr/bin/sort -n -k 2 $f | /usr/bin/head -n 1 | /usr/bin/cut -d ' ' -f 2\n"
        "/bin/sed -n 's/^k007 //p' $f | /usr/bin/wc -l\n"
        "/usr/bin/tr a-z A-Z < $f | /bin/grep -c BANANA\n"
        "/usr/bin/tail -n 1 $f\n",
        prepare_sh_text, NULL};
    return run_workload(&w, n, ns);
}

/* A generated tree: TREE_DIRS directories of TREE_FILES files each, file j of directory d
 * holding tree_size(d, j) bytes of tree_byte(d, j, offset). */
#define TREE_DIRS 8
#define TREE_FILES 40

static size_t tree_size(int d, int j)
{
    return (size_t)(d * TREE_FILES + j) * 397 % 8192;
}

static unsigned char tree_byte(int d, int j, size_t at)
{
    return 'a' + (d * 7 + j * 3 + at) % 26;
}

static void tree_path(char *path, size_t size, const char *root, int d, int j)
{
    if (j < 0)
        snprintf(path, size, "%s/tree/d%d", root, d);
    else
        snprintf(path, size, "%s/tree/d%d/f%d", root, d, j);
}

static const char *prepare_tar_tree(char *want, size_t size)
{
    static unsigned char data[8192];
    char path[128];
    if (mkdir(IN_DIR "/tree", 0755) != 0)
        return failed("mkdir");
    for (int d = 0; d < TREE_DIRS; d++) {
        tree_path(path, sizeof path, IN_DIR, d, -1);
        if (mkdir(path, 0755) != 0)
            return failed("mkdir");
        for (int j = 0; j < TREE_FILES; j++) {
            for (size_t at = 0; at < tree_size(d, j); at++)
                data[at] = tree_byte(d, j, at);
            tree_path(path, sizeof path, IN_DIR, d, j);
            const char *e = write_file(path, data, tree_size(d, j));
            if (e)
                return e;
        }
    }
    snprintf(want, size, "done\n");
    return NULL;
}

/* Entries of `dir` other than . and .., or -1. */
static long entries(const char *dir)
{
    DIR *listing = opendir(dir);
    if (!listing)
        return -1;
    long count = 0;
    for (struct dirent *e; (e = readdir(listing));)
        count += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(listing);
    return count;
}

/* Every file tar extracted into OUT_DIR/x has the generated contents, and nothing else is
 * there. */
static const char *check_tar_tree(void)
{
    static char data[8192 + 1];
    char path[128];
    if (entries(OUT_DIR "/x/tree") != TREE_DIRS)
        return failed_because("directories extracted", entries(OUT_DIR "/x/tree"), TREE_DIRS);
    for (int d = 0; d < TREE_DIRS; d++) {
        tree_path(path, sizeof path, OUT_DIR "/x", d, -1);
        if (entries(path) != TREE_FILES)
            return failed_because("files extracted", entries(path), TREE_FILES);
        for (int j = 0; j < TREE_FILES; j++) {
            tree_path(path, sizeof path, OUT_DIR "/x", d, j);
            ssize_t len = read_file(path, data, sizeof data);
            if (len != (ssize_t)tree_size(d, j))
                return failed_because(path, len, tree_size(d, j));
            for (size_t at = 0; at < (size_t)len; at++)
                if ((unsigned char)data[at] != tree_byte(d, j, at))
                    return failed_because("byte of an extracted file", data[at],
                                          tree_byte(d, j, at));
        }
    }
    return NULL;
}

const char *loop_tar_tree(long n, uint64_t *ns)
{
    static const struct workload w = {
        "/bin/tar -cf t.tar -C " IN_DIR " tree && /bin/mkdir x && /bin/tar -xf t.tar -C x "
        "&& echo done",
        prepare_tar_tree, check_tar_tree};
    return run_workload(&w, n, ns);
}

/* hash_gzip: CRC-32, SHA-256 and gzip of a 1 MiB generated text file, then the CRC-32 and
 * SHA-256 of what gunzip gives back. */
#define BLOB_BYTES (1 << 20)

static const char *prepare_hash_gzip(char *want, size_t size)
{
    static unsigned char blob[BLOB_BYTES];
    seed = 2;
    for (size_t at = 0; at < BLOB_BYTES;) {
        char line[64];
        int len = snprintf(line, sizeof line, "%s %llu\n", words[next_random() % 6],
                           (unsigned long long)(next_random() % 100000));
        for (int k = 0; k < len && at < BLOB_BYTES; k++)
            blob[at++] = line[k];
    }
    const char *e = write_file(IN_DIR "/blob", blob, BLOB_BYTES);
    if (e)
        return e;
    uint32_t crc = crc32_of(blob, BLOB_BYTES);
    /* The SHA-256 lines are checked against each other (see loop_hash_gzip). */
    snprintf(want, size, "%08x\nsame\n%08x\n", crc, crc);
    return NULL;
}

const char *loop_hash_gzip(long n, uint64_t *ns)
{
    static const struct workload w = {
        "f=" IN_DIR "/blob\n"
        "/usr/bin/crc32 < $f\n"
        "a=$(/usr/bin/sha256sum < $f)\n"
        "/bin/gzip -c $f > blob.gz\n"
        "b=$(/bin/gunzip -c blob.gz | /usr/bin/sha256sum)\n"
        "[ ${#a} -ge 64 ] && [ \"$a\" = \"$b\" ] && echo same\n"
        "/bin/gunzip -c blob.gz | /usr/bin/crc32\n",
        prepare_hash_gzip, NULL};
    return run_workload(&w, n, ns);
}

/* make_j4: four shells at once, each "compiling" MAKE_JOBS sources (tr a-z A-Z, one
 * process each) into objects, then one "link" (cat of every object, in name order, into
 * crc32). Sources are numbered from 10 so that name order is number order. */
#define MAKE_SHELLS 4
#define MAKE_JOBS 20
#define MAKE_END 30 /* 10 + MAKE_JOBS */

static const char *prepare_make_j4(char *want, size_t size)
{
    static unsigned char all[MAKE_SHELLS * MAKE_JOBS * 600];
    size_t total = 0;
    char path[128];
    if (mkdir(IN_DIR "/src", 0755) != 0)
        return failed("mkdir");
    seed = 3;
    for (int j = 1; j <= MAKE_SHELLS; j++)
        for (int i = 10; i < MAKE_END; i++) {
            char text[600];
            size_t len = 0;
            while (len < 500)
                len += snprintf(text + len, sizeof text - len, "%s %d.%d\n",
                                words[next_random() % 6], j, i);
            snprintf(path, sizeof path, IN_DIR "/src/%d.%d", j, i);
            const char *e = write_file(path, text, len);
            if (e)
                return e;
            for (size_t k = 0; k < len; k++)
                all[total++] = text[k] >= 'a' && text[k] <= 'z' ? text[k] - 32 : text[k];
        }
    snprintf(want, size, "%08x\n", crc32_of(all, total));
    return NULL;
}

const char *loop_make_j4(long n, uint64_t *ns)
{
    static const struct workload w = {
        "pids=\n"
        "for j in 1 2 3 4; do\n"
        "  ( i=10; while [ $i -lt " STRING(MAKE_END) " ]; do\n"
        "      /usr/bin/tr a-z A-Z < " IN_DIR "/src/$j.$i > o.$j.$i || exit 1\n"
        "      i=$((i + 1)); done ) &\n"
        "  pids=\"$pids $!\"\n"
        "done\n"
        "for p in $pids; do wait $p || exit 1; done\n"
        "/bin/cat o.* | /usr/bin/crc32\n",
        prepare_make_j4, NULL};
    return run_workload(&w, n, ns);
}

/* file_tree: in C, no shell: FILE_TREE_DIRS directories of FILE_TREE_PER_DIR files (2,000
 * files): mkdir, create + write 100 bytes, stat (size checked), rename, list (count
 * checked), unlink, rmdir. The whole run is timed. */
#define FILE_TREE_DIRS 20
#define FILE_TREE_PER_DIR 100

static const char *file_tree_run(void)
{
    char path[128], other[128], data[100];
    memset(data, 'x', sizeof data);
    for (int d = 0; d < FILE_TREE_DIRS; d++) {
        snprintf(path, sizeof path, OUT_DIR "/d%d", d);
        if (mkdir(path, 0755) != 0)
            return failed("mkdir");
        for (int j = 0; j < FILE_TREE_PER_DIR; j++) {
            snprintf(path, sizeof path, OUT_DIR "/d%d/file%d", d, j);
            const char *e = write_file(path, data, sizeof data);
            if (e)
                return e;
        }
    }
    for (int d = 0; d < FILE_TREE_DIRS; d++)
        for (int j = 0; j < FILE_TREE_PER_DIR; j++) {
            struct stat st;
            snprintf(path, sizeof path, OUT_DIR "/d%d/file%d", d, j);
            if (stat(path, &st) != 0)
                return failed("stat");
            if (st.st_size != sizeof data)
                return failed_because("stat size", st.st_size, sizeof data);
            snprintf(other, sizeof other, OUT_DIR "/d%d/renamed%d", d, j);
            if (rename(path, other) != 0)
                return failed("rename");
        }
    for (int d = 0; d < FILE_TREE_DIRS; d++) {
        snprintf(path, sizeof path, OUT_DIR "/d%d", d);
        if (entries(path) != FILE_TREE_PER_DIR)
            return failed_because("directory entries", entries(path), FILE_TREE_PER_DIR);
        for (int j = 0; j < FILE_TREE_PER_DIR; j++) {
            snprintf(other, sizeof other, OUT_DIR "/d%d/renamed%d", d, j);
            if (unlink(other) != 0)
                return failed("unlink");
        }
        if (rmdir(path) != 0)
            return failed("rmdir");
    }
    return entries(OUT_DIR) == 0 ? NULL : failed_because("entries left", entries(OUT_DIR), 0);
}

const char *loop_file_tree(long n, uint64_t *ns)
{
    for (long i = 0; i < n; i++) {
        const char *e = fresh_dir(OUT_DIR);
        if (e)
            return e;
        uint64_t t0 = now_ns();
        e = file_tree_run();
        *ns += now_ns() - t0;
        if (e)
            return e;
    }
    return NULL;
}
