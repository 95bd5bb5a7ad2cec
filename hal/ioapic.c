// IOAPICs: an index register and a data window; one 64-bit redirection entry per input.
#include "acpi.h"
#include "intr.h"

enum { IOREGSEL = 0, IOWIN = 4, REG_VERSION = 1, REG_REDIR = 0x10 };
enum {
    RED_NMI = 4 << 8, RED_LOW = 1 << 13, RED_LEVEL = 1 << 15, RED_MASKED = 1 << 16,
};

struct ioapic {
    volatile uint32_t *mmio;
    uint32_t gsi_base, inputs;
};

static struct ioapic ioapics[ACPI_MAX_IOAPICS];
static unsigned count, inputs;

static uint32_t rd(struct ioapic *a, uint32_t reg) {
    a->mmio[IOREGSEL] = reg;
    return a->mmio[IOWIN];
}

static void wr(struct ioapic *a, uint32_t reg, uint32_t v) {
    a->mmio[IOREGSEL] = reg;
    a->mmio[IOWIN] = v;
}

static struct ioapic *find(uint32_t gsi) {
    for (unsigned i = 0; i < count; i++)
        if (gsi >= ioapics[i].gsi_base && gsi < ioapics[i].gsi_base + ioapics[i].inputs)
            return &ioapics[i];
    return 0;
}

bool ioapic_add(uint8_t id, uint64_t phys, uint32_t gsi_base) {
    (void)id;
    if (count >= ACPI_MAX_IOAPICS || !phys)
        return false;
    struct ioapic *a = &ioapics[count];
    if (!(a->mmio = acpi_map_device(phys, 0x20)))
        return false;
    uint32_t version = rd(a, REG_VERSION);
    if (version == 0xffffffff)
        return false; // nothing answers there
    a->gsi_base = gsi_base;
    a->inputs = ((version >> 16) & 0xff) + 1;
    for (uint32_t i = 0; i < a->inputs; i++) {
        wr(a, REG_REDIR + 2 * i, RED_MASKED);
        wr(a, REG_REDIR + 2 * i + 1, 0);
    }
    count++;
    inputs += a->inputs;
    return true;
}

int ioapic_route(uint32_t gsi, unsigned vector, uint16_t mps_flags, uint8_t dest, bool nmi) {
    struct ioapic *a = find(gsi);
    if (!a)
        return -1;
    uint32_t pin = gsi - a->gsi_base;
    uint32_t lo = vector | (nmi ? RED_NMI : 0);
    if ((mps_flags & MPS_POLARITY_MASK) == MPS_POLARITY_LOW)
        lo |= RED_LOW;
    if ((mps_flags & MPS_TRIGGER_MASK) == MPS_TRIGGER_LEVEL)
        lo |= RED_LEVEL;
    // Masked while the halves change, so the input never fires half-programmed.
    wr(a, REG_REDIR + 2 * pin, RED_MASKED);
    wr(a, REG_REDIR + 2 * pin + 1, (uint32_t)dest << 24);
    wr(a, REG_REDIR + 2 * pin, lo);
    return 0;
}

void ioapic_mask(uint32_t gsi, bool masked) {
    struct ioapic *a = find(gsi);
    if (!a)
        return;
    uint32_t reg = REG_REDIR + 2 * (gsi - a->gsi_base);
    uint32_t lo = rd(a, reg);
    wr(a, reg, masked ? lo | RED_MASKED : lo & ~(uint32_t)RED_MASKED);
}

unsigned ioapic_count(void) { return count; }
unsigned ioapic_inputs(void) { return inputs; }
