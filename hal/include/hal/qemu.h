// QEMU's paravirtual devices: fw_cfg and isa-debug-exit. Both are harmless on real hardware:
// fw_cfg is probed by its signature, and the exit port is only written when fw_cfg said QEMU.
#pragma once
#include <stdbool.h>
#include <stddef.h>

bool hal_qemu_present(void);
// Copy the fw_cfg file NAME into buf (NUL-terminated, truncated to max-1); its size or -1.
long hal_fwcfg_read_file(const char *name, char *buf, size_t max);
// End QEMU with exit status (code << 1) | 1 when the isa-debug-exit device is there;
// returns if it is not.
void hal_debug_exit(unsigned code);
