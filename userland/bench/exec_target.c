/*
 * exec_target: the program fork_exec runs. It only exits, with no C library (-nostdlib),
 * so fork_exec measures fork, execve of a small static ELF, exit and wait, not libc's
 * start-up. Built by `cargo xtask bench` and packed as /bench-exec-target.
 */
void _start(void)
{
    __asm__ volatile("mov $60, %%eax\n\t" /* exit(0) */
                     "xor %%edi, %%edi\n\t"
                     "syscall" ::: "rax", "rdi", "rcx", "r11", "memory");
    __builtin_unreachable();
}
