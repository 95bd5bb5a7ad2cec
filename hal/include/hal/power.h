#pragma once
// Power the machine off (ACPI S5 as QEMU's chipsets wire it); returns if nothing listened.
void hal_poweroff(void);
// Reset through the keyboard controller, then by a triple fault.
_Noreturn void hal_reboot(void);
