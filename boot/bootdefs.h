// Constants shared by the boot assembly and the HAL's C code.
#pragma once

#define MB2_HEADER_MAGIC         0xe85250d6
#define MB2_BOOTLOADER_MAGIC     0x36d76289
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define PVH_START_MAGIC          0x336ec578

#define BOOT_PROTO_UNKNOWN    0
#define BOOT_PROTO_MULTIBOOT2 1
#define BOOT_PROTO_PVH        2

#define PTE_P  0x001
#define PTE_W  0x002
#define PTE_PS 0x080

#define CR0_MP 0x00000002
#define CR0_EM 0x00000004
#define CR0_NE 0x00000020
#define CR0_WP 0x00010000
#define CR0_PG 0x80000000
#define CR4_PAE        0x00000020
#define CR4_OSFXSR     0x00000200
#define CR4_OSXMMEXCPT 0x00000400

#define MSR_EFER 0xc0000080
#define EFER_SCE 0x001
#define EFER_LME 0x100
#define EFER_NXE 0x800

#define KERNEL_VMA  0xffffffff80000000
#define PHYS_WINDOW 0xffff800000000000
