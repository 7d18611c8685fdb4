/*
 * The legacy BIOS image of the PCI option ROM (`bootsign build --rom`): the first image
 * of the ROM, code type 0, which the BIOS copies into the option ROM area (C0000-EFFFF,
 * where room is scarce, so it is small) and initialises. Its PnP boot entry (BEV) is
 * offered as a boot device. The firmware itself, too large for that area, is the next
 * image (code type 0xFF, which BIOSes pass over): at boot this program enables the ROM
 * BAR at the address the BIOS gave it, copies the .lkrn from there, the setup part to
 * 0x10000 and the rest to 1 MiB (INT 15h AH=87h), restores the BAR and starts the
 * firmware as diskboot.s does; the firmware then drives the NIC with its own driver.
 * The EFI driver image comes last, for UEFI.
 *
 * Linked at 0: the BIOS runs it at offset 0 of whatever segment it chose, read-only
 * after initialisation. The builder (src/image/rom.rs) writes the IDs, lengths and
 * checksums; the byte at 6 makes the image's sum zero.
 */
    .section .romboot, "ax"
    .code16
romboot:
    .byte 0x55, 0xaa
rb_units:   .byte 0             /* 2: this image's length in 512-byte units */
    .byte 0xe9                  /* 3: the initialisation entry, a near jump */
    .word rb_init - (romboot + 6)
rb_csum:    .byte 0             /* 6 */
    .org romboot + 0x18
    .word rb_pcir               /* 0x18 */
    .word rb_pnp                /* 0x1a */
    .org romboot + 0x20
rb_lkrn_at:  .long 0            /* 0x20: the .lkrn's offset from the ROM's start */
rb_lkrn_len: .long 0            /* 0x24: its length */
rb_bdf:      .word 0            /* 0x28: this function, recorded at initialisation */

    .balign 4
rb_pcir:
    .ascii "PCIR"
    .word 0                     /* vendor */
    .word 0                     /* device */
    .word 0                     /* device list, from here: the builder */
    .word 0x1c                  /* length */
    .byte 3                     /* PCI 3.0 */
    .byte 0x00, 0x00, 0x02      /* class: network, Ethernet */
    .word 0                     /* image length in 512-byte units */
    .word 1                     /* revision */
    .byte 0                     /* code type: x86 */
    .byte 0                     /* not the last image */
    .word 0                     /* maximum run-time length, in units */
    .word 0                     /* configuration utility */
    .word 0                     /* DMTF CLP entry */
rb_devlist:
    .fill 17, 2, 0              /* up to 16 device IDs and the 0 that ends them */

    .balign 16
rb_pnp:
    .ascii "$PnP"
    .byte 1                     /* revision */
    .byte 2                     /* length in 16-byte units */
    .word 0                     /* next header */
    .byte 0
    .byte 0                     /* checksum: the builder */
    .long 0                     /* device ID */
    .word rb_mfg
    .word rb_product
    .byte 0x02, 0x00, 0x00      /* network controller, Ethernet */
    .byte 0xf4                  /* IPL device, ROM cacheable, needed only to boot */
    .word 0                     /* BCV: not a disk */
    .word 0                     /* disconnect vector */
    .word rb_bev                /* the boot entry */
    .word 0
    .word 0

rb_mfg:     .asciz "bootsign"
rb_product: .asciz "bootsign network boot"

/* Initialisation (far call, AX = the PCI function): while the copy is still writable,
 * records the function, keeping the image's sum zero (the BIOS checks it again after
 * this returns); says it can boot (PnP). */
rb_init:
    movw %ax, %cs:rb_bdf
    subb %al, %cs:rb_csum
    subb %ah, %cs:rb_csum
    movw $0x20, %ax
    lretw

/* Scratch in conventional memory: INT 15h AH=87h's descriptor table and saved state. */
    .set RB_GDT, 0x600
    .set RB_CMD, 0x640
    .set RB_ROM, 0x644
    .set RB_SRC, 0x648
    .set RB_DST, 0x64c
    .set RB_LEFT, 0x650
    .set RB_SETUP, 0x654
    .set RB_BOUNCE_SEG, 0x2000

/* The boot entry (far call): loads and starts the firmware; on failure says why and
 * returns, and the BIOS tries its next boot device. */
rb_bev:
    pushal
    pushw %ds
    pushw %es
    cld
    xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %es
    cmpw $0, %cs:rb_bdf
    jne 1f
    movw $rb_msg_nobdf, %si
    jmp rb_fail_quiet
1:  /* Memory decoding on, the ROM BAR enabled at its address. */
    movb $0x04, %bl
    call rb_cfg_read
    movl %eax, RB_CMD
    orl $0x02, %eax
    movl %eax, %ecx
    movb $0x04, %bl
    call rb_cfg_write
    movb $0x30, %bl
    call rb_cfg_read
    movl %eax, RB_ROM
    andl $0xfffff800, %eax
    jnz 2f
    movw $rb_msg_nobar, %si
    jmp rb_fail
