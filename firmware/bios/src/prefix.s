/* The BIOS platform's way in: a Linux bzImage setup part (boot protocol 2.07), entered
 * in real mode by QEMU's -kernel, GRUB's linux16 or SYSLINUX, which has enabled A20 and
 * loaded the protected-mode part at 1 MiB. The setup part reads the BIOS memory map
 * (INT 15h E820) while the BIOS is still at hand, and enters protected mode at 1 MiB;
 * there the core copies the configuration the builder appended past its .bss, clears
 * the .bss, maps the first 4 GiB, enables SSE and long mode, and calls rust_main with
 * the linear address of the setup part (where boot_info lies).
 *
 * Segment use in the setup part: linked at offset 0 of its own segment, whatever
 * segment the loader chose; CS is reloaded so offsets are the link addresses. */

    .section .setup, "ax"
    .code16
    .fill 0x1f1, 1, 0
hdr_setup_sects: .byte 0        /* 0x1f1: written by the builder */
    .word 0                     /* 0x1f2 root_flags */
hdr_syssize: .long 0            /* 0x1f4: written by the builder */
    .word 0                     /* 0x1f8 ram_size */
    .word 0xffff                /* 0x1fa vid_mode: normal */
    .word 0                     /* 0x1fc root_dev */
    .word 0xaa55                /* 0x1fe boot_flag */
    /* 0x200: the entry point, a short jump over the header */
    .byte 0xeb
    .byte setup_entry - 0x202
    .ascii "HdrS"               /* 0x202 */
    .word 0x0207                /* 0x206 version */
    .long 0                     /* 0x208 realmode_swtch */
    .word 0x1000                /* 0x20c start_sys_seg */
    .word 0                     /* 0x20e kernel_version */
    .byte 0                     /* 0x210 type_of_loader */
    .byte 0x81                  /* 0x211 loadflags: LOADED_HIGH, CAN_USE_HEAP */
    .word 0                     /* 0x212 setup_move_size */
    .long 0x100000              /* 0x214 code32_start */
    .long 0                     /* 0x218 ramdisk_image */
    .long 0                     /* 0x21c ramdisk_size */
    .long 0                     /* 0x220 bootsect_kludge */
    .word 0                     /* 0x224 heap_end_ptr */
    .byte 0, 0                  /* 0x226 ext_loader_ver, ext_loader_type */
    .long 0                     /* 0x228 cmd_line_ptr */
    .long 0x7fffffff            /* 0x22c initrd_addr_max */
    .long 0                     /* 0x230 kernel_alignment */
    .byte 0                     /* 0x234 relocatable_kernel */
    .byte 0                     /* 0x235 min_alignment */
    .word 0                     /* 0x236 xloadflags */
    .long 0x7ff                 /* 0x238 cmdline_size */

setup_entry:
    cli
    cld
    /* CS = segment + 0x20 at offset 0: reload it as the segment itself. */
    movw %cs, %ax
    subw $0x20, %ax
    pushw %ax
    pushw $1f
    lretw
1:  movw %cs, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw $0xe000, %sp
    movzwl %ax, %eax
    shll $4, %eax
    movl %eax, setup_base
    /* A20: a Linux loader has enabled it, but a PXE or option ROM boot may not have;
     * the BIOS's own switch (INT 15h AX=2401h), then the fast gate. */
    movw $0x2401, %ax
    sti
    int $0x15
    cli
    inb $0x92, %al
    orb $2, %al
    andb $0xfe, %al
    outb %al, $0x92
    /* The memory map, up to E820_MAX entries of 24 bytes. */
    xorl %ebx, %ebx
    movw $e820_map, %di
2:  movl $0xe820, %eax
    movl $0x534d4150, %edx
    movl $24, %ecx
    movl $1, 20(%di)
    sti
    int $0x15
    cli
    jc 3f
    cmpl $0x534d4150, %eax
    jne 3f
    incw e820_count
    addw $24, %di
    cmpw $64, e820_count
    jae 3f
    testl %ebx, %ebx
    jnz 2b
3:  /* Protected mode, with the GDT at its linear address; the 16-bit descriptors the
     * real-mode thunk (rm_call) passes through are based at this setup part, and its
     * way back into real mode is this segment. */
    movl setup_base, %eax
    movw %ax, gdt + 0x22
    movw %ax, gdt + 0x2a
    shrl $16, %eax
    movb %al, gdt + 0x24
    movb %al, gdt + 0x2c
    movb %ah, gdt + 0x27
    movb %ah, gdt + 0x2f
    movw %cs, rm_entry + 2
    movl setup_base, %eax
    addl $gdt, %eax
    movl %eax, gdt_ptr + 2
    lgdtl gdt_ptr
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    movl setup_base, %esi
    ljmpl $0x18, $pm32_entry

    .balign 8
gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF    /* 0x08 64-bit code */
    .quad 0x00CF92000000FFFF    /* 0x10 flat data */
    .quad 0x00CF9A000000FFFF    /* 0x18 32-bit code */
    .quad 0x00009A000000FFFF    /* 0x20 16-bit code (base: this setup part) */
    .quad 0x000092000000FFFF    /* 0x28 16-bit data (base: this setup part) */
