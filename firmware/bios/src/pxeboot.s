/*
 * The PXE network boot program (`bootsign build --kpxe`, like iPXE's undionly.kpxe it
 * keeps the PXE ROM's UNDI driver). The PXE ROM loads it at 0x7C00 and enters it in real
 * mode with ES:BX pointing at PXENV+ and a far pointer to !PXE at SS:SP+4. The firmware
 * is too large for base memory, where an NBP must fit, so this program is small and
 * fetches the firmware's .lkrn over TFTP through the PXE API (TFTP_OPEN and TFTP_READ,
 * as PXELINUX fetches ldlinux.c32): from the boot server, out of the directory its own
 * boot file came from. The setup part goes to 0x10000, the rest to 1 MiB (INT 15h
 * AH=87h). The length and CRC-32 must be those the builder wrote in: a .lkrn from
 * another build is refused. The firmware learns where the PXE API is from boot_info in
 * the setup part and drives the NIC through UNDI (undi.rs). On failure this program says
 * why and returns to the PXE ROM, which goes on to the next boot device.
 *
 * The builder (src/image/pxeboot.rs) writes the parameters at 0x40.
 */
    .section .pxeboot, "ax"
    .code16
pxeboot:
    jmp pb_start
    .org pxeboot + 0x40
pb_lkrn_len:    .long 0         /* 0x40: the .lkrn's length */
pb_lkrn_crc:    .long 0         /* 0x44: its CRC-32 (IEEE) */
pb_lkrn_name:   .fill 128, 1, 0 /* 0x48: its name, relative to the boot file's directory */

/* Where the TFTP packets land, below this program (the stack is under it). */
    .set PB_BUF, 0x1000
    .set PB_BUF_LEN, 0x2000

pb_start:
    ljmp $0, $pb_norm
pb_norm:
    /* The far pointer to !PXE on the ROM's stack; the ROM's registers and stack kept,
     * to return to it as it was on failure. */
    pushl %ebp
    movw %sp, %bp
    movl %ss:8(%bp), %ebp
    movl %ebp, %cs:pb_bangpxe
    popl %ebp
    pushfl
    pushal
    pushw %ds
    pushw %es
    pushw %fs
    pushw %gs
    movw %bx, %cs:pb_pxenv
    movw %es, %cs:pb_pxenv + 2
    movw %ss, %cs:pb_rom_ss
    movw %sp, %cs:pb_rom_sp
    cli
    xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw $0x7c00, %sp
    sti
    cld
    movw $pb_msg_hello, %si
    call pb_print

    /* The PXE API: !PXE from the stack, else through PXENV+ (version 2.1 and later). */
    lesw pb_bangpxe, %di
    cmpl $0x45585021, %es:(%di)
    je 2f
    lesw pb_pxenv, %di
    cmpl $0x4e455850, %es:(%di)
    jne 1f
    cmpw $0x2b56, %es:4(%di)
    jne 1f
    cmpw $0x0201, %es:6(%di)
    jb 1f
    lesw %es:0x28(%di), %di
    cmpl $0x45585021, %es:(%di)
    jne 1f
    movw %di, pb_bangpxe
    movw %es, pb_bangpxe + 2
2:  movl %es:0x10(%di), %eax
    movl %eax, pb_entry
    xorw %ax, %ax
    movw %ax, %es
    jmp pb_info
1:  xorw %ax, %ax
    movw %ax, %es
    movw $pb_msg_nopxe, %si
    jmp pb_fail

pb_info:
    /* The DHCP acknowledgement: this machine's address, netmask and router. */
    movw $2, %ax
    call pb_cached
    jc pb_fail
    movl %es:16(%si), %eax
    movl %eax, pb_myip
    movl %es:20(%si), %eax
    movl %eax, pb_server
    pushw %si
    pushw %cx
    call pb_copy_file
    popw %cx
    popw %si
    call pb_options
    /* The reply the boot file came from (a ProxyDHCP or boot server's, if any) names the
     * server and the file where it names them. */
    movw $3, %ax
    call pb_cached
    jc 3f
    movl %es:20(%si), %eax
    testl %eax, %eax
    jz 4f
    movl %eax, pb_server
