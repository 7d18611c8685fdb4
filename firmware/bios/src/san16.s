/*
 * The resident part of a BIOS `sanboot`: an INT 13h handler that serves a disk or CD
 * image held in high memory as a BIOS drive, and an INT 15h handler that hides that
 * memory from whatever boots (E820, E801, AH=88h), as memdisk and iPXE do. san.rs
 * copies int13_start..int13_end to the top of conventional memory (lowering the BIOS
 * data area's base-memory size), fills the parameters, appends the memory map it
 * computed (20-byte E820 entries) at int13_end, and points the two vectors here.
 *
 * It runs in real mode with CS such that these offsets (linked in the setup part)
 * address the copy: every access to its own data is CS-relative. Transfers go through
 * INT 15h AH=87h (the BIOS's copy to and from extended memory), 64 KiB at a time.
 * Calls for other drives go to the previous handler; the drive whose number this one
 * took (its "natural" number: the one after the disks the BIOS had) is the BIOS's old
 * drive of that number, as iPXE remaps it. start_bzimage.s comes before it (for move_gdt);
 * its macros are purged at the end. No braces in this file (global_asm! takes them as its
 * own).
 */
    .section .setup.san, "ax"
    .code16
    .balign 16
    .globl int13_start
int13_start:
    /* The parameters (san.rs Params, the same layout). */
    .globl int13_params
int13_params:
i13_orig13:  .long 0    /* 0: the previous INT 13h handler */
i13_orig15:  .long 0    /* 4: the previous INT 15h handler */
i13_base:    .long 0    /* 8: the image's linear address */
i13_sectors: .long 0    /* 12: its length in sectors */
i13_drive:   .byte 0    /* 16: this drive's number */
i13_natural: .byte 0    /* 17: the number the BIOS's drive of that number now has */
i13_shift:   .byte 0    /* 18: log2 of the sector size: 9, or 11 for a CD */
i13_heads:   .byte 0    /* 19: CHS geometry (a disk) */
i13_spt:     .byte 0    /* 20 */
i13_numhd:   .byte 0    /* 21: hard disks, this one counted (AH=08h says it) */
i13_cyls:    .word 0    /* 22 */
i13_e820n:   .word 0    /* 24: entries of the memory map at int13_end */
i13_e801lo:  .word 0    /* 26: KiB of RAM from 1 MiB to 16 MiB (E801h) */
i13_e801hi:  .word 0    /* 28: 64 KiB blocks of RAM from 16 MiB (E801h) */
i13_ext88:   .word 0    /* 30: KiB of RAM from 1 MiB (AH=88h) */
i13_status:  .byte 0    /* 32: the last call's status (AH=01h) */
i13_oldsizes: .byte 0   /* 33: bit 0, the BIOS answers E801h; bit 1, AH=88h */
    .globl int13_params_end
int13_params_end:

    /* The descriptor table INT 15h AH=87h takes (start_bzimage.s, as the loaders' copies
     * use it): the source at 0x10 and the destination at 0x18. */
    move_gdt i13_gdt
    .set i13_src, i13_gdt + 0x10
    .set i13_dst, i13_gdt + 0x18

/* ---- INT 13h ---- */
    .globl int13_entry
int13_entry:
    cmpb %cs:i13_drive, %dl
    je i13_ours
    cmpb $0x4b, %ah
    jne 1f
    /* CD-ROM status with no drive named (DL 7Fh or FFh): this CD answers. */
    cmpb $11, %cs:i13_shift
    jne 1f
    cmpb $0x7f, %dl
    je i13_ours
    cmpb $0xff, %dl
    je i13_ours
1:  cmpb %cs:i13_natural, %dl
    jne i13_chain
    /* The BIOS's drive that had this number, now at the natural one: called with its
     * old number, and the caller gets its own DL back (but the disk count for AH=08h,
     * and the sector count in DX for AH=15h). */
    pushw %bp
    movw %sp, %bp
    pushw %ax
    pushw %dx
    movb %cs:i13_drive, %dl
    pushfw
    lcallw *%cs:i13_orig13
    pushfw
    cmpb $0x08, -1(%bp)
    jne 2f
    movb %cs:i13_numhd, %dl
    jmp 3f
2:  cmpb $0x15, -1(%bp)
    je 3f
    movb -4(%bp), %dl
3:  popfw
    movw %bp, %sp
    popw %bp
    jmp i15_return
i13_chain:
    cmpb $0x08, %ah
    jne 2f
    testb $0x80, %dl
    jz 2f
    /* A hard disk's parameters: the count of disks in DL includes this one. */
    pushfw
    lcallw *%cs:i13_orig13
    jc i15_return
    movb %cs:i13_numhd, %dl
    clc
    jmp i15_return