gdt_end:
gdt_ptr:
    .word gdt_end - gdt - 1
    .long 0

/* The real-mode half of rm_call: entered in 16-bit protected mode through selector
 * 0x20, it drops to real mode in this setup part's segment, loads the registers from
 * rm_regs, calls rm_target as an interrupt handler is called (flags pushed, interrupts
 * on), stores the registers and flags back, and returns to protected mode at rm_back32.
 * The stack is this part's own (below 0xE000), as while it ran at first. */
    .code16
rm_thunk16:
    movw $0x28, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    movl %cr0, %eax
    andl $0xfffffffe, %eax
    movl %eax, %cr0
    ljmpw *%cs:rm_entry
rm_real:
    movw %cs, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    /* All of ESP: real-mode code that addresses through it (PXE stacks do) must not
     * see the long-mode stack's upper half. */
    movl $0xe000, %esp
    lidtl rm_ivt
    pushw rm_ds
    pushw rm_es
    movl rm_eax, %eax
    movl rm_ebx, %ebx
    movl rm_ecx, %ecx
    movl rm_edx, %edx
    movl rm_esi, %esi
    movl rm_edi, %edi
    movl rm_ebp, %ebp
    popw %es
    popw %ds
    sti
    pushfw
    lcallw *%cs:rm_target
    cli
    movl %eax, %cs:rm_eax
    movl %ebx, %cs:rm_ebx
    movl %ecx, %cs:rm_ecx
    movl %edx, %cs:rm_edx
    movl %esi, %cs:rm_esi
    movl %edi, %cs:rm_edi
    movl %ebp, %cs:rm_ebp
    movw %ds, %cs:rm_ds
    movw %es, %cs:rm_es
    pushfl
    popl %eax
    movl %eax, %cs:rm_eflags
    /* The callee may have loaded a descriptor table of its own and left it (INT 15h
     * AH=87h loads the caller's, as the SAN disk handler's copies do): this one again. */
    lgdtl %cs:gdt_ptr
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl $0x18, $rm_back32

rm_ivt:
    .word 0x3ff
    .long 0
rm_entry:
    .word rm_real, 0            /* the segment: written at start-up */
    .balign 4
    .globl rm_target
rm_target: .word 0, 0           /* offset, segment */
    .globl rm_regs
rm_regs:
rm_eax: .long 0
rm_ebx: .long 0
rm_ecx: .long 0
rm_edx: .long 0
rm_esi: .long 0
rm_edi: .long 0
rm_ebp: .long 0
rm_ds:  .word 0
rm_es:  .word 0
rm_eflags: .long 0

/* The PXE API from long mode (undi.rs): rm_call calls this as it calls an interrupt
 * handler (flags pushed); it calls the !PXE entry point the PXE way, the parameter block
 * at ES:DI and the opcode in BX pushed, AX returned, and drops the flags on return. */
    .globl pxe_tramp
pxe_tramp:
    pushw %es
    pushw %di
    pushw %bx
    lcallw *%cs:pxe_entry
    addw $6, %sp
    /* A20 on again: some PXE stacks turn it off and leave it so (the fast gate). */
    pushw %ax
    inb $0x92, %al
    orb $2, %al
    andb $0xfe, %al
    outb %al, $0x92
    popw %ax
    lretw $2
    .balign 4
    .globl pxe_entry
pxe_entry: .word 0, 0
/* Parameter blocks and the frame being sent: the PXE API takes them in base memory. */
    .balign 16
    .globl pxe_low
pxe_low: .fill 2048, 1, 0

    /* What the core reads (boot.rs BootInfo): the setup part's linear address, the
     * number of E820 entries, the PXE API's !PXE structure as a far pointer (offset,
     * segment; written by pxeboot.s when it loaded this firmware, else 0), and the
     * entries. */
    .balign 8
    .globl boot_info
boot_info:
setup_base: .long 0
e820_count: .word 0
    .word 0
    .globl boot_info_pxe
boot_info_pxe: .long 0
e820_map: .fill 64 * 24, 1, 0
    /* The setup part ends on a sector boundary (setup_sects counts sectors), after the
     * resident SAN disk handler (san16.s): link.ld puts .setup.san, then .setup.end. */
    .section .setup.end, "ax"
    .balign 512, 0
    .globl setup_end
setup_end:

/* From 32-bit protected mode (paging off) into long mode at `target`, with this
 * firmware's page tables: CR4 with PAE, OSFXSR and OSXMMEXCPT (SSE for the AES and SHA
 * code), CR3, EFER.LME, then CR0 with paging, protection and MP, not EM; the 64-bit code
 * segment. The way in at start-up and the way back from every real-mode call (a BIOS may
 * have changed any of these meanwhile). */
    .macro long_mode target
    movl %cr4, %eax
    orl $0x620, %eax
    movl %eax, %cr4
    movl $pml4, %eax
    movl %eax, %cr3
    movl $0xc0000080, %ecx
    rdmsr
    orl $0x100, %eax
    wrmsr
    movl %cr0, %eax
    andl $0xfffffffb, %eax
    orl $0x80000003, %eax
    movl %eax, %cr0
    ljmp $0x08, $\target
    .endm

    .section .text32, "ax"
    .code32
    .globl pm32_entry
