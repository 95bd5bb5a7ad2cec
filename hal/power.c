#include <hal/cpu.h>
#include <hal/power.h>
#include <stdint.h>
#include "io.h"

void hal_poweroff(void) {
    // FIXME: real machines need \_S5 from the DSDT (an AML interpreter); these are the PM1a
    // control ports of QEMU's PIIX4 (pc) and ICH9 (q35) with SLP_TYP 5 | SLP_EN.
    outw(0x604, 0x2000);
    outw(0xb004, 0x2000);
}

_Noreturn void hal_reboot(void) {
    for (int i = 0; i < 100000 && (inb(0x64) & 2); i++)
        __asm__ volatile("pause");
    outb(0x64, 0xfe);
    // A triple fault resets any x86: an empty IDT and an exception.
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } empty = {0, 0};
    __asm__ volatile("lidt %0; int3" : : "m"(empty));
    hal_halt_forever();
}
