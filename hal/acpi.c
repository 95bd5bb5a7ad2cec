// ACPI: from the RSDP to the root table (RSDT for revision 0, XSDT from 2), every checksum
// verified, then the MADT, HPET and FADT read into struct acpi_info.
#include <hal/cpu.h>
#include <hal/mmu.h>
#include <stddef.h>
#include "acpi.h"

struct acpi_info acpi;
static const struct boot_info *boot;

void *acpi_map_device(uint64_t pa, uint64_t len) { return hal_mmu_map_device(pa, len); }

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static bool checksum_ok(const uint8_t *p, uint64_t len) {
    uint8_t sum = 0;
    for (uint64_t i = 0; i < len; i++)
        sum += p[i];
    return sum == 0;
}

static bool same(const void *a, const char *b, int n) {
    const char *p = a;
    for (int i = 0; i < n; i++)
        if (p[i] != b[i])
            return false;
    return true;
}

// Tables live in RAM or in firmware areas the memory map calls reserved (QEMU's do); the
// physical window covers RAM, and the boot tables the first 4 GiB. Whatever it does not
// cover gets a mapping of its own. NULL when it cannot be mapped.
static const uint8_t *map(uint64_t pa, uint64_t len) {
    uint64_t root = hal_mmu_kernel_root(); // 0 while the boot tables are in use
    bool covered = true;
    for (uint64_t page = pa & ~0xfffull; root && covered && page < pa + len; page += 4096)
        covered = hal_mmu_query(root, (uint64_t)hal_phys_to_virt(page), NULL, NULL);
    if (!root && pa + len > (4ull << 30))
        return NULL;
    return covered ? hal_phys_to_virt(pa) : acpi_map_device(pa, len);
}

enum { SDT_HEADER = 36, SDT_MAX = 1 << 20 };

// A whole table with its checksum verified, or NULL.
static const uint8_t *map_table(uint64_t pa, const char *sig) {
    const uint8_t *h = map(pa, SDT_HEADER);
    if (!h)
        return NULL;
    uint32_t len = rd32(h + 4);
    if (len < SDT_HEADER || len > SDT_MAX || (sig && !same(h, sig, 4)))
        return NULL;
    const uint8_t *t = map(pa, len);
    return t && checksum_ok(t, len) ? t : NULL;
}

static void parse_madt(const uint8_t *t) {
    uint32_t len = rd32(t + 4);
    if (len < 44)
        return;
    acpi.madt = true;
    acpi.lapic_addr = rd32(t + 36);
    acpi.pcat_compat = rd32(t + 40) & 1;
    for (uint32_t off = 44; off + 2 <= len;) {
        const uint8_t *e = t + off;
        uint8_t type = e[0], elen = e[1];
        if (elen < 2 || off + elen > len)
            break;
        switch (type) {
        case 0: // processor local APIC: UID, APIC ID, flags (bit 0 enabled)
            if (elen >= 8) {
                acpi.lapic_uid[e[3]] = e[2];
                if (rd32(e + 4) & 1)
                    acpi.cpus++;
            }
            break;
        case 1: // IOAPIC: id, reserved, address, GSI base
            if (elen >= 12 && acpi.ioapic_count < ACPI_MAX_IOAPICS)
                acpi.ioapic[acpi.ioapic_count++] = (struct acpi_ioapic){e[2], rd32(e + 4), rd32(e + 8)};
            break;
        case 2: // interrupt source override: bus (0 ISA), source IRQ, GSI, flags
            if (elen >= 10 && e[2] == 0 && e[3] < 16) {
                acpi.isa[e[3]] = (struct acpi_isa_route){true, rd32(e + 4), rd16(e + 8)};
                acpi.override_count++;
            }
            break;
        case 3: // NMI source: flags, GSI
            if (elen >= 8 && acpi.nmi_source_count < ACPI_MAX_NMIS) {
                acpi.nmi_source_flags[acpi.nmi_source_count] = rd16(e + 2);
                acpi.nmi_source_gsi[acpi.nmi_source_count++] = rd32(e + 4);
            }
            break;
        case 4: // local APIC NMI: processor UID, flags, LINT#
            if (elen >= 6 && acpi.lapic_nmi_count < ACPI_MAX_NMIS)
                acpi.lapic_nmi[acpi.lapic_nmi_count++] = (struct acpi_lapic_nmi){e[2], e[5], rd16(e + 3)};
            break;
        case 5: // local APIC address override (64-bit)
            if (elen >= 12)
                acpi.lapic_addr = rd64(e + 4);
            break;
        }
        off += elen;
    }
}