pm32_entry:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    movl %esi, %ebp
    /* The configuration appended at image_end ("BOOTSIGN", then its body length at +12)
     * goes to bss_end before .bss is cleared: copied backwards, since bss_end is after
     * image_end and the two may overlap. */
    movl $0, config_len
    movl $image_end, %esi
    cmpl $0x544f4f42, (%esi)
    jne 1f
    cmpl $0x4e474953, 4(%esi)
    jne 1f
    movl 12(%esi), %ecx
    addl $20, %ecx
    movl %ecx, config_len
    movl $bss_end, %edi
    movl %edi, config_addr
    leal -1(%esi,%ecx), %esi
    leal -1(%edi,%ecx), %edi
    std
    rep movsb
    cld
1:  movl $bss_start, %edi
    movl $bss_end, %ecx
    subl %edi, %ecx
    xorl %eax, %eax
    rep stosb
    /* PML4[0] -> PDPT; PDPT[0..4] -> four PDs of 2 MiB pages: the first 4 GiB. */
    movl $pdpt, %eax
    orl $3, %eax
    movl %eax, pml4
    xorl %ecx, %ecx
2:  movl %ecx, %eax
    shll $12, %eax
    addl $pd, %eax
    orl $3, %eax
    movl %eax, pdpt(,%ecx,8)
    incl %ecx
    cmpl $4, %ecx
    jb 2b
    xorl %ecx, %ecx
3:  movl %ecx, %eax
    shll $21, %eax
    orl $0x83, %eax
    movl %eax, pd(,%ecx,8)
    incl %ecx
    cmpl $2048, %ecx
    jb 3b
    long_mode lm64

    .code64
lm64:
    movq $stack_top, %rsp
    fninit
    movl %ebp, %edi
    call rust_main
4:  hlt
    jmp 4b

/* rm_call (thunk.rs): from long mode into real mode and back, for a BIOS service or the
 * PXE API. Callee-saved registers and the flags are kept; interrupts are on only while
 * in real mode. The way down: a 32-bit compatibility segment, paging off (which leaves
 * long mode), the 16-bit segment based at the setup part, real mode (rm_thunk16). Back:
 * protected mode at rm_back32, CR3, CR4 and EFER as this firmware set them (a BIOS may
 * have changed them), paging on (long mode again), the 64-bit segment. */
    .section .text.rm_call, "ax"
    .code64
    .globl rm_call
rm_call:
    pushq %rbx
    pushq %rbp
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    pushfq
    cli
    movq %rsp, rm_saved_rsp(%rip)
    sidt rm_saved_idt(%rip)
    pushq $0x18
    movl $rm_compat, %eax
    pushq %rax
    lretq
    .code32
rm_compat:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl %cr0, %eax
    andl $0x7fffffff, %eax
    movl %eax, %cr0
    ljmp $0x20, $rm_thunk16
rm_back32:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    long_mode rm_back64
    .code64
rm_back64:
    movq rm_saved_rsp(%rip), %rsp
    lidt rm_saved_idt(%rip)
    popfq
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbp
    popq %rbx
    ret

    .section .bss.rm_call, "aw", @nobits
    .balign 8
rm_saved_rsp: .skip 8
rm_saved_idt: .skip 16

    .section .data.config, "aw"
    .balign 4
    .globl config_addr
config_addr: .long 0
    .globl config_len
config_len: .long 0

    .section .bss.paging, "aw", @nobits
    .balign 4096
pml4: .skip 4096
pdpt: .skip 4096
    .globl pd
pd:   .skip 4 * 4096
    .balign 16
    .skip 256 * 1024
    .globl stack_top
stack_top:

/* Exceptions (traps.rs installs the IDT): each vector's stub pushes a zero where the
 * processor pushes no error code, then the vector, and the common path calls
 * rust_exception(vector, error code, RIP, CR2), which reports and stops. */
    .section .text.traps, "ax"
    .code64
    .macro exception_stub n
exception_\n:
    .if (\n == 8) || (\n == 10) || (\n == 11) || (\n == 12) || (\n == 13) || (\n == 14) || (\n == 17) || (\n == 21) || (\n == 29) || (\n == 30)
    .else
    pushq $0
    .endif
    pushq $\n
    jmp exception_common
    .endm
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    exception_stub \n
    .endr
exception_common:
    movq (%rsp), %rdi
    movq 8(%rsp), %rsi
    movq 16(%rsp), %rdx
    movq %cr2, %rcx
    andq $-16, %rsp
    call rust_exception
1:  cli
    hlt
    jmp 1b

    .section .rodata.traps, "a"
    .balign 8
    .globl exception_stubs
exception_stubs:
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .quad exception_\n
    .endr