4:  cmpb $0, %es:108(%si)
    je 3f
    call pb_copy_file
3:  xorw %ax, %ax
    movw %ax, %es
    /* Where the packets name none: the DHCP server (option 54), and the boot file
     * option (67), as DHCP servers configured with options 66 and 67 send them. */
    cmpl $0, pb_server
    jne 10f
    movl pb_dhcp_server, %eax
    movl %eax, pb_server
10: cmpb $0, pb_path
    jne 11f
    movw $pb_opt_file, %si
    movw $pb_path, %di
    movw $128, %cx
    rep movsb
11: cmpl $0, pb_server
    jne 5f
    movw $pb_msg_noserver, %si
    jmp pb_fail
5:  /* Through the router when the server is on another subnet (and both are known). */
    movl pb_server, %eax
    xorl pb_myip, %eax
    andl pb_mask, %eax
    jz 6f
    movl pb_router, %eax
    movl %eax, pb_gateway
6:  /* The path: the boot file's directory, then the .lkrn's name. */
    movw $pb_path, %si
    movw %si, %di
7:  lodsb
    testb %al, %al
    jz 8f
    cmpb $0x2f, %al
    je 12f
    cmpb $0x5c, %al
    jne 7b
12: movw %si, %di
    jmp 7b
8:  movw $pb_lkrn_name, %si
9:  cmpw $pb_path + 127, %di
    jae pb_toolong
    lodsb
    stosb
    testb %al, %al
    jnz 9b
    movw $pb_msg_loading, %si
    call pb_print
    movw $pb_path, %si
    call pb_print
    movw $pb_msg_dots, %si
    call pb_print

    /* TFTP_OPEN, asking for 1,432-byte packets, else 512. */
    movw $1432, pb_pktsize
13: call pb_clear
    movl pb_server, %eax
    movl %eax, pb_block + 2
    movl pb_gateway, %eax
    movl %eax, pb_block + 6
    movw $pb_path, %si
    movw $pb_block + 10, %di
    movw $128, %cx
    rep movsb
    movw $0x4500, pb_block + 138
    movw pb_pktsize, %ax
    movw %ax, pb_block + 140
    movw $0x20, %bx
    call pb_call
    jz 14f
    cmpw $512, pb_pktsize
    movw $512, pb_pktsize
    jne 13b
    movw $pb_msg_open, %si
    jmp pb_fail_status
14: movw pb_block + 140, %ax
    cmpw $512, %ax
    jb pb_badsize
    cmpw $PB_BUF_LEN, %ax
    ja pb_badsize
    movw %ax, pb_pktsize
    movb $1, pb_open
    movl $0xffffffff, pb_crc

    /* TFTP_READ until the whole .lkrn is here (not until a short packet: some ROMs
     * report a packet size other than the one they use); a packet seen before (the
     * same number) is skipped. */
15: call pb_clear
    movw $PB_BUF_LEN, pb_block + 4
    movw $PB_BUF, pb_block + 6
    movw $0x22, %bx
    call pb_call
    jz 16f
    movw $pb_msg_read, %si
    jmp pb_fail_status
16: movw pb_block + 4, %cx
    cmpw $PB_BUF_LEN, %cx
    ja pb_badsize
    movw pb_block + 2, %ax
    cmpw pb_lastpkt, %ax
    je 15b
    movw %ax, pb_lastpkt
    testw %cx, %cx
    jz pb_mismatch
    call pb_place
    movl pb_done, %eax
    cmpl pb_lkrn_len, %eax
    jb 15b
    call pb_close

    /* Exactly the .lkrn this program was built with. */
    movl pb_done, %eax
    cmpl pb_lkrn_len, %eax
    jne pb_mismatch
    movl pb_crc, %eax
    notl %eax
    cmpl pb_lkrn_crc, %eax
    jne pb_mismatch

    /* The firmware is told where the PXE API is, and started as a Linux loader starts a
     * bzImage (as diskboot.s does). */
    movw $0x1000, %ax
    movw %ax, %es
    movl pb_bangpxe, %eax
    movl %eax, %es:boot_info_pxe
    start_bzimage

