/*
 * The smallest program Tessera runs: /init of the `hello` config, rung 2 of the teaching
 * ladder (docs/tour.md follows it through the kernel).
 *
 * No C library and no start-up code: the kernel jumps to _start with the stack pointer at
 * argc, and the program makes two system calls, write(1, msg, len) and exit_group(0). Built
 * with `cc -static -nostdlib` by cargo xtask (xtask/src/userland.rs).
 */

/* x86_64 Linux system call numbers (arch/x86/entry/syscalls/syscall_64.tbl). */
#define SYS_write 1
#define SYS_exit_group 231

/* A system call: number in rax, arguments in rdi, rsi, rdx; the CPU's `syscall` clobbers
 * rcx (return address) and r11 (flags). The result comes back in rax. */
static long syscall3(long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
}

__attribute__((noreturn)) void _start(void)
{
	static const char msg[] = "hello from user space\n";
	long written = syscall3(SYS_write, 1, (long)msg, sizeof msg - 1);
	syscall3(SYS_exit_group, written == sizeof msg - 1 ? 0 : 1, 0, 0);
	for (;;)
		;
}
