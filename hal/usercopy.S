// Copies between kernel and user memory. A page fault on a user address inside these routines
// is sent by hal_usercopy_fixup (hal/mmu.c) to hal_usercopy_fault, which returns -1 from
// whichever routine faulted: none of them pushes anything, so the return address is on top.
//
// stac/clac open and close user access under SMAP. Every one is listed in hal_smap_sites so
// that hal_mmu_init can turn them into NOPs on a CPU without SMAP (where they are #UD).

    .macro SMAP_SITE insn
990:    \insn
        .pushsection .rodata.smap_sites, "a"
        .quad 990b
        .popsection
    .endm

    .pushsection .rodata.smap_sites, "a"
    .balign 8
    .globl hal_smap_sites
hal_smap_sites:
    .popsection

    .section .text.hot, "ax" // see boot/linker.ld
    .globl hal_usercopy_start, hal_usercopy_end, hal_usercopy_fault
    .globl hal_copy_from_user, hal_copy_to_user, hal_strnlen_user

hal_usercopy_start:

// int hal_copy_from_user(void *dst, const void *usrc, uint64_t n)
// int hal_copy_to_user(void *udst, const void *src, uint64_t n)
// Both are rdi <- rsi for rdx bytes.
    .balign 16
hal_copy_from_user:
hal_copy_to_user:
    SMAP_SITE stac
    movq %rdx, %rcx
    shrq $3, %rcx
    rep movsq
    movq %rdx, %rcx
    andq $7, %rcx
    rep movsb
    SMAP_SITE clac
    xorl %eax, %eax
    ret

// long hal_strnlen_user(const char *usrc, uint64_t max): the length (< max), or max when no
// NUL comes within max bytes.
    .balign 16
hal_strnlen_user:
    SMAP_SITE stac
    xorl %eax, %eax
1:  cmpq %rsi, %rax
    jae 2f
    cmpb $0, (%rdi, %rax)
    je 2f
    incq %rax
    jmp 1b
2:  SMAP_SITE clac
    ret

hal_usercopy_fault:
    SMAP_SITE clac
    movq $-1, %rax
    ret

hal_usercopy_end:

    .pushsection .rodata.smap_sites, "a"
    .globl hal_smap_sites_end
hal_smap_sites_end:
    .popsection

    .section .note.GNU-stack, "", @progbits