2:  ljmpw *%cs:i13_orig13

/* This drive. The caller's registers, saved: the frame at BP (SS-relative). */
    .set F_ES, 0
    .set F_DS, 2
    .set F_EDI, 4
    .set F_ESI, 8
    .set F_EBX, 20
    .set F_EDX, 24
    .set F_ECX, 28
    .set F_EAX, 32
    .set F_FLAGS, 40
i13_ours:
    pushal
    pushw %ds
    pushw %es
    movw %sp, %bp
    cld
    cmpb $0x00, %ah
    je i13_ok
    cmpb $0x01, %ah
    je i13_last
    cmpb $0x02, %ah
    je i13_chs_read
    cmpb $0x03, %ah
    je i13_chs_write
    cmpb $0x04, %ah
    je i13_ok
    cmpb $0x08, %ah
    je i13_params_chs
    cmpb $0x0c, %ah
    je i13_ok
    cmpb $0x0d, %ah
    je i13_ok
    cmpb $0x10, %ah
    je i13_ok
    cmpb $0x11, %ah
    je i13_ok
    cmpb $0x15, %ah
    je i13_type
    cmpb $0x41, %ah
    je i13_ext_check
    cmpb $0x42, %ah
    je i13_ext_read
    cmpb $0x43, %ah
    je i13_ext_write
    cmpb $0x44, %ah
    je i13_ok
    cmpb $0x47, %ah
    je i13_ok
    cmpb $0x48, %ah
    je i13_ext_params
    cmpb $0x4b, %ah
    je i13_cd_status
i13_invalid:
    movb $0x01, %al
    jmp i13_finish
i13_ok:
    xorb %al, %al
/* AL: the status, for the caller's AH and the next AH=01h; CF set unless 0. */
i13_finish:
    movb %al, %cs:i13_status
    movb %al, F_EAX + 1(%bp)
i13_flags:
    testb %al, %al
    jz 1f
    orb $1, F_FLAGS(%bp)
    jmp 2f
1:  andb $0xfe, F_FLAGS(%bp)
2:  popw %es
    popw %ds
    popal
    iret

i13_last:
    movb %cs:i13_status, %al
    movb %al, F_EAX + 1(%bp)
    jmp i13_flags

/* AH=02h/03h: AL sectors at CH/CL/DH (cylinder, sector, head) to or from ES:BX. */
i13_chs_read:
    xorb %bl, %bl
    jmp i13_chs
i13_chs_write:
    movb $1, %bl
i13_chs:
    cmpb $9, %cs:i13_shift
    jne i13_invalid
    movb F_ECX(%bp), %al
    andb $0x3f, %al
    jz i13_no_sector
    /* The cylinder: CH, and CL's top two bits above it. */
    movzbw F_ECX + 1(%bp), %ax
    movb F_ECX(%bp), %dl
    shrb $6, %dl
    movb %dl, %ah
    cmpw %cs:i13_cyls, %ax
    jae i13_no_sector
    movb F_EDX + 1(%bp), %dl
    cmpb %cs:i13_heads, %dl
    jae i13_no_sector
    movb F_ECX(%bp), %dh
    andb $0x3f, %dh
    cmpb %cs:i13_spt, %dh
    ja i13_no_sector
    /* LBA = (cylinder * heads + head) * sectors per track + sector - 1 (MUL sets
     * EDX: the head and sector are read from the frame again). */
    movzwl %ax, %eax
    movzbl %cs:i13_heads, %ecx
    mull %ecx
    movzbl F_EDX + 1(%bp), %ecx
    addl %ecx, %eax
    movzbl %cs:i13_spt, %ecx
    mull %ecx
    movzbl F_ECX(%bp), %ecx
    andb $0x3f, %cl
    decl %ecx
    addl %ecx, %eax
    movzbl F_EAX(%bp), %ecx
    movzwl F_ES(%bp), %edi
    shll $4, %edi
    movzwl F_EBX(%bp), %edx
    addl %edx, %edi
    call i13_transfer
    jc 1f
    jmp i13_finish
1:  movb $0, F_EAX(%bp)
    jmp i13_finish
i13_no_sector:
    movb $0, F_EAX(%bp)
    movb $0x04, %al
    jmp i13_finish

/* AH=08h: the CHS geometry, and the number of disks in DL. A CD has none. */
i13_params_chs:
    cmpb $9, %cs:i13_shift
    jne i13_invalid
    movw %cs:i13_cyls, %ax
    decw %ax
    movb %al, F_ECX + 1(%bp)
    shlb $6, %ah
    orb %cs:i13_spt, %ah
    movb %ah, F_ECX(%bp)
    movb %cs:i13_heads, %al
    decb %al
    movb %al, F_EDX + 1(%bp)
    movb %cs:i13_numhd, %al
    movb %al, F_EDX(%bp)
    movb $0, F_EAX(%bp)
    movb $0, F_EBX(%bp)
    jmp i13_ok

