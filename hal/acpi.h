// ACPI tables, as much of them as the interrupt and time code needs: the MADT (local APIC,
// IOAPICs, ISA overrides, NMI inputs), the HPET's address and the FADT's CMOS fields.
// Private to the HAL.
#pragma once
#include <hal/boot.h>
#include <stdbool.h>
#include <stdint.h>

#define ACPI_MAX_IOAPICS 8
#define ACPI_MAX_NMIS    8

// MPS INTI flags, as in MADT overrides and NMI entries: polarity in bits 0-1, trigger in 2-3.
#define MPS_POLARITY_MASK 0x3
#define MPS_POLARITY_LOW  0x3
#define MPS_TRIGGER_MASK  0xc
#define MPS_TRIGGER_LEVEL 0xc

struct acpi_ioapic {
    uint8_t id;
    uint64_t addr;
    uint32_t gsi_base;
};

// Where an ISA IRQ arrives: identity, edge, active high unless an override says otherwise.
struct acpi_isa_route {
    bool overridden;
    uint32_t gsi;
    uint16_t flags; // MPS INTI flags
};

struct acpi_lapic_nmi {
    uint8_t processor; // ACPI processor UID, 0xff: all
    uint8_t lint;      // 0 or 1
    uint16_t flags;
};

struct acpi_info {
    bool rsdp;         // an RSDP whose checksums hold
    int revision;      // the RSDP's: 0 RSDT, >= 2 XSDT
    bool madt;
    uint64_t lapic_addr;
    bool pcat_compat;  // a pair of 8259s is present
    int cpus;          // enabled processor entries
    uint8_t lapic_uid[256]; // APIC ID -> ACPI processor UID (0xff unknown)
    int ioapic_count;
    struct acpi_ioapic ioapic[ACPI_MAX_IOAPICS];
    struct acpi_isa_route isa[16];
    int override_count;
    int lapic_nmi_count;
    struct acpi_lapic_nmi lapic_nmi[ACPI_MAX_NMIS];
    int nmi_source_count; // NMI sources wired to IOAPIC inputs
    uint32_t nmi_source_gsi[ACPI_MAX_NMIS];
    uint16_t nmi_source_flags[ACPI_MAX_NMIS];
    uint64_t hpet_addr;    // 0: no HPET table
    uint8_t century_reg;   // CMOS register holding the century, 0: none
    bool no_cmos_rtc;      // the FADT says there is no CMOS RTC
};

extern struct acpi_info acpi;

// Parse the tables reached from INFO's RSDP (or, on BIOS machines, one found in the BIOS
// areas). Leaves acpi zeroed (but ISA routes identity) when there is none.
void acpi_init(const struct boot_info *info);
// Device memory (MMIO) mapped uncached into the kernel; any PA and LEN.
void *acpi_map_device(uint64_t pa, uint64_t len);
