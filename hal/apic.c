// This CPU's local APIC: xAPIC through MMIO, or x2APIC through MSRs when the firmware left it
// in that mode (there is no way back to xAPIC short of disabling it).
#include "acpi.h"
#include "intr.h"

enum {
    REG_ID = 0x20, REG_TPR = 0x80, REG_EOI = 0xb0, REG_SVR = 0xf0, REG_ISR = 0x100, REG_ESR = 0x280,
    REG_LVT_TIMER = 0x320, REG_LVT_LINT0 = 0x350, REG_LVT_LINT1 = 0x360, REG_LVT_ERROR = 0x370,
    REG_TIMER_INIT = 0x380, REG_TIMER_CUR = 0x390, REG_TIMER_DIV = 0x3e0,
};
enum {
    MSR_APIC_BASE = 0x1b, APIC_BASE_ENABLE = 1 << 11, APIC_BASE_X2 = 1 << 10, MSR_X2APIC = 0x800,
    SVR_ENABLE = 1 << 8, LVT_MASKED = 1 << 16, LVT_PERIODIC = 1 << 17, LVT_NMI = 4 << 8,
    LVT_LOW = 1 << 13, LVT_LEVEL = 1 << 15, TIMER_DIV_16 = 0x3,
};

static volatile uint32_t *mmio;
static bool x2;
static uint64_t errors;

static uint32_t rd(unsigned reg) { return x2 ? (uint32_t)msr_read(MSR_X2APIC + (reg >> 4)) : mmio[reg / 4]; }
static void wr(unsigned reg, uint32_t v) {
    if (x2)
        msr_write(MSR_X2APIC + (reg >> 4), v);
    else
        mmio[reg / 4] = v;
}

uint32_t lapic_id(void) { return x2 ? rd(REG_ID) : rd(REG_ID) >> 24; }

void lapic_eoi(void) { wr(REG_EOI, 0); }

bool lapic_in_service(unsigned vector) { return rd(REG_ISR + (vector / 32) * 0x10) & (1u << (vector % 32)); }

static uint32_t lvt_flags(uint16_t mps_flags) {
    return ((mps_flags & MPS_POLARITY_MASK) == MPS_POLARITY_LOW ? LVT_LOW : 0) |
           ((mps_flags & MPS_TRIGGER_MASK) == MPS_TRIGGER_LEVEL ? LVT_LEVEL : 0);
}

static void on_error(void *ctx) {
    (void)ctx;
    wr(REG_ESR, 0); // latch, then the register holds the errors
    errors++;
}

uint64_t lapic_error_count(void) { return errors; }

bool lapic_init(uint64_t phys) {
    uint32_t r[4];
    cpuid_query(1, 0, r);
    if (!(r[3] & (1 << 9)))
        return false;
    uint64_t base = msr_read(MSR_APIC_BASE);
    x2 = base & APIC_BASE_X2;
    if (!(base & APIC_BASE_ENABLE))
        msr_write(MSR_APIC_BASE, base | APIC_BASE_ENABLE);
    if (!x2 && !(mmio = acpi_map_device(phys ? phys : (base & 0xffffff000ull), 4096)))
        return false;
    wr(REG_TPR, 0);
    wr(REG_LVT_TIMER, LVT_MASKED | VEC_LAPIC_TIMER);
    wr(REG_TIMER_INIT, 0);
    // The 8259s stay masked and off LINT0; LINT1 carries NMI unless the MADT says otherwise.
    uint32_t lint[2] = {LVT_MASKED, LVT_NMI};
    uint32_t me = acpi.lapic_uid[lapic_id() & 0xff];
    for (int i = 0; i < acpi.lapic_nmi_count; i++) {
        const struct acpi_lapic_nmi *n = &acpi.lapic_nmi[i];
        if ((n->processor == 0xff || n->processor == me) && n->lint < 2)
            lint[n->lint] = LVT_NMI | lvt_flags(n->flags);
    }
    wr(REG_LVT_LINT0, lint[0]);
    wr(REG_LVT_LINT1, lint[1]);
    irq_set_vector(VEC_LAPIC_ERROR, on_error, 0);
    wr(REG_LVT_ERROR, VEC_LAPIC_ERROR);
    wr(REG_ESR, 0);
    wr(REG_ESR, 0);
    wr(REG_SVR, SVR_ENABLE | VEC_SPURIOUS);
    lapic_eoi(); // anything the firmware left in service
    return true;
}

void lapic_timer_count(uint32_t count) {
    wr(REG_TIMER_DIV, TIMER_DIV_16);
    wr(REG_LVT_TIMER, LVT_MASKED | VEC_LAPIC_TIMER);
    wr(REG_TIMER_INIT, count);
}

uint32_t lapic_timer_current(void) { return rd(REG_TIMER_CUR); }

void lapic_timer_periodic(unsigned vector, uint32_t count) {
    wr(REG_TIMER_DIV, TIMER_DIV_16);
    wr(REG_LVT_TIMER, (count ? LVT_PERIODIC : LVT_MASKED) | vector);
    wr(REG_TIMER_INIT, count);
}
