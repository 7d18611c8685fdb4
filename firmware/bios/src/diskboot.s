/*
 * The loader that boots the BIOS firmware from a disk or a CD: the El Torito
 * no-emulation boot image of the hybrid ISO (the BIOS loads all 2,048 bytes at 0x7C00)
 * and, in its first 440 bytes, the MBR boot code of the USB image and of the ISO written
 * to a stick (the BIOS loads those 512 bytes; the loader reads the rest of itself). It
 * then reads the .lkrn (a bzImage) through INT 13h extended reads, the setup part to
 * 0x10000 and the rest to 1 MiB through INT 15h AH=87h, and starts it as a Linux boot
 * loader does: segment registers at 0x1000, the stack at 0xE000, a jump to 0x1020:0.
 *
 * The image builder writes the parameters at 0x40 (the El Torito boot-info table at 8
 * is left free): where the .lkrn lies and how long it is, and where this loader lies, in
 * 512-byte units. The sector size comes from INT 13h AH=48h: 2,048 on a CD, else 512.
 */
    .section .diskboot, "ax"
    .code16
diskboot:
    jmp db_start
    .org diskboot + 0x40
db_lkrn_lba:    .long 0         /* 0x40 */
db_lkrn_len:    .long 0         /* 0x44 */
db_self_lba:    .long 0         /* 0x48 */
db_drive:       .byte 0
db_shift:       .byte 9         /* log2 of the sector size */

db_start:
    cli
    xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw $0x7c00, %sp
    ljmp $0, $db_norm
db_norm:
    sti
    cld
    movb %dl, db_drive
    /* The sector size: INT 13h AH=48h into a 0x1E-byte buffer. */
    movw $0x1e, db_edd
    movw $db_edd, %si
    movb $0x48, %ah
    int $0x13
    jc 1f
    cmpw $2048, db_edd + 0x18
    jne 1f
    movb $11, db_shift
    /* A CD: the BIOS loaded all four sectors. */
    jmp db_main
1:  /* A disk: this sector is the MBR; read the loader's other three sectors. */
    movl db_self_lba, %eax
    incl %eax
    movl %eax, db_dap + 8
    movw $3, db_dap + 2
    movw $0x7e00, db_dap + 4
    movw $0, db_dap + 6
    call db_read
    jnc db_main
    movw $db_msg_self, %si
    jmp db_fail

/* INT 13h AH=42h with db_dap; CF set on failure. */
db_read:
    movw $db_dap, %si
    movb db_drive, %dl
    movb $0x42, %ah
    int $0x13
    ret

/* Says what failed (the message at SI) and stops. */
db_fail:
    lodsb
    testb %al, %al
    jz 2f
    movb $0x0e, %ah
    movw $7, %bx
    int $0x10
    jmp db_fail
2:  hlt
    jmp 2b

db_msg_self: .asciz "bootsign: cannot read its loader from this disk\r\n"

    .balign 4
db_dap:
    .byte 0x10, 0
    .word 0             /* sectors */
    .word 0, 0          /* offset, segment */
    .quad 0             /* LBA */

    .org diskboot + 440, 0x90
    /* 440..511: the disk signature and partition table the image builder writes. */
    .org diskboot + 512, 0

db_main:
    /* The .lkrn's first sector on this device. */
    movl db_lkrn_lba, %eax
    movb db_shift, %cl
    subb $9, %cl
    shrl %cl, %eax
    movl %eax, db_dap + 8
    movl $0, db_done
1:  /* The next chunk of 32 KiB into the bounce buffer at 0x20000: fewer sectors at
     * the end, where reading on would run past the end of a CD. */
    movb db_shift, %cl
    movl db_lkrn_len, %eax
    subl db_done, %eax
    movl $1, %edx
    shll %cl, %edx
    decl %edx
    addl %edx, %eax
    shrl %cl, %eax
    movl $0x8000, %edx
    shrl %cl, %edx
    cmpl %edx, %eax
    jbe 7f
    movl %edx, %eax
7:  movw %ax, db_dap + 2
    movw $0, db_dap + 4
    movw $0x2000, db_dap + 6
    call db_read
    jnc 6f
    movw $db_msg_read, %si
    jmp db_fail
6:
    /* In this chunk: where the protected-mode part starts, and its destination. */
    xorl %esi, %esi
    movl db_done, %edi
    cmpl $0, %edi
    jne 2f
    /* The first chunk: the setup part (setup_sects + 1 sectors; 0 means 4) to 0x10000. */
    pushw %ds
    pushw %es
    movw $0x2000, %ax
    movw %ax, %ds
    movzbw 0x1f1, %cx
    testw %cx, %cx
    jnz 3f
    movw $4, %cx
3:  incw %cx
    shlw $9, %cx
    movw $0x1000, %ax
    movw %ax, %es
    xorw %si, %si
    xorw %di, %di
    pushw %cx
    rep movsb
    popw %cx
    popw %es
    popw %ds
    movzwl %cx, %esi
    movl %esi, db_setup_len
    xorl %edi, %edi
    jmp 4f
2:  subl db_setup_len, %edi
4:  /* Move 32 KiB - ESI bytes from 0x20000 + ESI to 1 MiB + EDI (INT 15h AH=87h). */
    movl $0x20000, %eax
    addl %esi, %eax
    movw %ax, db_gdt + 0x12
    shrl $16, %eax
    movb %al, db_gdt + 0x14
    movb %ah, db_gdt + 0x17
    movl $0x100000, %eax
    addl %edi, %eax
    movw %ax, db_gdt + 0x1a
    shrl $16, %eax
    movb %al, db_gdt + 0x1c
    movb %ah, db_gdt + 0x1f
    movl $0x8000, %ecx
    subl %esi, %ecx
    shrl $1, %ecx
    movw $db_gdt, %si
    movb $0x87, %ah
    int $0x15
    jc 5f
    /* Next chunk, until the whole .lkrn is read. */
    movw db_dap + 2, %ax
    movzwl %ax, %eax
    addl %eax, db_dap + 8
    addl $0x8000, db_done
    movl db_done, %eax
    cmpl db_lkrn_len, %eax
    jb 1b
    /* Start it as a Linux loader starts a bzImage. */
    start_bzimage
5:  movw $db_msg_move, %si
    jmp db_fail

db_msg_move: .asciz "bootsign: cannot copy the firmware above 1 MiB\r\n"
db_msg_read: .asciz "bootsign: cannot read the firmware from this disk\r\n"

    move_gdt db_gdt
db_done:        .long 0
db_setup_len:   .long 0
db_edd:         .fill 0x1e, 1, 0
    .org diskboot + 2048 - 4, 0
    .ascii "BSDB"
    .purgem start_bzimage
    .purgem move_gdt
    .code64
    .text