/* AH=15h: a hard disk (AH=03h), CX:DX its sectors; no status of its own. */
i13_type:
    movw %cs:i13_sectors, %ax
    movw %ax, F_EDX(%bp)
    movw %cs:i13_sectors + 2, %ax
    movw %ax, F_ECX(%bp)
    movb $0x03, F_EAX + 1(%bp)
    xorb %al, %al
    movb %al, %cs:i13_status
    jmp i13_flags

/* AH=41h, BX 55AAh: the extensions are there (EDD 3.0), BX AA55h. */
i13_ext_check:
    cmpw $0x55aa, F_EBX(%bp)
    jne i13_invalid
    movw $0xaa55, F_EBX(%bp)
    /* Fixed disk access (AH=42h-44h, 47h, 48h), EDD, 64-bit buffer addresses. */
    movw $0x000d, F_ECX(%bp)
    movb $0x30, F_EAX + 1(%bp)
    xorb %al, %al
    movb %al, %cs:i13_status
    jmp i13_flags

/* AH=42h/43h: the disk address packet at DS:SI (size, count (a byte, at most 127),
 * buffer, LBA; a 64-bit buffer address when the buffer is FFFF:FFFF and the packet is
 * long enough). */
i13_ext_read:
    xorb %bl, %bl
    jmp i13_ext
i13_ext_write:
    movb $1, %bl
i13_ext:
    cmpb $0x10, (%si)
    jb i13_invalid
    movzwl 6(%si), %edi
    shll $4, %edi
    movzwl 4(%si), %eax
    addl %eax, %edi
    cmpl $0xffffffff, 4(%si)
    jne 1f
    cmpb $0x18, (%si)
    jb i13_invalid
    cmpl $0, 0x14(%si)
    jne i13_invalid
    movl 0x10(%si), %edi
1:  movzbl 2(%si), %ecx
    cmpb $0x7f, %cl
    ja 3f
    cmpl $0, 12(%si)
    jne 2f
    movl 8(%si), %eax
    pushw %si
    call i13_transfer
    popw %si
    jnc i13_finish
    movb $0, 2(%si)
    jmp i13_finish
2:  movb $0, 2(%si)
    movb $0x04, %al
    jmp i13_finish
3:  movb $0, 2(%si)
    jmp i13_invalid

/* AH=48h: the drive's parameters into the buffer at DS:SI (its first word the room). */
i13_ext_params:
    movw (%si), %ax
    cmpw $0x1a, %ax
    jb i13_invalid
    movw $0x1a, (%si)
    cmpw $0x1e, %ax
    jb 1f
    movw $0x1e, (%si)
    movl $0xffffffff, 0x1a(%si)
1:  xorl %eax, %eax
    movw $0x0001, 2(%si)        /* DMA boundary errors handled */
    movl %eax, 4(%si)
    movl %eax, 8(%si)
    movl %eax, 12(%si)
    cmpb $9, %cs:i13_shift
    jne 2f
    movw $0x0003, 2(%si)        /* and the CHS geometry is valid */
    movzwl %cs:i13_cyls, %eax
    movl %eax, 4(%si)
    movzbl %cs:i13_heads, %eax
    movl %eax, 8(%si)
    movzbl %cs:i13_spt, %eax
    movl %eax, 12(%si)
2:  movl %cs:i13_sectors, %eax
    movl %eax, 16(%si)
    movl $0, 20(%si)
    movb %cs:i13_shift, %cl
    movw $1, %ax
    shlw %cl, %ax
    movw %ax, 24(%si)
    jmp i13_ok

/* AH=4Bh (AL=00h/01h): a CD's emulation status, the specification packet at DS:SI:
 * no emulation, this drive, the rest zero (as iPXE answers). */
i13_cd_status:
    cmpb $11, %cs:i13_shift
    jne i13_invalid
    pushw %es
    pushw %ds
    popw %es
    movw %si, %di
    xorb %al, %al
    movw $0x13, %cx
    rep stosb
    popw %es
    movb $0x13, (%si)
    movb %cs:i13_drive, %al
    movb %al, 2(%si)
    jmp i13_ok

/* ECX sectors from sector EAX, to or from the caller's buffer at EDI (linear): BL 0 to
 * read, 1 to write. AL the status, CF set on failure. */
