// The kernel command line: space-separated words, options as key=value.
#pragma once
#include <stdbool.h>
#include <stddef.h>

void cmdline_init(const char *text);
// The value of KEY (the text after "KEY=" up to the next space) copied into buf, or NULL.
// A bare word KEY gives "". The last occurrence wins, so fw_cfg extras override grub.cfg.
const char *cmdline_get(const char *key, char *buf, size_t max);
bool cmdline_has(const char *key);
