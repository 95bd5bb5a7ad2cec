// Interrupt controllers: local APIC + IOAPIC from the ACPI MADT, the 8259 PIC where there is
// no APIC. Devices are named by their ISA IRQ number (0-15); the HAL applies the MADT's
// interrupt source overrides.
#pragma once
#include <hal/boot.h>
#include <hal/trap.h>
#include <stdbool.h>
#include <stdint.h>

typedef void (*hal_irq_handler_t)(void *ctx);

void hal_irq_init(const struct boot_info *info);
// Route ISA IRQ to HANDLER and unmask it. 0, or -1 for a bad IRQ or one already taken.
int hal_irq_register(unsigned irq, hal_irq_handler_t handler, void *ctx);
void hal_irq_mask(unsigned irq, bool masked);

void hal_irq_enable(void);
void hal_irq_disable(void);
unsigned long hal_irq_save(void);         // disables, returns the previous state
void hal_irq_restore(unsigned long flags);  // back to that state (on or off)
// With interrupts off: enable them and halt until one has been handled, then disable them
// again (sti; hlt; cli: a wake-up arriving between a check and the halt is not lost).
void hal_irq_wait(void);
// Called after every interrupt (not exception) handler, after the EOI, interrupts still off,
// on the interrupted thread's kernel stack, with the frame that will be resumed: the
// scheduler preempts here. Not called when the interrupted code had interrupts off (only a
// software int can do that), so nothing preempts an irq_save section.
void hal_irq_set_exit_hook(void (*hook)(struct hal_trapframe *tf));

struct hal_irq_stats {
    uint64_t count[256];  // per vector
    uint64_t spurious;    // spurious APIC/PIC interrupts: counted, never fatal
    uint64_t unexpected;  // vectors with no handler: counted, never fatal
};
const struct hal_irq_stats *hal_irq_stats(void);
// One line starting with "apic" or "pic": "apic, 1 ioapic (24 inputs), 5 overrides",
// "pic (no ACPI)".
const char *hal_irq_controller(void);
