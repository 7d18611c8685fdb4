/*
 * A boot sector for the BIOS SAN tests (tests/firmware_bios.rs assembles it with `as`):
 * started from a SAN disk with DL its drive, it checks the INT 13h extensions on that
 * drive (AH=41h, BX 55AAh -> AA55h), reads its sector 1 with an extended read (AH=42h;
 * DL must come back unchanged) and prints the text there, then reads the first sector
 * of drive 81h with a CHS read (the machine's own disk, which the SAN drive moved from
 * 80h; DL must come back 81h) and prints the text at 0x20 of it. A failed step prints
 * SAN-FAIL-<step>. It runs at 0000:7C00 and is linked at 0, hence the 0x7c00 offsets.
 */
    .code16
    .org 0
start:
    cli
    xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw $0x7c00, %sp
    sti
    movb %dl, 0x7c00 + drive
    /* Extensions on this drive */
    movb $0x41, %ah
    movw $0x55aa, %bx
    int $0x13
    jc fail41
    cmpw $0xaa55, %bx
    jne fail41
    /* Extended read of sector 1 to 0x8000 */
    movw $0x7c00 + dap, %si
    movb 0x7c00 + drive, %dl
    movb $0x42, %ah
    int $0x13
    jc fail42
    cmpb 0x7c00 + drive, %dl
    jne fail42
    movw $0x8000, %si
    call print
    /* The BIOS's disk, moved to 0x81: its first sector (CHS) to 0x8200 */
    movw $0x0201, %ax
    movw $0x0001, %cx
    movw $0x0081, %dx
    movw $0x8200, %bx
    int $0x13
    jc fail81
    cmpb $0x81, %dl
    jne fail81
    movw $0x8220, %si
    call print
halt:
    hlt
    jmp halt
fail41:
    movw $0x7c00 + m41, %si
    jmp 1f
fail42:
    movw $0x7c00 + m42, %si
    jmp 1f
fail81:
    movw $0x7c00 + m81, %si
1:  call print
    jmp halt
print:
    lodsb
    testb %al, %al
    jz 2f
    movb $0x0e, %ah
    movw $7, %bx
    int $0x10
    jmp print
2:  ret
m41: .asciz "SAN-FAIL-41\r\n"
m42: .asciz "SAN-FAIL-42\r\n"
m81: .asciz "SAN-FAIL-81\r\n"
drive: .byte 0
    .balign 4
dap: .byte 0x10, 0
    .word 1
    .word 0x8000, 0
    .quad 1
    .org 510
    .byte 0x55, 0xaa
