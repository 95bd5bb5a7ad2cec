// svc: systemctl-like control of services (list, status, is-active, start, stop, restart,
// enable, disable, pause, resume, deps, discover, logs, watch). The service manager runs the
// command itself (services/svcmgr/cli.py, the op "cli" of service_query) and answers with the
// text to print and the exit status: 0 done, 1 refused (the error's name and a sentence), 2
// bad usage, 3 is-active of a service that is not running. start, stop and restart answer
// once done. watch polls a subscription from here.
#include <mos.h>
#include <multios/service.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { REPLY_FIRST = 64 * 1024, REPLY_MAX = 8 * 1024 * 1024, WATCH_POLL_MS = 100 };

// --- just enough JSON to read the manager's replies -----------------------------------

static const char *skip_ws(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

// The end of the JSON value at p, or NULL if it is malformed.
static const char *skip_value(const char *p) {
    p = skip_ws(p);
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++)
            if (*p == '\\' && !*++p)
                return NULL;
        return *p ? p + 1 : NULL;
    }
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        p = skip_ws(p + 1);
        if (*p == close)
            return p + 1;
        for (;;) {
            if (close == '}') {
                p = skip_value(p); // the key
                if (!p || *(p = skip_ws(p)) != ':')
                    return NULL;
                p++;
            }
            if (!(p = skip_value(p)))
                return NULL;
            p = skip_ws(p);
            if (*p == close)
                return p + 1;
            if (*p != ',')
                return NULL;
            p++;
        }
    }
    const char *start = p;
    while (*p && !strchr(",:]} \t\r\n", *p))
        p++;
    return p > start ? p : NULL;
}

// The value of key in the object at obj (its first character), or NULL.
static const char *json_get(const char *obj, const char *key) {
    const char *p = skip_ws(obj);
    if (*p != '{')
        return NULL;
    p = skip_ws(p + 1);
    size_t n = strlen(key);
    while (*p == '"') {
        const char *k = p + 1;
        const char *end = skip_value(p);
        if (!end)
            return NULL;
        bool match = (size_t)(end - 1 - k) == n && memcmp(k, key, n) == 0;
        p = skip_ws(end);
        if (*p != ':')
            return NULL;
        p = skip_ws(p + 1);
        if (match)
            return p;
        if (!(p = skip_value(p)))
            return NULL;
        p = skip_ws(p);
        if (*p == ',')
            p = skip_ws(p + 1);
    }
    return NULL;
}

static long json_long(const char *v, long fallback) {
    if (!v || (*v != '-' && (*v < '0' || *v > '9')))
        return fallback;
    return strtol(v, NULL, 10);
}

static void put_utf8(char **o, unsigned c) {
    char *q = *o;
    if (c < 0x80) {
        *q++ = (char)c;
    } else if (c < 0x800) {
        *q++ = (char)(0xc0 | c >> 6);
        *q++ = (char)(0x80 | (c & 0x3f));
    } else if (c < 0x10000) {
        *q++ = (char)(0xe0 | c >> 12);
        *q++ = (char)(0x80 | ((c >> 6) & 0x3f));
        *q++ = (char)(0x80 | (c & 0x3f));
    } else {
        *q++ = (char)(0xf0 | c >> 18);
        *q++ = (char)(0x80 | ((c >> 12) & 0x3f));
        *q++ = (char)(0x80 | ((c >> 6) & 0x3f));
        *q++ = (char)(0x80 | (c & 0x3f));
    }
    *o = q;
}

// Decodes the JSON string at v into a new buffer (NULL if v is no string).
static char *json_string(const char *v) {
    if (!v || *v != '"')
        return NULL;
    const char *end = skip_value(v);
    if (!end)
        return NULL;
    char *out = malloc((size_t)(end - v) + 1), *o = out;
    if (!out)
        return NULL;
    for (const char *p = v + 1; p < end - 1; p++) {
        if (*p != '\\') {
            *o++ = *p;
            continue;
        }
        switch (*++p) {
        case 'n': *o++ = '\n'; break;
        case 't': *o++ = '\t'; break;
        case 'r': *o++ = '\r'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'u': {
            char hex[5] = {0};
            memcpy(hex, p + 1, 4);
            unsigned c = (unsigned)strtoul(hex, NULL, 16);
            p += 4;
            if (c >= 0xd800 && c < 0xdc00 && p[1] == '\\' && p[2] == 'u') { // a surrogate pair
                memcpy(hex, p + 3, 4);
                unsigned lo = (unsigned)strtoul(hex, NULL, 16);
                c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
                p += 6;
            }
            put_utf8(&o, c);
            break;
        }
        default: *o++ = *p; break; // \" \\ \/
        }
    }
    *o = 0;
    return out;
}

