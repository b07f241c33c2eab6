/*
 * ipc-shm.h, part of ipc.c: System V shared memory, raw system calls. shmget (keys, IPC_CREAT, IPC_EXCL, sizes),
 * shmat (anywhere, at an address, SHM_RND, SHM_RDONLY, overlaps), stores seen across fork
 * and between two attachments, shm_nattch through fork, exit and shmdt, shmdt's rules,
 * IPC_RMID with attachments left (the segment stays, SHM_DEST, its key private, until the
 * last detach), shmctl's commands and errnos.
 */
#ifndef TESSERA_IPC_SHM_H
#define TESSERA_IPC_SHM_H

#define SHM_KEY 0x7e550002
#define K_SHM_DEST 01000
#define K_SHM_LOCKED 02000
#define SHM_PAGE 4096

static long shmget_(int key, size_t size, int flags)
{
    return syscall(SYS_shmget, key, size, flags);
}

static void *shmat_(int id, const void *addr, int flags)
{
    return (void *)syscall(SYS_shmat, id, addr, flags);
}

static long shmdt_(const void *addr)
{
    return syscall(SYS_shmdt, addr);
}

static long shmctl_(int id, int cmd, void *buf)
{
    return syscall(SYS_shmctl, id, cmd, buf);
}

static struct k_shmid64_ds shm_stat(int id)
{
    struct k_shmid64_ds ds;
    memset(&ds, 0xff, sizeof ds);
    shmctl_(id, IPC_STAT, &ds);
    return ds;
}

static volatile char *touched;

static int store_there(void)
{
    touched[0] = 1;
    return 0;
}

static int is_segv(int status)
{
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
}

/* An address where nothing is mapped, with `len` bytes free after it. */
static char *free_address(size_t len)
{
    char *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(p, len);
    return p;
}

static void shm_keys(void)
{
    long old = shmget_(SHM_KEY, 0, 0);
    if (old >= 0)
        shmctl_(old, IPC_RMID, NULL);
    CHECK_ERR("shmget of an unknown key: ENOENT", shmget_(SHM_KEY, SHM_PAGE, 0), ENOENT);
    CHECK_ERR("shmget of 0 bytes: EINVAL", shmget_(IPC_PRIVATE, 0, 0600), EINVAL);
    CHECK_ERR("shmget past SHMMAX: EINVAL", shmget_(IPC_PRIVATE, (size_t)-1, 0600), EINVAL);
    long id = shmget_(SHM_KEY, 5000, IPC_CREAT | 0640);
    CHECK("shmget IPC_CREAT", id >= 0);
    CHECK("shmget finds the key", shmget_(SHM_KEY, 0, 0) == id);
    CHECK("shmget of a smaller size finds it", shmget_(SHM_KEY, 100, 0) == id);
    CHECK_ERR("shmget of a larger size: EINVAL", shmget_(SHM_KEY, 8192, 0), EINVAL);
    CHECK_ERR("IPC_CREAT|IPC_EXCL: EEXIST", shmget_(SHM_KEY, 100, IPC_CREAT | IPC_EXCL | 0600), EEXIST);
    long other = shmget_(IPC_PRIVATE, 5000, 0600);
    CHECK("IPC_PRIVATE makes a new segment", other >= 0 && other != id);
    struct k_shmid64_ds ds = shm_stat(id);
    CHECK_EQ("IPC_STAT shm_segsz", ds.segsz, 5000);
    CHECK_EQ("IPC_STAT mode", ds.perm.mode, 0640);
    CHECK_EQ("IPC_STAT key", ds.perm.key, SHM_KEY);
    CHECK_EQ("IPC_STAT shm_nattch", ds.nattch, 0);
    CHECK("IPC_STAT shm_cpid is the creator", ds.cpid == getpid());
    CHECK_EQ("IPC_STAT shm_lpid before any shm_attach", ds.lpid, 0);
    CHECK_EQ("IPC_STAT shm_atime before any shm_attach", ds.atime, 0);
    CHECK("IPC_STAT shm_ctime set", ds.ctime != 0);
    ds.perm.mode = 0604;
    CHECK_OK("IPC_SET", shmctl_(id, IPC_SET, &ds));
    CHECK_EQ("IPC_SET changed the mode", shm_stat(id).perm.mode, 0604);
    CHECK_OK("SHM_LOCK", shmctl_(id, SHM_LOCK, NULL));
    CHECK_EQ("SHM_LOCKED in the mode", shm_stat(id).perm.mode, 0604 | K_SHM_LOCKED);
    CHECK_OK("SHM_UNLOCK", shmctl_(id, SHM_UNLOCK, NULL));
    CHECK_ERR("IPC_STAT to a bad address: EFAULT", shmctl_(id, IPC_STAT, (void *)8), EFAULT);
    CHECK_ERR("IPC_STAT | IPC_64: EINVAL", shmctl_(id, IPC_STAT | K_IPC_64, &ds), EINVAL);
    CHECK_ERR("an unknown command: EINVAL", shmctl_(id, 99, &ds), EINVAL);
    CHECK_ERR("shmctl of id -1: EINVAL", shmctl_(-1, IPC_STAT, &ds), EINVAL);
    unsigned long info[9];
    CHECK("IPC_INFO returns the highest index", shmctl_(0, K_IPC_INFO, info) >= 0);
    CHECK("shminfo shmmax", info[0] == (unsigned long)-1 - (1UL << 24));
    CHECK_EQ("shminfo shmmin", info[1], 1);
    CHECK_EQ("shminfo shmmni", info[2], 4096);
    CHECK_OK("IPC_RMID", shmctl_(id, IPC_RMID, NULL));
    CHECK_ERR("a removed segment: EINVAL", shmctl_(id, IPC_STAT, &ds), EINVAL);
    CHECK_ERR("shmat of it: EINVAL", (long)shmat_(id, NULL, 0), EINVAL);
    CHECK_ERR("its key is gone", shmget_(SHM_KEY, 0, 0), ENOENT);
    shmctl_(other, IPC_RMID, NULL);
}

