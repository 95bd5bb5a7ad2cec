// The COM1 shell: a line editor with history, a few built-in commands, and programs from
// /bin by name. `svc ...` runs /bin/svc once the service manager provides it.
#include <mos.h>
#include <multios/errno.h>
#include <multios/syscalls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { LINE_MAX = 256, ARGS_MAX = 32, HISTORY = 32 };

static char history[HISTORY][LINE_MAX];
static int history_len;

static void out(const char *s) { mos_write(MOS_STDOUT, s, strlen(s)); }

static int getch(void) {
    char c;
    for (;;) {
        long n = mos_read(MOS_STDIN, &c, 1);
        if (n == 1)
            return (unsigned char)c;
        if (n < 0 && n != -MOS_EINTR)
            return -1;
    }
}

static void redraw(const char *prompt, const char *line, size_t len, size_t cur) {
    char buf[LINE_MAX + 64];
    // Back to the start of the line, prompt and text, clear the rest, cursor in place.
    int n = snprintf(buf, sizeof buf, "\r%s%.*s\033[K", prompt, (int)len, line);
    mos_write(MOS_STDOUT, buf, (size_t)n);
    if (len > cur) {
        n = snprintf(buf, sizeof buf, "\033[%dD", (int)(len - cur));
        mos_write(MOS_STDOUT, buf, (size_t)n);
    }
}

// Read one line with editing: backspace, left/right, home/end, up/down through history,
// Ctrl-U to clear. Returns the length, or -1 at the end of input.
static int read_line(const char *prompt, char *line) {
    size_t len = 0, cur = 0;
    int hist = history_len;
    out(prompt);
    for (;;) {
        int c = getch();
        if (c < 0)
            return -1;
        if (c == '\r' || c == '\n') {
            out("\r\n");
            line[len] = 0;
            return (int)len;
        }
        if (c == 0x7f || c == 8) {
            if (cur > 0) {
                memmove(line + cur - 1, line + cur, len - cur);
                len--, cur--;
            }
        } else if (c == 0x15) {
            len = cur = 0;
        } else if (c == 0x03) {
            out("^C\r\n");
            len = cur = 0;
            out(prompt);
            continue;
        } else if (c == 0x1b) {
            if (getch() != '[')
                continue;
            int k = getch();
            if (k == 'D' && cur > 0)
                cur--;
            else if (k == 'C' && cur < len)
                cur++;
            else if (k == 'H')
                cur = 0;
            else if (k == 'F')
                cur = len;
            else if ((k == 'A' && hist > 0) || (k == 'B' && hist < history_len)) {
                hist += k == 'A' ? -1 : 1;
                const char *h = hist < history_len ? history[hist % HISTORY] : "";
                len = cur = strlen(h);
                memcpy(line, h, len);
            }
        } else if (c >= 0x20 && c < 0x7f && len + 1 < LINE_MAX) {
            memmove(line + cur + 1, line + cur, len - cur);
            line[cur++] = (char)c;
            len++;
        } else {
            continue;
        }
        redraw(prompt, line, len, cur);
    }
}

static int split(char *line, char **argv) {
    int argc = 0;
    char *p = line;
    while (*p && argc < ARGS_MAX) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        argv[argc++] = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if (*p)
            *p++ = 0;
    }
    argv[argc] = NULL;
    return argc;
}

static const char *state_name(unsigned s) {
    static const char *const names[] = {"running", "ready", "blocked", "suspended", "zombie"};
    return s < 5 ? names[s] : "?";
}

static int cmd_ps(void) {
    struct mos_proc_info info;
    printf("%5s %5s %-10s %4s %10s %8s  %s\n", "PID", "PPID", "STATE", "PRIO", "CPU ms", "MEM KiB", "NAME");
    for (long i = 0; mos_proc_info(i, &info) == 0; i++)
        printf("%5ld %5ld %-10s %4d %10lu %8lu  %s\n", (long)info.pid, (long)info.ppid, state_name(info.state),
               info.priority, (unsigned long)(info.cpu_ns / 1000000), (unsigned long)(info.mem_bytes / 1024), info.name);
    return 0;
}