// A growing request text.
struct text {
    char *p;
    size_t len, cap;
};

static void add_raw(struct text *t, const char *s, size_t n) {
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->p = realloc(t->p, t->cap);
        if (!t->p) {
            printf("svc: out of memory\n");
            exit(1);
        }
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = 0;
}

static void add(struct text *t, const char *s) { add_raw(t, s, strlen(s)); }

// Appends s as a JSON string.
static void add_json_string(struct text *t, const char *s) {
    add(t, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\', esc[1] = (char)*p, esc[2] = 0;
            add(t, esc);
        } else if (*p < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            add(t, esc);
        } else {
            add_raw(t, (const char *)p, 1);
        }
    }
    add(t, "\"");
}

// --- talking to the service manager ----------------------------------------------------

// Sends request (JSON) and returns the answer (malloc'd, NUL-terminated), or exits with a
// message when the call itself fails. Only a repeatable request is sent again when the
// first buffer was too small.
static char *query(const char *request, bool repeatable) {
    size_t max = REPLY_FIRST;
    for (;;) {
        char *reply = malloc(max + 1);
        if (!reply) {
            printf("svc: out of memory\n");
            exit(1);
        }
        long n = service_query(request, reply, max);
        if (n < 0) {
            printf("svc: %s: %s\n", service_error_name(n),
                   n == -ServiceTimeout ? "the service manager did not answer" : "the service manager refused the request");
            exit(1);
        }
        if ((size_t)n <= max) {
            reply[n] = 0;
            return reply;
        }
        free(reply);
        if (!repeatable || (size_t)n > REPLY_MAX) {
            printf("svc: the answer (%ld bytes) is too long\n", n);
            exit(1);
        }
        max = (size_t)n + 1024; // it may have grown meanwhile
    }
}

// A failed request's {"error", "message"}: prints it and exits 1.
static void check_error(const char *reply, bool as_json) {
    const char *e = json_get(reply, "error");
    if (!e)
        return;
    if (as_json) {
        printf("%s\n", reply);
    } else {
        char *name = json_string(e), *msg = json_string(json_get(reply, "message"));
        printf("%s: %s\n", name ? name : "ServiceError", msg ? msg : "");
    }
    exit(1);
}

// --- svc watch: a subscription polled until -n N events or --timeout MS of quiet ---------

static int usage_error(const char *what, bool as_json) {
    if (as_json)
        printf("{\"error\": \"usage\", \"message\": \"%s\"}\n", what);
    else
        printf("svc: %s\nusage: svc watch [PATTERN] [--events state,created,removed,health] [-n N] "
               "[--timeout MS] [--json]\n", what);
    return 2;
}

static void print_event(const char *ev, bool as_json) {
    const char *end = skip_value(ev);
    if (as_json) {
        printf("%.*s\n", (int)(end - ev), ev);
        return;
    }
    char *kind = json_string(json_get(ev, "event"));
    long seq = json_long(json_get(ev, "seq"), 0);
    if (kind && strcmp(kind, "missed") == 0) {
        printf("-- missed %ld events --\n", json_long(json_get(ev, "count"), 0));
    } else {
        char *name = json_string(json_get(ev, "name")), *state = json_string(json_get(ev, "state"));
        char *health = json_string(json_get(ev, "health"));
        printf("%6ld  %-7s  %s: %s (%s)\n", seq, kind ? kind : "?", name ? name : "?", state ? state : "?",
               health ? health : "?");
        free(name), free(state), free(health);
    }
    free(kind);
}

