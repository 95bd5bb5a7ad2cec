// qemu-exit CODE: ends QEMU through its isa-debug-exit device (I/O port 0xf4), which makes
// QEMU exit with status (CODE << 1) | 1. For the Linux peer's /init (tools/linuxpeer.py); the
// Debian cloud kernel has no /dev/port, so this takes the port with ioperm.
#include <stdio.h>
#include <stdlib.h>
#include <sys/io.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: qemu-exit CODE\n");
        return 2;
    }
    if (ioperm(0xf4, 1, 1) < 0) {
        perror("qemu-exit: ioperm");
        return 1;
    }
    outb((unsigned char)atoi(argv[1]), 0xf4);
    perror("qemu-exit: still running after the write to 0xf4");
    return 1;
}
