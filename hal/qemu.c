#include <hal/qemu.h>
#include <stdint.h>
#include "io.h"

enum { FWCFG_SELECT = 0x510, FWCFG_DATA = 0x511, DEBUG_EXIT_PORT = 0xf4 };
enum { FWCFG_SIGNATURE = 0x0000, FWCFG_FILE_DIR = 0x0019 };

static int present = -1;

static void read_bytes(void *dst, size_t n) {
    uint8_t *p = dst;
    for (size_t i = 0; i < n; i++)
        p[i] = inb(FWCFG_DATA);
}

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

bool hal_qemu_present(void) {
    if (present < 0) {
        char sig[4];
        outw(FWCFG_SELECT, FWCFG_SIGNATURE);
        read_bytes(sig, 4);
        present = sig[0] == 'Q' && sig[1] == 'E' && sig[2] == 'M' && sig[3] == 'U';
    }
    return present;
}

long hal_fwcfg_read_file(const char *name, char *buf, size_t max) {
    if (!hal_qemu_present() || max == 0)
        return -1;
    uint8_t word[4];
    outw(FWCFG_SELECT, FWCFG_FILE_DIR);
    read_bytes(word, 4);
    uint32_t count = be32(word);
    for (uint32_t i = 0; i < count; i++) {
        // Each entry: be32 size, be16 select, be16 reserved, char name[56].
        uint8_t entry[64];
        read_bytes(entry, sizeof entry);
        const char *ename = (const char *)entry + 8;
        size_t k = 0;
        while (k < 56 && name[k] && ename[k] == name[k])
            k++;
        if (k == 56 || name[k] != 0 || ename[k] != 0)
            continue;
        uint32_t size = be32(entry);
        uint16_t select = (uint16_t)(entry[4] << 8 | entry[5]);
        size_t n = size < max - 1 ? size : max - 1;
        outw(FWCFG_SELECT, select);
        read_bytes(buf, n);
        buf[n] = 0;
        return size;
    }
    return -1;
}

void hal_debug_exit(unsigned code) {
    if (hal_qemu_present())
        outl(DEBUG_EXIT_PORT, code);
}
