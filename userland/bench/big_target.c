/*
 * big_target: the program fork_exec_2mb and sh_big_exec run: static, no C library, with a
 * 2 MiB text segment. The text is `ret` instructions; the program calls one at the start
 * of each of TOUCHED pages spread evenly over it and exits 0, so an execve maps 2 MiB of
 * code of which the program uses a few pages, as a large program's start-up does. Built
 * by `cargo xtask bench` and packed as /bench-big-target.
 */
#define TEXT_BYTES 2097152
#define TOUCHED 8
#define STRING(x) #x
#define VALUE(x) STRING(x)

__asm__(".text\n"
        ".globl big_text\n"
        ".type big_text, @function\n"
        "big_text:\n"
        ".fill " VALUE(TEXT_BYTES) ", 1, 0xc3\n"
        ".size big_text, " VALUE(TEXT_BYTES) "\n");

void big_text(void);

void _start(void)
{
    for (long i = 0; i < TOUCHED; i++) {
        void (*page)(void) = (void (*)(void))((char *)big_text + i * (TEXT_BYTES / TOUCHED));
        page();
    }
    __asm__ volatile("mov $60, %%eax\n\t" /* exit(0) */
                     "xor %%edi, %%edi\n\t"
                     "syscall" ::: "rax", "rdi", "rcx", "r11", "memory");
    __builtin_unreachable();
}
