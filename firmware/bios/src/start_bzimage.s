/* What the BIOS loaders (diskboot.s, pxeboot.s, romboot.s) share. start_bzimage is what
 * they end with: the firmware's
 * bzImage, its setup part at 0x10000 and the rest at 1 MiB, started as a Linux boot
 * loader starts one (boot.rst): interrupts off, every segment register at the setup
 * part's segment, the stack at 0xE000, a jump to the setup code at 0x1020:0. Each loader
 * is a program of its own (extracted on its own), so each carries these; the macros are
 * purged at the end of each. */
    .macro start_bzimage
    cli
    movw $0x1000, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %fs
    movw %ax, %gs
    movw %ax, %ss
    movw $0xe000, %sp
    ljmp $0x1020, $0
    .endm

/* INT 15h AH=87h's descriptor table, named `name`: two null entries, the source and the
 * destination (64 KiB limit, data; the bases filled in before each move), two for the
 * BIOS. */
    .macro move_gdt name
    .balign 8
\name:
    .quad 0, 0
    .word 0xffff, 0
    .byte 0, 0x93, 0, 0
    .word 0xffff, 0
    .byte 0, 0x93, 0, 0
    .quad 0, 0
    .endm