i13_transfer:
    cmpl %cs:i13_sectors, %eax
    jae 8f
    movl %cs:i13_sectors, %edx
    subl %eax, %edx
    cmpl %edx, %ecx
    ja 8f
    cmpb $1, %bl
    jne 1f
    cmpb $11, %cs:i13_shift
    je 7f
1:  /* ESI: the image's bytes at the first sector. */
    pushl %ecx
    movb %cs:i13_shift, %cl
    shll %cl, %eax
    popl %ecx
    addl %cs:i13_base, %eax
    movl %eax, %esi
2:  testl %ecx, %ecx
    jz 6f
    /* At most 64 KiB a copy: EDX sectors, then bytes. */
    pushl %ecx
    movb %cs:i13_shift, %cl
    movl $0x10000, %edx
    shrl %cl, %edx
    popl %ecx
    cmpl %edx, %ecx
    jae 3f
    movl %ecx, %edx
3:  subl %edx, %ecx
    pushl %ecx
    movb %cs:i13_shift, %cl
    shll %cl, %edx
    popl %ecx
    call i13_copy
    jc 9f
    addl %edx, %esi
    addl %edx, %edi
    jmp 2b
6:  xorb %al, %al
    clc
    ret
7:  movb $0x03, %al             /* a CD is write-protected */
    stc
    ret
8:  movb $0x04, %al             /* sector not found */
    stc
    ret
9:  movb $0x20, %al             /* the copy failed: controller failure */
    stc
    ret

/* EDX bytes (even, at most 64 KiB) between the image at ESI and the caller's buffer at
 * EDI, that way round for BL 0 and the other for BL 1, through INT 15h AH=87h. Keeps
 * every register; CF set on failure. */
i13_copy:
    pushal
    pushw %es
    cmpb $1, %bl
    jne 1f
    xchgl %esi, %edi
1:  movl %esi, %eax
    movw %ax, %cs:i13_src + 2
    shrl $16, %eax
    movb %al, %cs:i13_src + 4
    movb %ah, %cs:i13_src + 7
    movl %edi, %eax
    movw %ax, %cs:i13_dst + 2
    shrl $16, %eax
    movb %al, %cs:i13_dst + 4
    movb %ah, %cs:i13_dst + 7
    movl %edx, %ecx
    shrl $1, %ecx
    movw %cs, %ax
    movw %ax, %es
    movw $i13_gdt, %si
    movb $0x87, %ah
    int $0x15
    popw %es
    popal
    ret

/* ---- INT 15h: the memory map without the image ---- */
    .globl int15_entry
int15_entry:
    /* AX, as BIOSes match it (callers may leave the top of EAX set). */
    cmpw $0xe820, %ax
    jne 3f
    cmpl $0x534d4150, %edx
    jne 5f
    movzwl %cs:i13_e820n, %eax
    cmpl %eax, %ebx
    jae 4f
    /* Entry EBX (20 bytes at int13_end + 20 * EBX) to ES:DI. */
    pushw %ds
    pushw %si
    pushw %di
    pushw %cs
    popw %ds
    imulw $20, %bx, %si
    addw $int13_end, %si
    cld
    movsl
    movsl
    movsl
    movsl
    movsl
    popw %di
    popw %si
    popw %ds
    /* Asked for 24 bytes (ACPI 3.0): the attributes say "enabled". */
    cmpl $24, %ecx
    jb 1f
    movl $1, %es:20(%di)
    movl $24, %ecx
    jmp 2f
1:  movl $20, %ecx
2:  incl %ebx
    movzwl %cs:i13_e820n, %eax
    cmpl %eax, %ebx
    jb 6f
    xorl %ebx, %ebx
6:  movl $0x534d4150, %eax
    clc
    jmp i15_return
3:  cmpw $0xe801, %ax
    jne 7f
    testb $1, %cs:i13_oldsizes
    jz 5f
    movw %cs:i13_e801lo, %ax
    movw %ax, %cx
    movw %cs:i13_e801hi, %bx
    movw %bx, %dx
    clc
    jmp i15_return
7:  cmpb $0x88, %ah
    jne 5f
    testb $2, %cs:i13_oldsizes
    jz 5f
    movw %cs:i13_ext88, %ax
    clc
    jmp i15_return
4:  /* Past the last entry. */
    movb $0x86, %ah
    stc
    jmp i15_return
5:  ljmpw *%cs:i13_orig15

/* Returns from an interrupt with the carry flag as it is now. */
i15_return:
    pushw %bp
    movw %sp, %bp
    jc 1f
    andb $0xfe, 6(%bp)
    popw %bp
    iret
1:  orb $1, 6(%bp)
    popw %bp
    iret

    .balign 4
    .globl int13_end
int13_end:
    .purgem start_bzimage
    .purgem move_gdt