static void describe_status(const char *name, int status) {
    if (status & MOS_STATUS_FAULT)
        printf("%s: killed by CPU exception %d\n", name, status & 0xff);
    else if (status & MOS_STATUS_KILLED)
        printf("%s: killed\n", name);
    else if (status)
        printf("%s: exit status %d\n", name, status);
}

static int run(int argc, char **argv, int background) {
    char path[MOS_PATH_MAX];
    if (strchr(argv[0], '/'))
        snprintf(path, sizeof path, "%s", argv[0]);
    else
        snprintf(path, sizeof path, "/bin/%s", argv[0]);
    (void)argc;
    static const char *const env[] = {"PATH=/bin", NULL};
    long pid = mos_spawn(path, (const char *const *)argv, env);
    if (pid < 0) {
        printf("%s: %s\n", argv[0], pid == -MOS_ENOENT ? "command not found" : "cannot start it");
        return 127;
    }
    if (background) {
        printf("[%ld] %s\n", pid, argv[0]);
        return 0;
    }
    int status = 0;
    mos_wait(pid, &status);
    describe_status(argv[0], status);
    return status;
}

static int cmd_ls(const char *path) {
    struct mos_dirent d;
    long r;
    for (long i = 0; (r = mos_readdir(path, i, &d)) == 1; i++)
        printf("%s%s  %lu\n", d.name, d.type == MOS_FT_DIR ? "/" : "", (unsigned long)d.size);
    if (r < 0)
        printf("ls: %s: %s\n", path, r == -MOS_ENOENT ? "no such file or directory" : "not a directory");
    return r < 0;
}

static int cmd_cat(const char *path) {
    long h = mos_open(path, MOS_O_RDONLY);
    if (h < 0) {
        printf("cat: %s: cannot open\n", path);
        return 1;
    }
    char buf[512];
    long n;
    while ((n = mos_fread((int)h, buf, sizeof buf)) > 0)
        mos_write(MOS_STDOUT, buf, (size_t)n);
    mos_close((int)h);
    return 0;
}

static void help(void) {
    out("commands: help, ps, run PROG [ARGS] [&], PROG [ARGS] (from /bin), python [FILE],\r\n"
        "          kill PID, ls [DIR], cat FILE, echo WORDS, sleep MS, poweroff, reboot\r\n");
}

static void remember(const char *line) {
    if (!*line || (history_len && strcmp(history[(history_len - 1) % HISTORY], line) == 0))
        return;
    snprintf(history[history_len % HISTORY], LINE_MAX, "%s", line);
    history_len++;
}

int main(int argc, char **argv) {
    (void)argc, (void)argv;
    char line[LINE_MAX];
    char *args[ARGS_MAX + 1];
    out("MultiOS shell. Type help for the commands.\r\n");
    for (;;) {
        int n = read_line("multios> ", line);
        if (n < 0)
            return 0;
        remember(line);
        int ac = split(line, args);
        if (ac == 0)
            continue;
        int background = ac > 1 && strcmp(args[ac - 1], "&") == 0;
        if (background)
            args[--ac] = NULL;
        const char *c = args[0];
        if (strcmp(c, "help") == 0)
            help();
        else if (strcmp(c, "ps") == 0)
            cmd_ps();
        else if (strcmp(c, "exit") == 0)
            return 0;
        else if (strcmp(c, "poweroff") == 0)
            mos_poweroff(0);
        else if (strcmp(c, "reboot") == 0)
            mos_reboot();
        else if (strcmp(c, "echo") == 0) {
            for (int i = 1; i < ac; i++)
                printf("%s%s", args[i], i + 1 < ac ? " " : "");
            printf("\n");
        } else if (strcmp(c, "sleep") == 0 && ac > 1)
            mos_sleep_ns((uint64_t)strtoul(args[1], NULL, 10) * 1000000);
        else if (strcmp(c, "kill") == 0 && ac > 1) {
            long r = mos_kill(strtol(args[1], NULL, 10));
            if (r < 0)
                printf("kill: %s: no such process\n", args[1]);
        } else if (strcmp(c, "ls") == 0)
            cmd_ls(ac > 1 ? args[1] : "/");
        else if (strcmp(c, "cat") == 0 && ac > 1)
            cmd_cat(args[1]);
        else if (strcmp(c, "run") == 0 && ac > 1)
            run(ac - 1, args + 1, background);
        else
            run(ac, args, background);
    }
}
