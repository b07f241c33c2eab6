//! The first instructions: from 32-bit protected mode (PVH or Multiboot2) to 64-bit Rust.
//!
//! QEMU's `-kernel` finds the PVH ELF note and jumps to `pvh_start32` in 32-bit protected mode
//! with paging off and EBX pointing at `hvm_start_info`. GRUB finds the Multiboot2 header and
//! enters at the same place with EAX = 0x36d76289 and EBX pointing at its boot information.
//! The stub maps the first GiB twice with 2 MiB pages (identity, so the next instruction still
//! exists when paging turns on, and at `KERNEL_VMA`, where the kernel is linked), enables long
//! mode with NX and write protection, clears `.bss`, switches to the boot stack and calls
//! [`crate::start::platform_start64`] with the boot magic and info pointer.

use core::arch::global_asm;

/// The switch to long mode that the boot CPU (here) and every other CPU (`smp.rs`'s
/// trampoline) make in 32-bit protected mode with paging off: CR4.PAE, CR3 = the boot page
/// tables (the first GiB at 0 and at the kernel's address), EFER.LME|NXE, CR0.PG|WP. A far
/// jump to a 64-bit code segment follows it.
macro_rules! enter_long_mode {
    () => {
        r#"
    mov %cr4, %eax
    or $(1 << 5), %eax
    mov %eax, %cr4
    mov $boot_pml4, %eax
    mov %eax, %cr3
    mov $0xc0000080, %ecx
    rdmsr
    or $((1 << 8) | (1 << 11)), %eax
    wrmsr
    mov %cr0, %eax
    or $((1 << 31) | (1 << 16)), %eax
    mov %eax, %cr0
"#
    };
}
pub(crate) use enter_long_mode;

global_asm!(
    concat!(
        r#"
    .section .note.Xen, "a", @note
    .p2align 2
    .long 4              /* namesz: "Xen\0" */
    .long 8              /* descsz */
    .long 18             /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .p2align 2
    .quad pvh_start32

    .section .boot.header, "a"
    .p2align 3
mb2_header:
    .long 0xe85250d6                 /* multiboot2 magic */
    .long 0                          /* architecture: i386 protected mode */
    .long mb2_header_end - mb2_header
    .long -(0xe85250d6 + (mb2_header_end - mb2_header))
    .p2align 3
    .short 0, 0                      /* end tag */
    .long 8
mb2_header_end:

    .section .boot.text, "ax"
    .code32
    .global pvh_start32
pvh_start32:
    cli
    cld
    mov %eax, %edi                   /* boot magic (Multiboot2) */
    mov %ebx, %esi                   /* boot information (PVH or Multiboot2) */

    /* Zero the three boot page tables. */
    mov $boot_pml4, %edx
    xor %eax, %eax
    mov $(3 * 4096 / 4), %ecx
    push %edi
    mov %edx, %edi
    rep stosl
    pop %edi

    /* PML4[0] and PML4[511] -> PDPT; PDPT[0] and PDPT[510] -> PD (first GiB, 2 MiB pages). */
    mov $boot_pdpt, %eax
    or $3, %eax
    mov %eax, boot_pml4
    mov %eax, boot_pml4 + 511 * 8
    mov $boot_pd, %eax
    or $3, %eax
    mov %eax, boot_pdpt
    mov %eax, boot_pdpt + 510 * 8
    mov $boot_pd, %edx
    mov $0x83, %eax                  /* present | writable | 2 MiB page */
    xor %ecx, %ecx
1:
    mov %eax, (%edx, %ecx, 8)
    add $0x200000, %eax
    inc %ecx
    cmp $512, %ecx
    jne 1b

    /* CR4.PAE; CR3; EFER.LME|NXE; CR0.PG|WP. */
"#,
        enter_long_mode!(),
        r#"

    lgdt boot_gdtr
    ljmp $0x08, $long_mode_entry

    .code64
long_mode_entry:
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    xor %eax, %eax
    mov %eax, %fs
    mov %eax, %gs

    /* Clear .bss (it holds the boot stack, so before using it). */
    mov %rdi, %r8
    movabs $__bss_start, %rdi
    movabs $__bss_end, %rcx
    sub %rdi, %rcx
    shr $3, %rcx
    xor %eax, %eax
    rep stosq
    mov %r8, %rdi

    movabs $BOOT_STACK_TOP, %rsp
    mov %edi, %edi                   /* zero-extend magic and info pointer */
    mov %esi, %esi
    xor %ebp, %ebp                   /* terminates frame-pointer backtraces */
    movabs $platform_start64, %rax
    call *%rax
2:
    hlt
    jmp 2b

    .section .boot.data, "a"
    .p2align 3
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff         /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff         /* 0x10: data */
boot_gdtr:
    .short boot_gdtr - boot_gdt - 1
    .long boot_gdt

    .section .boot.tables, "aw", @nobits
    .p2align 12
boot_pml4:
    .skip 4096
boot_pdpt:
    .skip 4096
boot_pd:
    .skip 4096
"#
    ),
    options(att_syntax)
);

global_asm!(
    r#"
    .section .bss.boot_stack, "aw", @nobits
    .p2align 12
    .global BOOT_STACK_BOTTOM
BOOT_STACK_BOTTOM:
    .skip 256 * 1024
    .global BOOT_STACK_TOP
BOOT_STACK_TOP:
"#,
    options(att_syntax)
);