static int watch(int argc, char **argv, bool as_json) {
    const char *pattern = "", *events = "";
    long limit = 0, timeout_ms = -1;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0)
            continue;
        if (strcmp(a, "--events") == 0 || strcmp(a, "-n") == 0 || strcmp(a, "--timeout") == 0) {
            if (i + 1 >= argc)
                return usage_error("an option needs a value", as_json);
            const char *v = argv[++i];
            if (a[1] == 'n' || a[2] == 't') {
                char *end;
                long n = strtol(v, &end, 10);
                if (*end || n < 0)
                    return usage_error("-n and --timeout take a number >= 0", as_json);
                if (a[1] == 'n')
                    limit = n;
                else
                    timeout_ms = n;
            } else {
                events = v;
            }
        } else if (a[0] == '-') {
            return usage_error("unknown option", as_json);
        } else if (!*pattern) {
            pattern = a;
        } else {
            return usage_error("watch takes at most one pattern", as_json);
        }
    }
    struct text req = {0};
    char head[80];
    snprintf(head, sizeof head, "{\"op\": \"subscribe\", \"owner\": %ld, \"pattern\": ", mos_getpid());
    add(&req, head);
    add_json_string(&req, pattern);
    add(&req, ", \"events\": ");
    add_json_string(&req, events);
    add(&req, "}");
    char *reply = query(req.p, false);
    check_error(reply, as_json);
    long handle = json_long(json_get(reply, "handle"), -1);
    free(reply), free(req.p);
    char poll[96], bye[96];
    snprintf(poll, sizeof poll, "{\"op\": \"events\", \"handle\": %ld, \"max\": 64}", handle);
    snprintf(bye, sizeof bye, "{\"op\": \"unsubscribe\", \"handle\": %ld}", handle);
    long seen = 0;
    uint64_t quiet_since = (uint64_t)mos_clock_ns();
    while (limit == 0 || seen < limit) {
        reply = query(poll, false);
        if (json_get(reply, "error")) {
            free(query(bye, false));
            check_error(reply, as_json);
        }
        const char *p = json_get(reply, "events");
        if (p && *p == '[') {
            p = skip_ws(p + 1);
            while (*p == '{' && (limit == 0 || seen < limit)) {
                print_event(p, as_json);
                seen++;
                quiet_since = (uint64_t)mos_clock_ns();
                p = skip_ws(skip_value(p));
                if (*p == ',')
                    p = skip_ws(p + 1);
            }
        }
        free(reply);
        if (timeout_ms >= 0 && (uint64_t)mos_clock_ns() - quiet_since >= (uint64_t)timeout_ms * 1000000)
            break;
        mos_sleep_ns(WATCH_POLL_MS * 1000000ull);
    }
    free(query(bye, false));
    return 0;
}

// --- everything else: the manager runs the command ----------------------------------------

// Commands that only read: their request may be sent again with a larger answer buffer.
static bool read_only(const char *cmd) {
    static const char *const reads[] = {"list", "status", "is-active", "deps", "discover", "logs",
                                        "help"};
    for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++)
        if (strcmp(cmd, reads[i]) == 0)
            return true;
    return false;
}

int main(int argc, char **argv) {
    bool as_json = false;
    const char *cmd = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            as_json = true;
        else if (!cmd && argv[i][0] != '-')
            cmd = argv[i];
    }
    if (argc > 1 && strcmp(argv[1], "watch") == 0)
        return watch(argc, argv, as_json);
    struct text req = {0};
    add(&req, "{\"op\": \"cli\", \"argv\": [");
    for (int i = 1; i < argc; i++) {
        if (i > 1)
            add(&req, ", ");
        add_json_string(&req, argv[i]);
    }
    add(&req, "]}");
    char *reply = query(req.p, cmd && read_only(cmd));
    const char *code = json_get(reply, "code");
    char *text = json_string(json_get(reply, "text"));
    if (!text) { // the request itself was refused
        check_error(reply, as_json);
        printf("svc: the service manager answered something else: %.200s\n", reply);
        return 1;
    }
    if (*text) {
        fputs(text, stdout);
        if (text[strlen(text) - 1] != '\n')
            putchar('\n');
    }
    return (int)json_long(code, 1);
}