static void shm_attach(void)
{
    long id = shmget_(IPC_PRIVATE, 2 * SHM_PAGE, 0600);
    REQUIRE("shmget", id >= 0);
    char *p = shmat_(id, NULL, 0);
    REQUIRE("shmat", p != (char *)-1);
    CHECK("shmat gives a page-aligned address", ((unsigned long)p & (SHM_PAGE - 1)) == 0);
    CHECK("a new segment reads zero", p[0] == 0 && p[2 * SHM_PAGE - 1] == 0);
    strcpy(p, "parent");
    struct k_shmid64_ds ds = shm_stat(id);
    CHECK_EQ("shm_nattch after shmat", ds.nattch, 1);
    CHECK("shm_atime set", ds.atime != 0);
    CHECK("shm_lpid is the attacher", ds.lpid == getpid());

    pid_t pid = fork();
    if (pid == 0) {
        int ok = strcmp(p, "parent") == 0 && shm_stat(id).nattch == 2;
        strcpy(p + SHM_PAGE, "child");
        _exit(ok ? 0 : 1);
    }
    CHECK_EQ("the child sees the parent's store and counts as attached", reap(pid), 0);
    CHECK_STR("the parent sees the child's store", p + SHM_PAGE, "child");
    CHECK_EQ("the child's exit detached it", shm_stat(id).nattch, 1);

    char *q = shmat_(id, NULL, 0);
    CHECK("a second attachment elsewhere", q != (char *)-1 && q != p);
    CHECK_STR("shows the same memory", q + SHM_PAGE, "child");
    q[0] = 'P';
    CHECK("stores through one show through the other", p[0] == 'P');
    CHECK_EQ("shm_nattch 2", shm_stat(id).nattch, 2);
    CHECK_OK("shmdt", shmdt_(q));
    CHECK_EQ("shm_nattch back to 1", shm_stat(id).nattch, 1);
    CHECK("shm_dtime set", shm_stat(id).dtime != 0);
    CHECK_ERR("shmdt where nothing is attached: EINVAL", shmdt_(q), EINVAL);
    CHECK_ERR("shmdt of a misaligned address: EINVAL", shmdt_(p + 1), EINVAL);

    char *r = shmat_(id, NULL, SHM_RDONLY);
    CHECK("SHM_RDONLY attaches", r != (char *)-1);
    CHECK("and reads", r[0] == 'P');
    touched = r;
    CHECK("a store through it is SIGSEGV", is_segv(child_status(store_there)));
    shmdt_(r);

    char *want = free_address(4 * SHM_PAGE);
    CHECK("shmat at a free address maps there", shmat_(id, want, 0) == want);
    CHECK("at a mapped one: EINVAL", shmat_(id, want + SHM_PAGE, 0) == (void *)-1 && errno == EINVAL);
    shmdt_(want);
    CHECK("a misaligned address: EINVAL", shmat_(id, want + 10, 0) == (void *)-1 && errno == EINVAL);
    CHECK("with SHM_RND it is rounded down", shmat_(id, want + 10, SHM_RND) == want);
    CHECK_STR("and shows the segment", want + SHM_PAGE, "child");
    CHECK_OK("mprotect of half an attachment", mprotect(want, SHM_PAGE, PROT_READ));
    CHECK_EQ("each piece counts in shm_nattch", shm_stat(id).nattch, 3);
    CHECK_OK("shmdt detaches both pieces", shmdt_(want));
    CHECK_EQ("shm_nattch 1", shm_stat(id).nattch, 1);
    touched = want;
    CHECK("the address is unmapped", is_segv(child_status(store_there)));
    CHECK_ERR("SHM_REMAP without an address: EINVAL", (long)shmat_(id, NULL, SHM_REMAP), EINVAL);
    CHECK_ERR("shmat of id -1: EINVAL", (long)shmat_(-1, NULL, 0), EINVAL);

    /* Removed while attached: it stays until the last detach. */
    pid = fork();
    if (pid == 0) {
        sleep_ms(100);
        _exit(strcmp(p + SHM_PAGE, "child") == 0 ? 0 : 1);
    }
    CHECK_OK("IPC_RMID while attached", shmctl_(id, IPC_RMID, NULL));
    ds = shm_stat(id);
    CHECK("IPC_STAT still works", ds.nattch == 2 || ds.nattch == 1);
    CHECK("SHM_DEST in the mode", ds.perm.mode & K_SHM_DEST);
    CHECK_EQ("its key is IPC_PRIVATE", ds.perm.key, IPC_PRIVATE);
    CHECK_EQ("the child still sees it", reap(pid), 0);
    CHECK_EQ("after the child's exit, one attachment", shm_stat(id).nattch, 1);
    char *again = shmat_(id, NULL, 0);
    CHECK("a removed segment may still be attached", again != (char *)-1);
    CHECK_OK("shmdt", shmdt_(again));
    CHECK_STR("the memory is still there", p + SHM_PAGE, "child");
    CHECK_OK("the last shmdt", shmdt_(p));
    CHECK_ERR("and the segment is gone", shmctl_(id, IPC_STAT, &ds), EINVAL);
}

static void shm_exit_detaches(void)
{
    long id = shmget_(IPC_PRIVATE, SHM_PAGE, 0600);
    REQUIRE("shmget", id >= 0);
    pid_t pid = fork();
    if (pid == 0) {
        char *p = shmat_(id, NULL, 0);
        if (p == (char *)-1)
            _exit(1);
        strcpy(p, "left by a child");
        _exit(0);
    }
    CHECK_EQ("a child attaches and exits", reap(pid), 0);
    CHECK_EQ("its attachment went with it", shm_stat(id).nattch, 0);
    char *p = shmat_(id, NULL, 0);
    CHECK_STR("the segment keeps what it stored", p, "left by a child");
    shmdt_(p);
    shmctl_(id, IPC_RMID, NULL);
}

static void shm_tests(void)
{
    shm_keys();
    shm_attach();
    shm_exit_detaches();
}

#endif