static void parse_hpet(const uint8_t *t) {
    // Generic address structure at 40: space id (0 memory), widths, address at 44.
    if (rd32(t + 4) >= 56 && t[40] == 0)
        acpi.hpet_addr = rd64(t + 44);
}

static void parse_fadt(const uint8_t *t) {
    uint32_t len = rd32(t + 4);
    if (len > 108)
        acpi.century_reg = t[108];
    // IAPC_BOOT_ARCH exists from FADT revision 3 (ACPI 2.0); bit 5: no CMOS RTC.
    if (len > 110 && t[8] >= 3)
        acpi.no_cmos_rtc = rd16(t + 109) & (1 << 5);
}

static bool rsdp_ok(const uint8_t *r) {
    if (!same(r, "RSD PTR ", 8) || !checksum_ok(r, 20))
        return false;
    // ACPI 2.0 and later: 36 bytes under an extended checksum.
    return r[15] < 2 || checksum_ok(r, 36);
}

// The BIOS areas: the first KiB of the EBDA and 0xe0000-0xfffff, on 16-byte boundaries.
static uint64_t find_rsdp(void) {
    if (boot->uefi)
        return 0;
    const uint8_t *bda = map(0x40e, 2);
    uint64_t ebda = bda ? (uint64_t)rd16(bda) << 4 : 0;
    uint64_t areas[2][2] = {{ebda, 1024}, {0xe0000, 0x20000}};
    for (int a = 0; a < 2; a++) {
        if (areas[a][0] < 0x80000 || areas[a][0] >= 0x100000)
            continue;
        const uint8_t *p = map(areas[a][0], areas[a][1]);
        for (uint64_t off = 0; p && off + 36 <= areas[a][1]; off += 16)
            if (rsdp_ok(p + off))
                return areas[a][0] + off;
    }
    return 0;
}

void acpi_init(const struct boot_info *info) {
    boot = info;
    for (int i = 0; i < 16; i++)
        acpi.isa[i] = (struct acpi_isa_route){false, (uint32_t)i, 0};
    for (int i = 0; i < 256; i++)
        acpi.lapic_uid[i] = 0xff;
    uint64_t rsdp = info->rsdp ? info->rsdp : find_rsdp();
    if (!rsdp)
        return;
    const uint8_t *r = map(rsdp, 36);
    if (!r || !rsdp_ok(r))
        return;
    acpi.rsdp = true;
    acpi.revision = r[15];
    bool xsdt = r[15] >= 2 && rd64(r + 24);
    const uint8_t *root = map_table(xsdt ? rd64(r + 24) : rd32(r + 16), xsdt ? "XSDT" : "RSDT");
    if (!root)
        return;
    unsigned width = xsdt ? 8 : 4;
    uint32_t count = (rd32(root + 4) - SDT_HEADER) / width;
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *e = root + SDT_HEADER + i * width;
        uint64_t pa = xsdt ? rd64(e) : rd32(e);
        const uint8_t *t = pa ? map_table(pa, NULL) : NULL;
        if (!t)
            continue;
        if (same(t, "APIC", 4) && !acpi.madt)
            parse_madt(t);
        else if (same(t, "HPET", 4) && !acpi.hpet_addr)
            parse_hpet(t);
        else if (same(t, "FACP", 4))
            parse_fadt(t);
    }
}