/* Places the CX bytes at PB_BUF, the next of the .lkrn: the setup part to 0x1000:0, the
 * rest from 1 MiB; adds them to the CRC. Until its header has come (0x206 bytes) the
 * setup part is taken to be its least, 1,024 bytes; then its header gives its size. */
pb_place:
    movw $PB_BUF, %si
    pushw %cx
    call pb_crc_update
    popw %cx
    movl pb_done, %eax
    movzwl %cx, %edx
    addl %edx, %eax
    cmpl pb_lkrn_len, %eax
    ja pb_mismatch
    movw $PB_BUF, %si
1:  movl pb_done, %eax
    cmpl pb_setup_len, %eax
    jae 3f
    /* Setup bytes: min(CX, what is left of the setup part). */
    movl pb_setup_len, %edx
    subl %eax, %edx
    movzwl %cx, %ebx
    cmpl %ebx, %edx
    jbe 4f
    movl %ebx, %edx
4:  pushw %es
    pushw %cx
    movw $0x1000, %ax
    movw %ax, %es
    movw pb_done, %di
    movw %dx, %cx
    rep movsb
    popw %cx
    popw %es
    subw %dx, %cx
    addl %edx, pb_done
3:  /* The header, once here: the setup part's size. */
    cmpb $0, pb_have_header
    jne 2f
    cmpl $0x206, pb_done
    jb 2f
    pushw %ds
    movw $0x1000, %ax
    movw %ax, %ds
    cmpl $0x53726448, 0x202
    movzbl 0x1f1, %eax
    popw %ds
    jne pb_notlkrn
    testl %eax, %eax
    jnz 5f
    movl $4, %eax
5:  incl %eax
    shll $9, %eax
    cmpl $0xd000, %eax
    ja pb_notlkrn
    movl %eax, pb_setup_len
    movb $1, pb_have_header
    jmp 1b
2:  testw %cx, %cx
    jz 6f
    /* The rest: CX bytes from DS:SI to 1 MiB + (done - setup length), in words. */
    movzwl %si, %eax
    movw %ax, pb_gdt + 0x12
    shrl $16, %eax
    movb %al, pb_gdt + 0x14
    movb %ah, pb_gdt + 0x17
    movl pb_done, %eax
    subl pb_setup_len, %eax
    addl $0x100000, %eax
    movw %ax, pb_gdt + 0x1a
    shrl $16, %eax
    movb %al, pb_gdt + 0x1c
    movb %ah, pb_gdt + 0x1f
    movzwl %cx, %eax
    addl %eax, pb_done
    incw %cx
    shrw $1, %cx
    movw $pb_gdt, %si
    movb $0x87, %ah
    int $0x15
    jc 7f
6:  ret
7:  movw $pb_msg_move, %si
    jmp pb_fail

/* The CRC-32 of CX bytes at DS:SI, carried on in pb_crc. */
pb_crc_update:
    movl pb_crc, %edx
    jcxz 3f
1:  lodsb
    xorb %al, %dl
    movb $8, %ah
2:  shrl $1, %edx
    jnc 4f
    xorl $0xedb88320, %edx
4:  decb %ah
    jnz 2b
    loop 1b
3:  movl %edx, pb_crc
    ret

/* The cached packet of type AX (GET_CACHED_INFO): ES:SI at it, CX its length; CF and SI
 * at a message when there is none. */
pb_cached:
    call pb_clear
    movw %ax, pb_block + 2
    movw $0x71, %bx
    call pb_call
    jnz 1f
    movw pb_block + 4, %cx
    cmpw $240, %cx
    jb 1f
    lesw pb_block + 6, %si
    clc
    ret