2:  movl %eax, %ecx
    orl $1, %ecx
    movb $0x30, %bl
    call rb_cfg_write
    addl %cs:rb_lkrn_at, %eax
    movl %eax, RB_SRC
    /* The first 32 KiB to the bounce buffer: the setup part's size is in its header. */
    movl $RB_BOUNCE_SEG << 4, RB_DST
    movw $0x4000, %cx
    call rb_move
    jc rb_fail
    pushw %ds
    movw $RB_BOUNCE_SEG, %ax
    movw %ax, %ds
    cmpl $0x53726448, 0x202
    popw %ds
    je 3f
    movw $rb_msg_notlkrn, %si
    jmp rb_fail
3:  pushw %ds
    movw $RB_BOUNCE_SEG, %ax
    movw %ax, %ds
    movzbl 0x1f1, %eax
    popw %ds
    testl %eax, %eax
    jnz 4f
    movl $4, %eax
4:  incl %eax
    shll $9, %eax
    cmpl $0x8000, %eax
    jbe 8f
    movw $rb_msg_notlkrn, %si
    jmp rb_fail
8:  movl %eax, RB_SETUP
    /* The setup part to 0x10000. */
    pushw %ds
    pushw %es
    movw %ax, %cx
    movw $RB_BOUNCE_SEG, %ax
    movw %ax, %ds
    movw $0x1000, %ax
    movw %ax, %es
    xorw %si, %si
    xorw %di, %di
    rep movsb
    popw %es
    popw %ds
    /* The rest, 32 KiB at a time, from the ROM to 1 MiB. */
    movl RB_ROM, %eax
    andl $0xfffff800, %eax
    addl %cs:rb_lkrn_at, %eax
    addl RB_SETUP, %eax
    movl %eax, RB_SRC
    movl $0x100000, RB_DST
    movl %cs:rb_lkrn_len, %eax
    subl RB_SETUP, %eax
    movl %eax, RB_LEFT
5:  movl RB_LEFT, %eax
    testl %eax, %eax
    jz 6f
    cmpl $0x8000, %eax
    jbe 7f
    movl $0x8000, %eax
7:  subl %eax, RB_LEFT
    incl %eax
    shrl $1, %eax
    movw %ax, %cx
    call rb_move
    jc rb_fail
    movl $0x8000, %eax
    addl %eax, RB_SRC
    addl %eax, RB_DST
    jmp 5b
6:  call rb_restore
    /* Start it as a Linux loader starts a bzImage. */
    start_bzimage

/* CX words from RB_SRC to RB_DST (INT 15h AH=87h); CF and SI at a message on failure. */
rb_move:
    pushw %cx
    movw $RB_GDT, %di
    movw $24, %cx
    xorl %eax, %eax
    rep stosw
    movl RB_SRC, %eax
    movw $0xffff, RB_GDT + 0x10
    movw %ax, RB_GDT + 0x12
    shrl $16, %eax
    movb %al, RB_GDT + 0x14
    movb $0x93, RB_GDT + 0x15
    movb %ah, RB_GDT + 0x17
    movl RB_DST, %eax
    movw $0xffff, RB_GDT + 0x18
    movw %ax, RB_GDT + 0x1a
    shrl $16, %eax
    movb %al, RB_GDT + 0x1c
    movb $0x93, RB_GDT + 0x1d
    movb %ah, RB_GDT + 0x1f
    popw %cx
    movw $RB_GDT, %si
    movb $0x87, %ah
    int $0x15
    jnc 1f
    movw $rb_msg_move, %si
    stc
1:  ret

/* PCI configuration register BL of this function: read to EAX, or ECX written. */
rb_cfg_addr:
    pushl %eax
    movzwl %cs:rb_bdf, %eax
    shll $8, %eax
    movb %bl, %al
    andb $0xfc, %al
    orl $0x80000000, %eax
    movw $0xcf8, %dx
    outl %eax, %dx
    movw $0xcfc, %dx
    popl %eax
    ret
rb_cfg_read:
    call rb_cfg_addr
    inl %dx, %eax
    ret
rb_cfg_write:
    pushl %eax
    call rb_cfg_addr
    movl %ecx, %eax
    outl %eax, %dx
    popl %eax
    ret

/* The ROM BAR and the command register as they were. */
rb_restore:
    movl RB_ROM, %ecx
    movb $0x30, %bl
    call rb_cfg_write
    movl RB_CMD, %ecx
    movb $0x04, %bl
    call rb_cfg_write
    ret

/* Says what failed (the message at SI, in this segment), restores the function and
 * returns to the BIOS. */
rb_fail:
    pushw %si
    call rb_restore
    popw %si
rb_fail_quiet:
    movw $7, %bx
1:  movb %cs:(%si), %al
    incw %si
    testb %al, %al
    jz 2f
    movb $0x0e, %ah
    int $0x10
    jmp 1b
2:  popw %es
    popw %ds
    popal
    lretw

rb_msg_nobdf:  .asciz "bootsign: the BIOS did not say which PCI function this ROM serves\r\n"
rb_msg_nobar:  .asciz "bootsign: the BIOS left the option ROM without an address\r\n"
rb_msg_notlkrn: .asciz "bootsign: this option ROM holds no bootsign firmware\r\n"
rb_msg_move:   .asciz "bootsign: cannot copy the firmware out of the option ROM\r\n"
    .balign 512, 0
rb_end:
    .purgem start_bzimage
    .purgem move_gdt
    .code64
    .text
