// Codes the kernel writes to QEMU's isa-debug-exit device; QEMU exits with (code << 1) | 1.
// A test program's own exit status (0..MOS_QEMU_EXIT_STATUS_MAX) is passed through as it is.
#pragma once
#define MOS_QEMU_EXIT_STATUS_MAX 0x7a
#define MOS_QEMU_EXIT_ABNORMAL   0x7b // mos.run's program was killed or faulted, or exited > 0x7a
#define MOS_QEMU_EXIT_READY      0x7c // mos.exit=ready: the kernel reached its end of boot
#define MOS_QEMU_EXIT_BAD_ARG    0x7d // a test option named something that does not exist
#define MOS_QEMU_EXIT_PANIC      0x7e // a kernel panic or an unhandled kernel exception
