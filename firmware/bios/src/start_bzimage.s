/* What the BIOS loaders (diskboot.s, pxeboot.s, romboot.s) end with: the firmware's
 * bzImage, its setup part at 0x10000 and the rest at 1 MiB, started as a Linux boot
 * loader starts one (boot.rst): interrupts off, every segment register at the setup
 * part's segment, the stack at 0xE000, a jump to the setup code at 0x1020:0. Each loader
 * is a program of its own (extracted on its own), so each carries this; the macro is
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
