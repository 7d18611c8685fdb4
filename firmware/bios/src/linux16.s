/*
 * The way out to Linux's 16-bit boot protocol: a stub copied to LINUX16_AT in low
 * memory (it must run below 64 KiB for its real-mode part, and must not be overwritten
 * by what it copies), entered from long mode and never returning. It loads its own GDT
 * (the prefix's lies in memory the kernel's setup code is copied over), leaves long mode
 * through a 32-bit compatibility segment, turns paging off, copies the kernel's parts to
 * where the boot protocol wants them (the protected-mode part over this firmware at
 * 1 MiB, the real-mode part and command line to 0x10000), drops to real mode with the
 * BIOS's interrupt table and jumps to the setup code with its segment in every segment
 * register and the stack at 0xE000, as boot.rst says.
 *
 * linux16_params: three copies (u32 source, u32 destination, u32 length), then the
 * setup code's segment (u16).
 */
    .set LINUX16_AT, 0x5000

    .section .text.linux16, "ax"
    .globl linux16_start
    .globl linux16_params
    .globl linux16_end
    .code64
linux16_start:
    cli
    /* NMI off (CMOS index port bit 7), as Linux's own setup code does before its mode
     * switch: the 64-bit IDT is about to be overwritten. Linux turns it back on. */
    movb $0x80, %al
    outb %al, $0x70
    lgdt (LINUX16_AT + (linux16_gdtr - linux16_start))
    pushq $0x08
    pushq $(LINUX16_AT + (linux16_pm32 - linux16_start))
    lretq

    .code32
linux16_pm32:
    movl $0x10, %eax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    /* Paging off leaves long mode (EFER.LMA clears); then EFER.LME off. */
    movl %cr0, %eax
    andl $0x7fffffff, %eax
    movl %eax, %cr0
    movl $0xc0000080, %ecx
    rdmsr
    andl $0xfffffeff, %eax
    wrmsr
    movl $(LINUX16_AT + (linux16_params - linux16_start)), %ebx
    movl $3, %edx
1:  movl 0(%ebx), %esi
    movl 4(%ebx), %edi
    movl 8(%ebx), %ecx
    cld
    rep movsb
    addl $12, %ebx
    decl %edx
    jnz 1b
    ljmp $0x18, $(LINUX16_AT + (linux16_pm16 - linux16_start))

    .code16
linux16_pm16:
    movw $0x20, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    movl %cr0, %eax
    andl $0xfffffffe, %eax
    movl %eax, %cr0
    ljmp $0, $(LINUX16_AT + (linux16_rm - linux16_start))
linux16_rm:
    xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %ss
    movw $(LINUX16_AT), %sp
    lidt (LINUX16_AT + (linux16_ivt - linux16_start))
    movw (LINUX16_AT + (linux16_params - linux16_start) + 36), %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    movw $0xe000, %sp
    addw $0x20, %ax
    pushw %ax
    pushw $0
    lretw

    .balign 8
linux16_gdt:
    .quad 0
    .quad 0x00cf9a000000ffff    /* 0x08: 32-bit code, flat */
    .quad 0x00cf92000000ffff    /* 0x10: data, flat */
    .quad 0x00009a000000ffff    /* 0x18: 16-bit code, base 0, 64 KiB */
    .quad 0x000092000000ffff    /* 0x20: 16-bit data, base 0, 64 KiB */
linux16_gdtr:
    .word 5 * 8 - 1
    .quad LINUX16_AT + (linux16_gdt - linux16_start)
linux16_ivt:
    .word 0x3ff
    .long 0
    .balign 4
linux16_params:
    .fill 40, 1, 0
linux16_end:
    .code64
    .text