1:  movw $pb_msg_cached, %si
    stc
    ret

/* The boot file's name (offset 108 of the packet at ES:SI) to pb_path. */
pb_copy_file:
    pushw %ds
    pushw %es
    popw %ds
    addw $108, %si
    movw $pb_path, %di
    pushw %es
    xorw %ax, %ax
    movw %ax, %es
    movw $127, %cx
1:  lodsb
    stosb
    testb %al, %al
    loopnz 1b
    movb $0, %es:(%di)
    popw %es
    popw %ds
    ret

/* The netmask (option 1) and router (option 3) from the DHCP packet at ES:SI, CX long. */
pb_options:
    movw $240, %bx
1:  movw %bx, %ax
    addw $2, %ax
    cmpw %cx, %ax
    ja 5f
    movb %es:(%bx,%si), %al
    cmpb $255, %al
    je 5f
    cmpb $0, %al
    jne 2f
    incw %bx
    jmp 1b
2:  movzbw %es:1(%bx,%si), %dx
    movw %bx, %di
    addw %dx, %di
    addw $2, %di
    cmpw %cx, %di
    ja 5f
    cmpb $4, %dl
    jb 4f
    cmpb $1, %al
    jne 3f
    movl %es:2(%bx,%si), %eax
    movl %eax, pb_mask
    jmp 4f
3:  cmpb $3, %al
    jne 8f
    movl %es:2(%bx,%si), %eax
    movl %eax, pb_router
    jmp 4f
8:  cmpb $54, %al
    jne 4f
    movl %es:2(%bx,%si), %eax
    movl %eax, pb_dhcp_server
4:  cmpb $67, %es:(%bx,%si)
    jne 9f
    /* The boot file option: up to 127 bytes of it, kept with a NUL after. */
    pushw %si
    pushw %di
    pushw %cx
    pushw %ds
    movw %dx, %cx
    cmpw $127, %cx
    jbe 6f
    movw $127, %cx
6:  leaw 2(%bx,%si), %si
    movw $pb_opt_file, %di
    pushw %es
    popw %ds
    pushw %es
    xorw %ax, %ax
    movw %ax, %es
    rep movsb
    movb $0, %es:(%di)
    popw %es
    popw %ds
    popw %cx
    popw %di
    popw %si
9:  movw %di, %bx
    jmp 1b
5:  ret

/* The PXE API (the !PXE convention): opcode BX, parameter block pb_block; ZF set when
 * it succeeded. */
pb_call:
    pushal
    pushw %ds
    pushw %es
    pushw %ds
    pushw $pb_block
    pushw %bx
    lcallw *pb_entry
    addw $6, %sp
    popw %es
    popw %ds
    movw %ax, pb_ret
    popal
    movw pb_ret, %ax
    cld
    testw %ax, %ax
    ret

/* Zeroes the parameter block; keeps the registers. */
pb_clear:
    pushw %ax
    pushw %cx
    pushw %di
    pushw %es
    xorw %ax, %ax
    movw %ax, %es
    movw $pb_block, %di
    movw $pb_block_end - pb_block, %cx
    xorb %al, %al
    rep stosb
    popw %es
    popw %di
    popw %cx
    popw %ax
    ret

pb_close:
    cmpb $0, pb_open
    je 1f
    call pb_clear
    movw $0x21, %bx
    call pb_call
    movb $0, pb_open
1:  ret

pb_toolong:
    movw $pb_msg_toolong, %si
    jmp pb_fail
pb_badsize:
    movw $pb_msg_badsize, %si
    jmp pb_fail
pb_notlkrn:
    movw $pb_msg_notlkrn, %si
    jmp pb_fail_path
pb_mismatch:
    movw $pb_msg_mismatch, %si
    jmp pb_fail_path

