// A trivial service for the systemd peer: it records when it started and then waits forever.
//
//   svc NAME    writes "MONOTONIC_NS PID\n" to /run/NAME.started, then pause()s
//
// The file is written under another name and renamed into place, so a reader (smbench, which
// waits for the rename with inotify) never sees it half written.
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (argc < 2)
        return 2;
    char path[256], tmp[256];
    snprintf(path, sizeof path, "/run/%s.started", argv[1]);
    snprintf(tmp, sizeof tmp, "/run/.%s.started.tmp", argv[1]);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return 1;
    dprintf(fd, "%lld %d\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec, (int)getpid());
    close(fd);
    if (rename(tmp, path) != 0)
        return 1;
    for (;;)
        pause();
}
