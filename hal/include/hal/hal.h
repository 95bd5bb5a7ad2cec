// Everything the kernel may include from the platform.
#pragma once
#include <hal/boot.h>
#include <hal/cpu.h>
#include <hal/qemu.h>
#include <hal/screen.h>
#include <hal/serial.h>
#include <hal/trap.h>
