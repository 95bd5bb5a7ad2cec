// Boot entry for MultiOS: GRUB (multiboot2) and QEMU's direct boot (PVH) both enter here in
// 32-bit protected mode with paging off. We build the boot page tables, enter long mode,
// and jump to the higher-half kernel.
//
// Boot page tables map:
//   0 .. 4 GiB identity            (PML4[0])   needed while we switch, and for early MMIO
//   0 .. 4 GiB at 0xffff800000000000 (PML4[256]) the physical-memory window (hal/mmu.h)
//   0 .. 2 GiB at 0xffffffff80000000 (PML4[511]) the kernel image (-mcmodel=kernel)

#include "bootdefs.h"

    .section .multiboot2, "a"
    .balign 8
mb2_header:
    .long MB2_HEADER_MAGIC
    .long 0                                    // architecture: i386 protected mode
    .long mb2_header_end - mb2_header
    .long -(MB2_HEADER_MAGIC + 0 + (mb2_header_end - mb2_header))
    // No framebuffer tag: under BIOS GRUB then leaves VGA text mode; UEFI has no text mode,
    // so GRUB sets up the firmware's GOP framebuffer and reports it all the same.
    .balign 8
    .short 0, 0                                // end tag
    .long 8
mb2_header_end:

// PVH entry note, read by QEMU's -kernel loader (and Xen): the 32-bit physical entry point.
    .section .note.Xen, "a"
    .balign 4
    .long 4                                    // name size ("Xen\0")
    .long 4                                    // descriptor size
    .long XEN_ELFNOTE_PHYS32_ENTRY
    .asciz "Xen"
    .balign 4
    .long _start_pvh

    .section .boot.text, "ax"
    .code32
    .globl _start_mb2
_start_mb2:
    cli
    movl $BOOT_PROTO_MULTIBOOT2, %edi
    cmpl $MB2_BOOTLOADER_MAGIC, %eax
    je 1f
    movl $BOOT_PROTO_UNKNOWN, %edi
1:  jmp common32

    .globl _start_pvh
_start_pvh:
    cli
    movl $BOOT_PROTO_PVH, %edi

// edi = protocol, ebx = physical address of the loader's boot information.
common32:
    movl $boot_stack_top, %esp
    movl %edi, boot_proto
    movl %ebx, boot_info_phys

    // Zero the boot page tables: nothing guarantees .boot.bss is clear.
    movl $boot_bss_start, %edi
    movl $boot_bss_end, %ecx
    subl %edi, %ecx
    shrl $2, %ecx
    xorl %eax, %eax
    rep stosl

    // Four page directories of 2 MiB pages cover 0..4 GiB.
    movl $boot_pd, %edi
    xorl %ecx, %ecx
2:  movl %ecx, %eax
    shll $21, %eax
    orl $(PTE_P | PTE_W | PTE_PS), %eax
    movl %eax, (%edi, %ecx, 8)
    movl %ecx, %eax
    shrl $11, %eax                             // high bits of (ecx << 21)
    movl %eax, 4(%edi, %ecx, 8)
    incl %ecx
    cmpl $2048, %ecx
    jne 2b

    // Low PDPT: entries 0..3 point at the four page directories.
    movl $boot_pdpt_low, %edi
    movl $boot_pd, %eax
    orl $(PTE_P | PTE_W), %eax
    movl $4, %ecx
3:  movl %eax, (%edi)
    addl $8, %edi
    addl $4096, %eax
    loop 3b

    // High PDPT: entries 510, 511 (the top 2 GiB) map physical 0..2 GiB.
    movl $boot_pdpt_high, %edi
    movl $boot_pd, %eax
    orl $(PTE_P | PTE_W), %eax
    movl %eax, 510*8(%edi)
    addl $4096, %eax
    movl %eax, 511*8(%edi)

    movl $boot_pml4, %edi
    movl $boot_pdpt_low, %eax
    orl $(PTE_P | PTE_W), %eax
    movl %eax, (%edi)
    movl %eax, 256*8(%edi)
    movl $boot_pdpt_high, %eax
    orl $(PTE_P | PTE_W), %eax
    movl %eax, 511*8(%edi)

    // CR4: PAE, and the SSE enables (OSFXSR, OSXMMEXCPT); MicroPython's floats need SSE.
    movl %cr4, %eax
    orl $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
    movl %eax, %cr4
    movl $boot_pml4, %eax
    movl %eax, %cr3
    // EFER: long mode, NX, syscall/sysret.
    movl $MSR_EFER, %ecx
    rdmsr
    orl $(EFER_LME | EFER_NXE | EFER_SCE), %eax
    wrmsr
    // CR0: paging, write-protect in ring 0, FPU monitoring; clear emulation so SSE works.
    movl %cr0, %eax
    orl $(CR0_PG | CR0_WP | CR0_MP | CR0_NE), %eax
    andl $~CR0_EM, %eax
    movl %eax, %cr0

    lgdt boot_gdt_ptr
    ljmp $0x08, $long_mode_low

    .code64
long_mode_low:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs
    movabsq $start64, %rax
    jmp *%rax

    .section .boot.data, "aw"
    .balign 8
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff                   // 0x08: 64-bit code, ring 0
    .quad 0x00cf92000000ffff                   // 0x10: data, ring 0
boot_gdt_end:
boot_gdt_ptr:
    .short boot_gdt_end - boot_gdt - 1
    .long boot_gdt
    .globl boot_proto, boot_info_phys
boot_proto:      .long 0
boot_info_phys:  .long 0

    .section .boot.bss, "aw", @nobits
    .balign 4096
boot_bss_start:
boot_pml4:       .skip 4096
boot_pdpt_low:   .skip 4096
boot_pdpt_high:  .skip 4096
boot_pd:         .skip 4 * 4096
boot_stack:      .skip 4096
boot_stack_top:
boot_bss_end:

// From here on we run at the kernel's higher-half addresses.
    .text
    .code64
start64:
    movabsq $kernel_stack_top, %rsp
    xorl %ebp, %ebp
    // The loaders zero .bss today, but nothing in either protocol promises it.
    movabsq $__bss_start, %rdi
    movabsq $__bss_end, %rcx
    subq %rdi, %rcx
    xorl %eax, %eax
    rep stosb
    movl boot_proto, %edi
    movl boot_info_phys, %esi
    call hal_boot
1:  cli
    hlt
    jmp 1b

    .bss
    .balign 16
    .globl kernel_stack_bottom, kernel_stack_top
kernel_stack_bottom:
    .skip 32768
kernel_stack_top:

    .section .note.GNU-stack, "", @progbits
