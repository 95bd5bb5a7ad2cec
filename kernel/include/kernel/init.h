#pragma once
void init_start(void); // the kernel's first thread (kernel/init.c)
