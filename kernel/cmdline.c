#include <kernel/cmdline.h>
#include <kernel/string.h>

static char line[1024];

void cmdline_init(const char *text) { strlcpy(line, text, sizeof line); }

const char *cmdline_get(const char *key, char *buf, size_t max) {
    size_t klen = strlen(key);
    const char *found = NULL;
    size_t flen = 0;
    for (const char *p = line; *p;) {
        while (*p == ' ')
            p++;
        const char *w = p;
        while (*p && *p != ' ')
            p++;
        size_t wlen = (size_t)(p - w);
        if (wlen >= klen && strncmp(w, key, klen) == 0 && (wlen == klen || w[klen] == '=')) {
            found = wlen == klen ? w + klen : w + klen + 1;
            flen = wlen == klen ? 0 : wlen - klen - 1;
        }
    }
    if (!found || max == 0)
        return NULL;
    if (flen >= max)
        flen = max - 1;
    memcpy(buf, found, flen);
    buf[flen] = 0;
    return buf;
}

bool cmdline_has(const char *key) {
    char tmp[2];
    return cmdline_get(key, tmp, sizeof tmp) != NULL;
}
