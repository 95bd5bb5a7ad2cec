// The smallest useful guest program: greets, lists its arguments, exits 0.
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
    printf("hello from %s (pid %ld)\n", argv[0], (long)getpid());
    for (int i = 1; i < argc; i++)
        printf("  argv[%d] = %s\n", i, argv[i]);
    return 0;
}
