// Interrupt dispatch: every vector from 32 up lands here from hal_trap. The controller is the
// local APIC with the IOAPICs the MADT lists, or the 8259 pair where there is no MADT (or
// the boot option mos.irq=pic asks for it).
#include <hal/irq.h>
#include "acpi.h"
#include "intr.h"

struct vector_handler {
    void (*fn)(void *);
    void *ctx;
};

static struct vector_handler handlers[256];
static struct hal_irq_stats stats;
static void (*exit_hook)(struct hal_trapframe *tf);
static bool apic;
static uint8_t bsp_apic_id;
static const struct boot_info *boot;
static char summary[96];

bool irq_apic_mode(void) { return apic; }

bool irq_option(const char *word) {
    if (!boot)
        return false;
    for (const char *p = boot->cmdline; *p;) {
        while (*p == ' ')
            p++;
        const char *w = word;
        while (*w && *p == *w)
            p++, w++;
        if (!*w && (*p == ' ' || !*p))
            return true;
        while (*p && *p != ' ')
            p++;
    }
    return false;
}

void irq_set_vector(unsigned vector, void (*fn)(void *), void *ctx) {
    if (vector >= 32 && vector < 256)
        handlers[vector] = (struct vector_handler){fn, ctx};
}

void irq_dispatch(struct hal_trapframe *tf) {
    unsigned v = (unsigned)tf->vector;
    stats.count[v]++;
    struct vector_handler *h = &handlers[v];
    if (apic) {
        if (v == VEC_SPURIOUS) {
            stats.spurious++; // the APIC withdrew it: no EOI
        } else {
            // Only what the local APIC delivered is in its ISR; software ints and strays from the
            // masked 8259s are not, and an EOI for them would end someone else's interrupt.
            bool delivered = lapic_in_service(v);
            if (h->fn)
                h->fn(h->ctx);
            else
                stats.unexpected++;
            if (delivered)
                lapic_eoi();
        }
    } else if (v >= VEC_IRQ0 && v < VEC_IRQ0 + 16) {
        unsigned irq = v - VEC_IRQ0;
        if ((irq == 7 || irq == 15) && !pic_in_service(irq)) {
            // A spurious IRQ7/15: the 8259 lost the request. For the slave, the master did see
            // a real IRQ2 and wants its EOI.
            stats.spurious++;
            if (irq == 15)
                pic_eoi(2);
        } else {
            if (h->fn)
                h->fn(h->ctx);
            else
                stats.unexpected++;
            pic_eoi(irq);
        }
    } else if (h->fn) {
        h->fn(h->ctx);
    } else {
        stats.unexpected++;
    }
    // Only code that had interrupts on may be preempted: a software int inside an irq_save
    // section does not reach the hook.
    if (exit_hook && (tf->rflags & (1ul << 9)))
        exit_hook(tf);
}

static void route_nmi_sources(void) {
    for (int i = 0; i < acpi.nmi_source_count; i++)
        ioapic_route(acpi.nmi_source_gsi[i], 0, acpi.nmi_source_flags[i], bsp_apic_id, true);
}

static void build_summary(const char *why) {
    struct strbuf b = {summary, summary + sizeof summary};
    if (!apic) {
        sb_str(&b, "pic (");
        sb_str(&b, why);
        sb_str(&b, ")");
        return;
    }
    sb_str(&b, "apic, ");
    sb_uint(&b, ioapic_count(), 1);
    sb_str(&b, ioapic_count() == 1 ? " ioapic (" : " ioapics (");
    sb_uint(&b, ioapic_inputs(), 1);
    sb_str(&b, " inputs), ");
    sb_uint(&b, (uint64_t)acpi.override_count, 1);
    sb_str(&b, acpi.override_count == 1 ? " override" : " overrides");
}

void hal_irq_init(const struct boot_info *info) {
    boot = info;
    hal_irq_disable();
    acpi_init(info);
    // Remapped and masked in every case: in APIC mode a stray 8259 vector is then a counted
    // interrupt rather than an exception.
    if (!acpi.madt || acpi.pcat_compat)
        pic_init();
    const char *why = "no ACPI";
    if (irq_option("mos.irq=pic"))
        why = "mos.irq=pic";
    else if (acpi.rsdp && !acpi.madt)
        why = "no MADT";
    else if (acpi.madt && !acpi.ioapic_count)
        why = "no IOAPIC";
    else if (acpi.madt && lapic_init(acpi.lapic_addr)) {
        for (int i = 0; i < acpi.ioapic_count; i++)
            ioapic_add(acpi.ioapic[i].id, acpi.ioapic[i].addr, acpi.ioapic[i].gsi_base);
        if (ioapic_count()) {
            apic = true;
            bsp_apic_id = (uint8_t)lapic_id();
            route_nmi_sources();
        } else {
            why = "IOAPIC not answering";
        }
    } else if (acpi.madt) {
        why = "no local APIC";
    }
    if (!apic && acpi.madt && !acpi.pcat_compat)
        pic_init(); // the MADT said no 8259s, but there is nothing else
    build_summary(why);
}

int irq_route_isa(unsigned irq, void (*fn)(void *), void *ctx) {
    if (irq >= 16 || irq == 2) // IRQ2 is the 8259 cascade, never a device
        return -1;
    hal_irq_mask(irq, true);
    irq_set_vector(VEC_IRQ0 + irq, fn, ctx);
    if (apic) {
        const struct acpi_isa_route *r = &acpi.isa[irq];
        if (ioapic_route(r->gsi, VEC_IRQ0 + irq, r->flags, bsp_apic_id, false) < 0) {
            irq_set_vector(VEC_IRQ0 + irq, 0, 0);
            return -1;
        }
    }
    hal_irq_mask(irq, false);
    return 0;
}

int hal_irq_register(unsigned irq, hal_irq_handler_t handler, void *ctx) {
    if (irq >= 16 || !handler || handlers[VEC_IRQ0 + irq].fn)
        return -1;
    unsigned long flags = hal_irq_save();
    int r = irq_route_isa(irq, handler, ctx);
    hal_irq_restore(flags);
    return r;
}

void hal_irq_mask(unsigned irq, bool masked) {
    if (irq >= 16)
        return;
    if (apic)
        ioapic_mask(acpi.isa[irq].gsi, masked);
    else
        pic_mask(irq, masked);
}

void hal_irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
void hal_irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }

unsigned long hal_irq_save(void) {
    unsigned long flags;
    __asm__ volatile("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
    return flags & (1ul << 9);
}

void hal_irq_restore(unsigned long flags) {
    if (flags & (1ul << 9))
        __asm__ volatile("sti" ::: "memory");
    else
        __asm__ volatile("cli" ::: "memory");
}

void hal_irq_wait(void) {
    // sti takes effect after the next instruction: no interrupt slips in before the hlt.
    __asm__ volatile("sti; hlt; cli" ::: "memory");
}

void hal_irq_set_exit_hook(void (*hook)(struct hal_trapframe *tf)) { exit_hook = hook; }

const struct hal_irq_stats *hal_irq_stats(void) { return &stats; }

const char *hal_irq_controller(void) { return summary[0] ? summary : "none"; }
