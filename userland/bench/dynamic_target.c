/*
 * dynamic_target: the program fork_exec_dynamic runs, as /bin/true would run on a
 * distribution: a dynamically linked glibc PIE that returns 0. Its exec costs what every
 * dynamically linked program's does: the kernel maps the program and its interpreter
 * (ld.so), ld.so maps libc.so.6 and relocates both, libc starts up. Built by `cargo xtask
 * bench` (`cc -pie -O2 -s`) and packed as /bench-dynamic-target with the interpreter and
 * libraries it loads.
 */
int main(void)
{
    return 0;
}