/* A failure with the PXE status code (the block's first word) after the message. */
pb_fail_status:
    call pb_print
    movw $pb_msg_status, %si
    call pb_print
    movw pb_block, %ax
    call pb_hex
    movw $pb_msg_end, %si
    jmp pb_fail
/* A failure naming the .lkrn: "bootsign: ", the path, then the message at SI. */
pb_fail_path:
    pushw %si
    movw $pb_msg_prefix, %si
    call pb_print
    movw $pb_path, %si
    call pb_print
    popw %si
/* Says what failed (the message at SI), closes TFTP and returns to the PXE ROM, which
 * tries the next boot device. */
pb_fail:
    call pb_print
    call pb_close
    cli
    movw pb_rom_ss, %ss
    movw pb_rom_sp, %sp
    popw %gs
    popw %fs
    popw %es
    popw %ds
    popal
    popfl
    movw $1, %ax
    lretw

pb_print:
    pushw %bx
1:  lodsb
    testb %al, %al
    jz 2f
    movb $0x0e, %ah
    movw $7, %bx
    int $0x10
    jmp 1b
2:  popw %bx
    ret

/* AX in hex, four digits. */
pb_hex:
    movw $4, %cx
1:  rolw $4, %ax
    pushw %ax
    andb $0x0f, %al
    addb $0x30, %al
    cmpb $0x39, %al
    jbe 2f
    addb $7, %al
2:  pushw %bx
    movb $0x0e, %ah
    movw $7, %bx
    int $0x10
    popw %bx
    popw %ax
    loop 1b
    ret

pb_msg_hello:    .asciz "bootsign PXE loader\r\n"
pb_msg_nopxe:    .asciz "bootsign: the PXE ROM offers no PXE 2.1 API (!PXE)\r\n"
pb_msg_cached:   .asciz "bootsign: the PXE ROM has no DHCP reply cached\r\n"
pb_msg_noserver: .asciz "bootsign: the DHCP reply names no boot server (next-server)\r\n"
pb_msg_toolong:  .asciz "bootsign: the boot file's path is too long for TFTP\r\n"
pb_msg_loading:  .asciz "bootsign: loading "
pb_msg_dots:     .asciz " over TFTP\r\n"
pb_msg_open:     .asciz "bootsign: TFTP did not deliver the firmware"
pb_msg_read:     .asciz "bootsign: the TFTP transfer of the firmware failed"
pb_msg_status:   .asciz " (PXE status 0x"
pb_msg_end:      .asciz ")\r\n"
pb_msg_badsize:  .asciz "bootsign: the PXE ROM uses TFTP packets of an unusable size\r\n"
pb_msg_prefix:   .asciz "bootsign: "
pb_msg_notlkrn:  .asciz " is not a bootsign firmware\r\n"
pb_msg_mismatch: .asciz " is from another build than this loader\r\nbootsign: put the .lkrn written with this .kpxe beside it\r\n"
pb_msg_move:     .asciz "bootsign: cannot copy the firmware above 1 MiB\r\n"

    move_gdt pb_gdt
pb_bangpxe:     .long 0
pb_pxenv:       .long 0
pb_entry:       .long 0
pb_rom_ss:      .word 0
pb_rom_sp:      .word 0
pb_myip:        .long 0
pb_server:      .long 0
pb_mask:        .long 0
pb_router:      .long 0
pb_gateway:     .long 0
pb_dhcp_server: .long 0
pb_done:        .long 0
pb_setup_len:   .long 0x400
pb_have_header: .byte 0
pb_lastpkt:     .word 0
pb_ret:         .word 0
pb_crc:         .long 0
pb_pktsize:     .word 0
pb_open:        .byte 0
    .balign 4
pb_block:       .fill 144, 1, 0
pb_block_end:
pb_path:        .fill 128, 1, 0
pb_opt_file:    .fill 128, 1, 0
    .ascii "BSPX"
    .purgem start_bzimage
    .purgem move_gdt
    .code64
    .text
