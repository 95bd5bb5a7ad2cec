// svctest: every service system call through the C API of <multios/service.h>, with the
// error paths a program can reach, against the running service manager and the default
// system (logging, database, cache, web-server). It defines its own services (named
// svctest-PID-*) from TOML and JSON text; they run this program in a service mode:
//   svctest              run the checks; one line per check, last "svctest: N passed, M failed",
//                        exit status 0 when M is 0
//   svctest --serve [DEP...]   be a service: check that the DEPs are Running, notify_ready,
//                        then sleep until stopped (exit 3 if a DEP is not Running)
//   svctest --serve-quiet [DEP...]   the same without the "serving" line on the console (the
//                        benchmark's trivial services, as quiet as the systemd peer's)
//   svctest --silent     be a service that never says it is ready
//   svctest --census PATTERN N   N services match PATTERN, all Running (exit 0) or not (1)
//   svctest --exit N     exit at once with status N
//   svctest --fault-in MS   say it is ready, then fault (a page fault) after MS ms
// Errors it does not provoke: PermissionDenied (no call checks permissions yet),
// ResourceExhausted, LoadBalancerError and HealthCheckFailed (no call returns them yet), and
// ServiceTimeout for a missing service manager (test_services.py runs svc without one).
// InvalidServiceHandle comes from service_query (an unknown subscription handle).
#include "benchstat.h"

#include <mos.h>
#include <multios/service.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { WAIT_MS = 10000, ROUNDS = 200, NONE = 0x7ffffff0 };

static int passed, failed;
static const char *current;
static int current_failed;
static char prefix[32]; // "svctest-PID"

#define CHECK(cond, ...)                                                                                     \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            printf("svctest: %s FAILED: line %d: %s: ", current, __LINE__, #cond);                           \
            printf(__VA_ARGS__);                                                                             \
            printf("\n");                                                                                    \
            current_failed = 1;                                                                              \
        }                                                                                                    \
    } while (0)

// EXPECT(call, want): the call's result is want (a count, an id, 0 or -ServiceError).
#define EXPECT(call, want)                                                                                   \
    do {                                                                                                     \
        long r_ = (call), w_ = (want);                                                                       \
        CHECK(r_ == w_, "returned %ld (%s), want %ld (%s)", r_, r_ < 0 ? service_error_name(r_) : "ok", w_,  \
              w_ < 0 ? service_error_name(w_) : "ok");                                                       \
    } while (0)

static const char *state_name(unsigned s) {
    static const char *const names[] = {"stopped", "starting", "running", "stopping", "failed", "disabled", "paused"};
    return s < 7 ? names[s] : "?";
}

static struct service_status status_of(long id) {
    struct service_status st;
    memset(&st, 0xa5, sizeof st);
    long r = service_status((service_id_t)id, &st);
    if (r < 0) {
        memset(&st, 0, sizeof st);
        st.state = 99;
    }
    return st;
}

// Waits until service id is in state (the calls answer once done; some changes follow
// them, e.g. a dependent coming back after its dependency).
static bool wait_state(long id, unsigned state) {
    uint64_t until = (uint64_t)mos_clock_ns() + WAIT_MS * 1000000ull;
    while (status_of(id).state != state) {
        if ((uint64_t)mos_clock_ns() > until)
            return false;
        mos_sleep_ns(10 * 1000000ull);
    }
    return true;
}

#define STATE_IS(id, want)                                                                                   \
    do {                                                                                                     \
        unsigned s_ = status_of(id).state;                                                                   \
        CHECK(s_ == (want), "state %s, want %s", state_name(s_), state_name(want));                          \
    } while (0)

static long create(uint32_t format, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static long create(uint32_t format, const char *fmt, ...) {
    static char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    struct service_create_params p = {text, strlen(text), format, 0};
    return create_service(&p);
}

// A trivial service running this program in a service mode.
static long create_server(const char *suffix, const char *mode, const char *extra) {
    return create(SERVICE_FORMAT_TOML,
                  "[service]\nname = \"%s-%s\"\ntype = \"UserService\"\nexec = \"/bin/svctest\"\n"
                  "args = [\"%s\"]\nversion = \"0.1.0\"\ntags = [\"svctest\"]\nstop_timeout = 1000\n%s",
                  prefix, suffix, mode, extra ? extra : "");
}

static long id_of(const char *suffix) {
    char name[64];
    snprintf(name, sizeof name, "%s-%s", prefix, suffix);
    return lookup_service(name);
}

static bool contains(const service_id_t *ids, long n, long id) {
    for (long i = 0; i < n; i++)
        if (ids[i] == (service_id_t)id)
            return true;
    return false;
}

// The kernel's view of process pid: its enum mos_proc_state, or -1 when there is none.
static long proc_state(long pid) {
    struct mos_proc_info info;
    for (long i = 0; mos_proc_info(i, &info) == 0; i++)
        if (info.pid == pid)
            return info.state;
    return -1;
}

// --- the checks -------------------------------------------------------------------------

static long db, web, cache;

static void test_lookup(void) {
    db = lookup_service("database");
    web = lookup_service("web-server");
    cache = lookup_service("cache");
    CHECK(db > 0 && web > 0 && cache > 0, "ids %ld %ld %ld", db, web, cache);
    CHECK(db != web && web != cache && db != cache, "ids %ld %ld %ld", db, web, cache);
    EXPECT(lookup_service("database"), db); // from the cache this time
    uint64_t ttl = service_cache_ttl_ns;
    service_cache_ttl_ns = 0;
    EXPECT(lookup_service("database"), db); // from the manager
    service_cache_ttl_ns = ttl;
    EXPECT(lookup_service("no-such-service"), -ServiceNotFound);
    EXPECT(lookup_service(""), -ServiceNotFound);
    EXPECT(lookup_service("Database"), -ServiceNotFound); // exact names only
}

static void test_status(void) {
    struct service_status st;
    memset(&st, 0xa5, sizeof st);
    EXPECT(service_status((service_id_t)db, &st), 0);
    CHECK(st.id == (service_id_t)db, "id %u", st.id);
    CHECK(strcmp(st.name, "database") == 0, "name %.64s", st.name);
    CHECK(st.state == SERVICE_RUNNING, "state %s", state_name(st.state));
    CHECK(st.pid > 0, "pid %ld", (long)st.pid);
    CHECK(proc_state(st.pid) >= 0 && proc_state(st.pid) != MOS_PROC_ZOMBIE, "no live process %ld", (long)st.pid);
    CHECK(st.type == SERVICE_TYPE_SYSTEM, "type %u", st.type);
    CHECK(strcmp(st.version, "2.3.1") == 0, "version %.32s", st.version);
    CHECK(st.health == SERVICE_HEALTH_HEALTHY, "health %u", st.health);
    CHECK(st.enabled == 1 && st.reserved == 0, "enabled %u reserved %u", st.enabled, st.reserved);
    CHECK(st.since_ns > 0 && st.since_ns <= (uint64_t)mos_clock_ns(), "since %lu", (unsigned long)st.since_ns);
    EXPECT(service_status((service_id_t)web, &st), 0);
    CHECK(strcmp(st.name, "web-server") == 0 && st.type == SERVICE_TYPE_USER, "%.64s type %u", st.name, st.type);
    CHECK(strcmp(st.version, "1.0.0") == 0 && st.state == SERVICE_RUNNING, "%.32s %s", st.version,
          state_name(st.state));
    EXPECT(service_status(NONE, &st), -ServiceNotFound);
    EXPECT(service_status(0, &st), -ServiceNotFound);
}

static void test_discover(void) {
    service_id_t ids[512];
    long all = discover_services("*", ids, 512);
    CHECK(all >= 6 && all <= 512, "%ld services", all);
    CHECK(contains(ids, all, db) && contains(ids, all, web) && contains(ids, all, cache), "default system missing");
    for (long i = 0; i < all; i++)
        for (long j = i + 1; j < all; j++)
            CHECK(ids[i] != ids[j], "id %u twice", ids[i]);
    EXPECT(discover_services("web*", ids, 512), 1);
    CHECK(ids[0] == (service_id_t)web, "web* gave %u", ids[0]);
    long n = discover_services("tag:storage", ids, 512);
    CHECK(n >= 2 && contains(ids, n, db) && contains(ids, n, cache) && !contains(ids, n, web), "tag:storage: %ld", n);
    n = discover_services("type:user", ids, 512);
    CHECK(n >= 1 && contains(ids, n, web) && !contains(ids, n, db), "type:user: %ld", n);
    n = discover_services("type:system", ids, 512);
    CHECK(n >= 4 && contains(ids, n, db) && !contains(ids, n, web), "type:system: %ld", n);
    EXPECT(discover_services("re:^data", ids, 512), 1);
    CHECK(ids[0] == (service_id_t)db, "re:^data gave %u", ids[0]);
    EXPECT(discover_services("meta:engine=memory", ids, 512), 1);
    EXPECT(discover_services("no-such-*", ids, 512), 0);
    EXPECT(discover_services("re:(", ids, 512), -DiscoveryError);
    EXPECT(discover_services("type:nosuchtype", ids, 512), -DiscoveryError);
    EXPECT(discover_services("nosuchkey:x", ids, 512), -DiscoveryError);
    // Too small a buffer: the whole count comes back, and only max ids are written.
    for (int i = 0; i < 8; i++)
        ids[i] = 0xdeadbeef;
    EXPECT(discover_services("*", ids, 2), all);
    CHECK(ids[0] != 0xdeadbeef && ids[1] != 0xdeadbeef && ids[2] == 0xdeadbeef, "wrote %x %x %x", ids[0], ids[1],
          ids[2]);
    EXPECT(discover_services("*", NULL, 0), all);
}

static void test_refusals(void) {
    EXPECT(start_service((service_id_t)db), -ServiceNotStopped);
    EXPECT(resume_service((service_id_t)db), -ServiceNotRunning);
    EXPECT(start_service(NONE), -ServiceNotFound);
    EXPECT(stop_service(NONE), -ServiceNotFound);
    EXPECT(restart_service(NONE), -ServiceNotFound);
    EXPECT(enable_service(NONE), -ServiceNotFound);
    EXPECT(disable_service(NONE), -ServiceNotFound);
    EXPECT(pause_service(NONE), -ServiceNotFound);
    EXPECT(resume_service(NONE), -ServiceNotFound);
    STATE_IS(db, SERVICE_RUNNING);
}

static void test_create(void) {
    long a = create_server("a", "--serve", NULL);
    CHECK(a > 0, "create a: %ld (%s)", a, service_error_name(a));
    EXPECT(id_of("a"), a);
    STATE_IS(a, SERVICE_STOPPED); // defined, not started
    struct service_status st = status_of(a);
    CHECK(st.type == SERVICE_TYPE_USER && strcmp(st.version, "0.1.0") == 0 && st.pid == 0, "type %u version %.32s",
          st.type, st.version);
    // The same name again.
    EXPECT(create_server("a", "--serve", NULL), -ServiceAlreadyExists);
    // JSON, requiring the first.
    long b = create(SERVICE_FORMAT_JSON,
                    "{\"service\": {\"name\": \"%s-b\", \"exec\": \"/bin/svctest\", \"args\": [\"--serve\"],"
                    " \"version\": \"1.2.3\", \"tags\": [\"svctest\", \"json\"], \"stop_timeout\": 1000,"
                    " \"dependencies\": {\"required\": [\"%s-a>=0.1\"]}}}",
                    prefix, prefix);
    CHECK(b > 0 && b != a, "create b: %ld (%s)", b, service_error_name(b));
    EXPECT(id_of("b"), b);
    CHECK(strcmp(status_of(b).version, "1.2.3") == 0, "b's version %.32s", status_of(b).version);
    service_id_t ids[8];
    EXPECT(discover_services("tag:json", ids, 8), 1);
    EXPECT(discover_services("tag:svctest", ids, 8), 2);
}

static void test_bad_definitions(void) {
    // Syntax: ConfigurationError.
    EXPECT(create(SERVICE_FORMAT_TOML, "[service\nname = \"%s-x\"\n", prefix), -ConfigurationError);
    EXPECT(create(SERVICE_FORMAT_TOML, "[service]\nname = \"%s-x\nexec = \"/bin/true\"\n", prefix),
           -ConfigurationError);
    EXPECT(create(SERVICE_FORMAT_JSON, "{\"service\": {\"name\": \"%s-x\",", prefix), -ConfigurationError);
    EXPECT(create(SERVICE_FORMAT_TOML, "[service]\nname = \"%s-\xff\xfe\"\nexec = \"/bin/true\"\n", prefix),
           -ConfigurationError); // not UTF-8
    // Fields: InvalidConfiguration.
    EXPECT(create_server("x", "--serve", "max_restarts = -1\n"), -InvalidConfiguration);
    EXPECT(create_server("x", "--serve", "no_such_field = 1\n"), -InvalidConfiguration);
    EXPECT(create_server("x", "--serve", "ready = \"whenever\"\n"), -InvalidConfiguration);
    EXPECT(create(SERVICE_FORMAT_TOML, "[service]\nname = \"%s-x\"\n", prefix), -InvalidConfiguration); // no exec
    EXPECT(create(SERVICE_FORMAT_TOML, "[service]\nname = \"bad name!\"\nexec = \"/bin/true\"\n"),
           -InvalidConfiguration);
    EXPECT(create(SERVICE_FORMAT_JSON, "{\"service\": {\"name\": 5, \"exec\": \"/bin/true\"}}"), -InvalidConfiguration);
    EXPECT(create(SERVICE_FORMAT_JSON, "[1, 2]"), -InvalidConfiguration);
    EXPECT(create(7, "[service]\nname = \"%s-x\"\nexec = \"/bin/true\"\n", prefix), -InvalidConfiguration);
    EXPECT(create_server("x", "--serve", "[service.dependencies]\nrequired = [\"database>=bogus\"]\n"),
           -InvalidConfiguration);
    static const char good[] = "[service]\nname = \"svctest-flags\"\nexec = \"/bin/true\"\n";
    struct service_create_params flagged = {good, sizeof good - 1, SERVICE_FORMAT_TOML, 1}; // flags must be 0
    EXPECT(create_service(&flagged), -InvalidConfiguration);
    // Nothing of them was defined.
    EXPECT(id_of("x"), -ServiceNotFound);
    // A length beyond what the manager reads.
    struct service_create_params p = {"[service]", 1ull << 40, SERVICE_FORMAT_TOML, 0};
    EXPECT(create_service(&p), -InvalidConfiguration);
}

static void test_lifecycle(void) {
    long a = id_of("a");
    EXPECT(stop_service((service_id_t)a), -ServiceNotRunning);
    EXPECT(pause_service((service_id_t)a), -ServiceNotRunning);
    EXPECT(start_service((service_id_t)a), 0);
    struct service_status st = status_of(a);
    CHECK(st.state == SERVICE_RUNNING && st.pid > 0, "state %s pid %ld", state_name(st.state), (long)st.pid);
    CHECK(st.health == SERVICE_HEALTH_HEALTHY, "health %u", st.health);
    long pid1 = st.pid;
    EXPECT(start_service((service_id_t)a), -ServiceNotStopped);
    EXPECT(restart_service((service_id_t)a), 0);
    st = status_of(a);
    CHECK(st.state == SERVICE_RUNNING && st.pid > 0 && st.pid != pid1, "state %s pid %ld (was %ld)",
          state_name(st.state), (long)st.pid, pid1);
    CHECK(proc_state(pid1) < 0, "old process %ld still there", pid1);
    EXPECT(stop_service((service_id_t)a), 0);
    st = status_of(a);
    CHECK(st.state == SERVICE_STOPPED && st.pid == 0, "state %s pid %ld", state_name(st.state), (long)st.pid);
    EXPECT(stop_service((service_id_t)a), -ServiceNotRunning);
    // restart of a stopped service starts it.
    EXPECT(restart_service((service_id_t)a), 0);
    STATE_IS(a, SERVICE_RUNNING);
    EXPECT(stop_service((service_id_t)a), 0);
}

static void test_dependencies(void) {
    long a = id_of("a"), b = id_of("b");
    // Starting b starts a first.
    EXPECT(start_service((service_id_t)b), 0);
    STATE_IS(a, SERVICE_RUNNING);
    STATE_IS(b, SERVICE_RUNNING);
    // Stopping a stops b first; starting a again brings b back.
    EXPECT(stop_service((service_id_t)a), 0);
    STATE_IS(b, SERVICE_STOPPED);
    EXPECT(start_service((service_id_t)a), 0);
    CHECK(wait_state(b, SERVICE_RUNNING), "b is %s", state_name(status_of(b).state));
    EXPECT(stop_service((service_id_t)b), 0);
    STATE_IS(a, SERVICE_RUNNING); // stopping a dependent leaves what it needs alone
    EXPECT(stop_service((service_id_t)a), 0);
}

static void test_enable_disable(void) {
    long a = id_of("a");
    EXPECT(disable_service((service_id_t)a), 0);
    struct service_status st = status_of(a);
    CHECK(st.state == SERVICE_DISABLED && st.enabled == 0, "state %s enabled %u", state_name(st.state), st.enabled);
    EXPECT(disable_service((service_id_t)a), 0); // again: no change
    // A disabled service can still be started by hand; stopped, it shows as disabled.
    EXPECT(start_service((service_id_t)a), 0);
    STATE_IS(a, SERVICE_RUNNING);
    EXPECT(stop_service((service_id_t)a), 0);
    STATE_IS(a, SERVICE_DISABLED);
    EXPECT(enable_service((service_id_t)a), 0);
    st = status_of(a);
    CHECK(st.state == SERVICE_STOPPED && st.enabled == 1, "state %s enabled %u", state_name(st.state), st.enabled);
    EXPECT(enable_service((service_id_t)a), 0);
    // Enabling a running service changes only the flag.
    EXPECT(enable_service((service_id_t)db), 0);
    STATE_IS(db, SERVICE_RUNNING);
}

static void test_pause_resume(void) {
    long a = id_of("a");
    EXPECT(resume_service((service_id_t)a), -ServiceNotRunning);
    EXPECT(start_service((service_id_t)a), 0);
    long pid = status_of(a).pid;
    EXPECT(pause_service((service_id_t)a), 0);
    STATE_IS(a, SERVICE_PAUSED);
    CHECK(proc_state(pid) == MOS_PROC_SUSPENDED, "process %ld is in state %ld", pid, proc_state(pid));
    EXPECT(pause_service((service_id_t)a), -ServiceNotRunning);
    EXPECT(start_service((service_id_t)a), -ServiceNotStopped);
    EXPECT(resume_service((service_id_t)a), 0);
    STATE_IS(a, SERVICE_RUNNING);
    CHECK(proc_state(pid) != MOS_PROC_SUSPENDED && proc_state(pid) >= 0, "process %ld is in state %ld", pid,
          proc_state(pid));
    EXPECT(resume_service((service_id_t)a), -ServiceNotRunning);
    // A paused service stops (its process is resumed to be told).
    EXPECT(pause_service((service_id_t)a), 0);
    EXPECT(stop_service((service_id_t)a), 0);
    STATE_IS(a, SERVICE_STOPPED);
}

static void test_failures(void) {
    // A program that exits with status 3 before it is ready.
    long f = create(SERVICE_FORMAT_TOML, "[service]\nname = \"%s-exit3\"\nexec = \"/bin/svctest\"\nargs = [\"--exit\", \"3\"]\n",
               prefix);
    CHECK(f > 0, "create: %ld (%s)", f, service_error_name(f));
    EXPECT(start_service((service_id_t)f), -ServiceFailed);
    struct service_status st = status_of(f);
    CHECK(st.state == SERVICE_FAILED && st.last_exit == 3 && st.pid == 0, "state %s last_exit %d",
          state_name(st.state), st.last_exit);
    CHECK(st.health == SERVICE_HEALTH_UNHEALTHY, "health %u", st.health);
    // A program that is not there.
    long g = create(SERVICE_FORMAT_TOML, "[service]\nname = \"%s-missing\"\nexec = \"/bin/no-such-program\"\n", prefix);
    CHECK(g > 0, "create: %ld (%s)", g, service_error_name(g));
    EXPECT(start_service((service_id_t)g), -ServiceFailed);
    STATE_IS(g, SERVICE_FAILED);
    // A program that never says it is ready.
    long h = create_server("silent", "--silent", "start_timeout = 300\n");
    CHECK(h > 0, "create: %ld (%s)", h, service_error_name(h));
    EXPECT(start_service((service_id_t)h), -ServiceTimeout);
    st = status_of(h);
    CHECK(st.state == SERVICE_FAILED && st.pid == 0, "state %s pid %ld", state_name(st.state), (long)st.pid);
    // One that fails each time, restarted until the restart intensity is used up.
    long k = create(SERVICE_FORMAT_TOML,
                    "[service]\nname = \"%s-crashy\"\nexec = \"/bin/svctest\"\nargs = [\"--exit\", \"4\"]\n"
                    "auto_restart = true\nmax_restarts = 2\n",
                    prefix);
    CHECK(k > 0, "create: %ld (%s)", k, service_error_name(k));
    EXPECT(start_service((service_id_t)k), -FaultToleranceError);
    st = status_of(k);
    CHECK(st.state == SERVICE_FAILED && st.restarts == 2 && st.last_exit == 4, "state %s restarts %u last_exit %d",
          state_name(st.state), st.restarts, st.last_exit);
    // A required dependency that is not defined.
    long c = create_server("needs-ghost", "--serve", "[service.dependencies]\nrequired = [\"svctest-ghost\"]\n");
    CHECK(c > 0, "create: %ld (%s)", c, service_error_name(c));
    EXPECT(start_service((service_id_t)c), -DependencyError);
    STATE_IS(c, SERVICE_FAILED);
    // One whose required dependency fails: DependencyError for it too.
    long d = create(SERVICE_FORMAT_TOML,
                    "[service]\nname = \"%s-needs-exit3\"\nexec = \"/bin/svctest\"\nargs = [\"--serve\"]\n"
                    "[service.dependencies]\nrequired = [\"%s-exit3\"]\n",
                    prefix, prefix);
    CHECK(d > 0, "create: %ld (%s)", d, service_error_name(d));
    long r = start_service((service_id_t)d);
    CHECK(r == -DependencyError || r == -ServiceFailed, "start: %ld (%s)", r, service_error_name(r));
    CHECK(status_of(d).state == SERVICE_FAILED, "state %s", state_name(status_of(d).state));
}

static void test_cycle(void) {
    char p[64];
    snprintf(p, sizeof p, "%s-cy", prefix);
    // p1 -> p2 -> p3 -> p1, closed by the last definition: refused, and not defined.
    long c1 = create(SERVICE_FORMAT_TOML,
                     "[service]\nname = \"%s1\"\nexec = \"/bin/true\"\n[service.dependencies]\nrequired = [\"%s2\"]\n", p, p);
    long c2 = create(SERVICE_FORMAT_TOML,
                     "[service]\nname = \"%s2\"\nexec = \"/bin/true\"\n[service.dependencies]\nrequired = [\"%s3\"]\n", p, p);
    CHECK(c1 > 0 && c2 > 0, "create: %ld %ld", c1, c2);
    EXPECT(create(SERVICE_FORMAT_TOML,
                  "[service]\nname = \"%s3\"\nexec = \"/bin/true\"\n[service.dependencies]\nrequired = [\"%s1\"]\n", p, p),
           -CircularDependency);
    char name[64];
    snprintf(name, sizeof name, "%s3", p);
    EXPECT(lookup_service(name), -ServiceNotFound);
    // A service that requires itself.
    EXPECT(create(SERVICE_FORMAT_TOML,
                  "[service]\nname = \"%sself\"\nexec = \"/bin/true\"\n[service.dependencies]\nrequired = [\"%sself\"]\n",
                  p, p),
           -CircularDependency);
    // An optional dependency may close a cycle (it does not order the start).
    long c3 = create(SERVICE_FORMAT_TOML,
                     "[service]\nname = \"%s3\"\nexec = \"/bin/true\"\n[service.dependencies]\noptional = [\"%s1\"]\n", p, p);
    CHECK(c3 > 0, "optional cycle: %ld (%s)", c3, service_error_name(c3));
}

// A service that faults: restarted (and what requires it restarted after it), until the
// restart intensity is used up; then it stays Failed and its dependent stays down.
static void test_fault_restart(void) {
    long f = create(SERVICE_FORMAT_TOML,
                    "[service]\nname = \"%s-faulty\"\nexec = \"/bin/svctest\"\nargs = [\"--fault-in\", \"300\"]\n"
                    "auto_restart = true\nmax_restarts = 1\nrestart_period = 60000\n",
                    prefix);
    long d = create(SERVICE_FORMAT_TOML,
                    "[service]\nname = \"%s-needs-faulty\"\nexec = \"/bin/svctest\"\nargs = [\"--serve\"]\n"
                    "stop_timeout = 1000\n[service.dependencies]\nrequired = [\"%s-faulty\"]\n",
                    prefix, prefix);
    CHECK(f > 0 && d > 0, "create: %ld %ld", f, d);
    EXPECT(start_service((service_id_t)d), 0);
    long fpid = status_of(f).pid, dpid = status_of(d).pid;
    CHECK(fpid > 0 && dpid > 0, "pids %ld %ld", fpid, dpid);
    // The first fault: restarted, then its dependent too.
    uint64_t until = (uint64_t)mos_clock_ns() + WAIT_MS * 1000000ull;
    struct service_status st;
    while ((st = status_of(f)).restarts < 1 && (uint64_t)mos_clock_ns() < until)
        mos_sleep_ns(5 * 1000000ull);
    CHECK(st.restarts == 1, "restarts %u", st.restarts);
    CHECK(st.last_exit == (MOS_STATUS_FAULT | 14), "last_exit %#x", st.last_exit);
    // The second fault uses up max_restarts: Failed for good.
    CHECK(wait_state(f, SERVICE_FAILED), "faulty is %s", state_name(status_of(f).state));
    st = status_of(f);
    CHECK(st.restarts == 1 && st.pid == 0 && st.last_exit == (MOS_STATUS_FAULT | 14), "restarts %u pid %ld exit %#x",
          st.restarts, (long)st.pid, st.last_exit);
    // In between, the dependent came back with a new process; now it is down.
    struct service_status ds = status_of(d);
    CHECK(ds.state == SERVICE_STOPPED && ds.pid == 0, "dependent %s pid %ld", state_name(ds.state), (long)ds.pid);
    CHECK(ds.restarts == 0, "dependent restarts %u (it was stopped, not failed)", ds.restarts);
    char req[160], reply[8192];
    snprintf(req, sizeof req, "{\"op\": \"logs\", \"name\": \"%s-needs-faulty\"}", prefix);
    long n = service_query(req, reply, sizeof reply - 1);
    if (n > 0 && n < (long)sizeof reply) {
        reply[n] = 0;
        unsigned spawns = 0;
        for (const char *p = reply; (p = strstr(p, "spawn: ")) != NULL; p++)
            spawns++;
        CHECK(spawns == 2, "the dependent was spawned %u times: %.600s", spawns, reply);
    }
}

static void test_notify_ready(void) {
    // This program is the shell's child, not a service.
    EXPECT(notify_ready(), -ServiceNotFound);
}

static void test_bad_pointers(void) {
    static const uintptr_t bad[] = {0, 0x10, 0xffff800000000000ul, 0x0000800000000000ul - 8};
    char buf[64];
    service_id_t ids[4];
    struct service_status st;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        void *p = (void *)bad[i];
        EXPECT(create_service(p), -InvalidConfiguration);
        struct service_create_params cp = {p, 16, SERVICE_FORMAT_TOML, 0};
        EXPECT(create_service(&cp), -InvalidConfiguration);
        EXPECT(mos_lookup_service(p), -InvalidConfiguration); // lookup_service's cache reads the name
        EXPECT(service_status((service_id_t)db, p), -InvalidConfiguration);
        EXPECT(discover_services(p, ids, 4), -InvalidConfiguration);
        EXPECT(discover_services("*", p, 4), -InvalidConfiguration);
        EXPECT(subscribe_services(p, SERVICE_EVENT_ALL), -InvalidConfiguration);
        EXPECT(service_query(p, buf, sizeof buf), -InvalidConfiguration);
        EXPECT(service_query("{\"op\": \"list\"}", p, sizeof buf), -InvalidConfiguration);
    }
    // The manager is fine afterwards.
    EXPECT(service_status((service_id_t)db, &st), 0);
}

static void test_query(void) {
    static char reply[4096];
    long n = service_query("{\"op\": \"lookup\", \"name\": \"database\"}", reply, sizeof reply - 1);
    CHECK(n > 0 && n < (long)sizeof reply, "lookup: %ld", n);
    if (n > 0 && n < (long)sizeof reply) {
        reply[n] = 0;
        char want[32];
        snprintf(want, sizeof want, "\"id\": %ld", db);
        CHECK(strstr(reply, want) != NULL, "reply %s", reply);
    }
    n = service_query("{\"op\": \"status\", \"name\": \"web-server\"}", reply, sizeof reply - 1);
    CHECK(n > 0 && n < (long)sizeof reply, "status: %ld", n);
    if (n > 0 && n < (long)sizeof reply) {
        reply[n] = 0;
        CHECK(strstr(reply, "\"required_by\"") && strstr(reply, "\"database>=2.0,<3\""), "reply %.300s", reply);
    }
    // Too small a buffer: the whole length comes back, max bytes are written.
    memset(reply, '#', 16);
    long full = service_query("{\"op\": \"list\"}", reply, 4);
    CHECK(full > 100, "list: %ld", full);
    CHECK(reply[0] == '{' && reply[4] == '#', "wrote %.8s", reply);
    // What is not a request is answered with the error, as JSON.
    n = service_query("not json", reply, sizeof reply - 1);
    CHECK(n > 0 && n < (long)sizeof reply, "not json: %ld", n);
    if (n > 0) {
        reply[n] = 0;
        CHECK(strstr(reply, "\"InvalidConfiguration\"") != NULL, "reply %s", reply);
    }
    n = service_query("{\"op\": \"no-such-op\"}", reply, sizeof reply - 1);
    if (n > 0) {
        reply[n] = 0;
        CHECK(strstr(reply, "\"InvalidConfiguration\"") != NULL, "reply %s", reply);
    }
    n = service_query("{\"op\": \"events\", \"handle\": 999999}", reply, sizeof reply - 1);
    if (n > 0) {
        reply[n] = 0;
        CHECK(strstr(reply, "\"InvalidServiceHandle\"") != NULL, "reply %s", reply);
    }
    n = service_query("{\"op\": \"status\", \"name\": \"no-such-service\"}", reply, sizeof reply - 1);
    if (n > 0) {
        reply[n] = 0;
        CHECK(strstr(reply, "\"ServiceNotFound\"") != NULL, "reply %s", reply);
    }
    // The svc command's request: a start that answers once the service is ready, quietly
    // (as systemctl start).
    char req[160];
    snprintf(req, sizeof req, "{\"op\": \"cli\", \"argv\": [\"start\", \"%s-a\"]}", prefix);
    n = service_query(req, reply, sizeof reply - 1);
    CHECK(n > 0 && n < (long)sizeof reply, "cli start: %ld", n);
    if (n > 0) {
        reply[n] = 0;
        CHECK(strstr(reply, "\"code\": 0") && strstr(reply, "\"text\": \"\""), "reply %s", reply);
    }
    STATE_IS(id_of("a"), SERVICE_RUNNING);
    snprintf(req, sizeof req, "{\"op\": \"stop\", \"name\": \"%s-a\"}", prefix);
    n = service_query(req, reply, sizeof reply - 1);
    if (n > 0) {
        reply[n] = 0;
        CHECK(strstr(reply, "\"state\": \"stopped\""), "reply %s", reply);
    }
    STATE_IS(id_of("a"), SERVICE_STOPPED);
}

static void test_subscribe(void) {
    long a = id_of("a");
    char pattern[64];
    snprintf(pattern, sizeof pattern, "%s-a", prefix);
    EXPECT(subscribe_services("re:(", SERVICE_EVENT_ALL), -DiscoveryError);
    EXPECT(subscribe_services("*", 0), -DiscoveryError);
    long h = subscribe_services(pattern, SERVICE_EVENT_STATE);
    CHECK(h >= 0, "subscribe: %ld (%s)", h, service_error_name(h));
    if (h < 0)
        return;
    EXPECT(start_service((service_id_t)a), 0);
    EXPECT(stop_service((service_id_t)a), 0);
    // starting, running, stopping, stopped: in order, for a only.
    static const unsigned want[] = {SERVICE_STARTING, SERVICE_RUNNING, SERVICE_STOPPING, SERVICE_STOPPED};
    uint64_t last_seq = 0;
    for (int i = 0; i < 4; i++) {
        struct service_event_msg ev;
        long r = service_next_event((int)h, &ev, 2000 * 1000000ull);
        CHECK(r == 0, "event %d: %ld", i, r);
        if (r != 0)
            break;
        CHECK(ev.event == SERVICE_EVENT_STATE && ev.id == (service_id_t)a && ev.state == want[i],
              "event %d: %u id %u state %s, want state %s", i, ev.event, ev.id, state_name(ev.state),
              state_name(want[i]));
        CHECK(ev.seq > last_seq, "seq %lu after %lu", (unsigned long)ev.seq, (unsigned long)last_seq);
        last_seq = ev.seq;
    }
    struct service_event_msg ev;
    long r = service_next_event((int)h, &ev, 100 * 1000000ull);
    CHECK(r == -MOS_ETIMEDOUT, "one event too many: %ld (event %u state %s)", r, ev.event, state_name(ev.state));
    mos_handle_close((int)h);
}

// The round trip of a service call: service_status of a running service.
static void test_roundtrip(void) {
    static uint64_t ns[ROUNDS];
    struct service_status st;
    for (int i = 0; i < ROUNDS; i++) {
        uint64_t t0 = (uint64_t)mos_clock_ns();
        long r = service_status((service_id_t)db, &st);
        ns[i] = (uint64_t)mos_clock_ns() - t0;
        if (r != 0) {
            CHECK(r == 0, "status: %ld", r);
            return;
        }
    }
    benchstat_sort(ns, ROUNDS);
    printf("svctest: BENCH service_status_roundtrip median %lu ns, p99 %lu ns, %d calls\n",
           (unsigned long)ns[ROUNDS / 2], (unsigned long)ns[benchstat_p99(ROUNDS)], ROUNDS);
}

static const struct {
    const char *name;
    void (*fn)(void);
} tests[] = {
    {"lookup", test_lookup},
    {"status", test_status},
    {"discover", test_discover},
    {"refusals", test_refusals},
    {"create", test_create},
    {"bad_definitions", test_bad_definitions},
    {"cycle", test_cycle},
    {"lifecycle", test_lifecycle},
    {"dependencies", test_dependencies},
    {"enable_disable", test_enable_disable},
    {"pause_resume", test_pause_resume},
    {"failures", test_failures},
    {"fault_restart", test_fault_restart},
    {"notify_ready", test_notify_ready},
    {"bad_pointers", test_bad_pointers},
    {"query", test_query},
    {"subscribe", test_subscribe},
    {"roundtrip", test_roundtrip},
};

// Service mode. The arguments after --serve name required dependencies, which must all be
// Running by the time this starts (the start order the 1,000-service test checks).
static int serve(int argc, char **argv, bool ready, bool quiet) {
    const char *name = getenv("SERVICE_NAME");
    name = name ? name : "?";
    if (!quiet)
        printf("svctest: serving %s (pid %ld)\n", name, mos_getpid());
    for (int i = 2; i < argc; i++) {
        struct service_status st;
        long id = lookup_service(argv[i]);
        long r = id < 0 ? id : service_status((service_id_t)id, &st);
        if (r < 0 || st.state != SERVICE_RUNNING) {
            printf("svctest: ORDER: %s started while %s is %s\n", name, argv[i],
                   r < 0 ? service_error_name(r) : state_name(st.state));
            return 3;
        }
    }
    if (ready) {
        long r = notify_ready();
        if (r < 0) {
            printf("svctest: notify_ready: %s\n", service_error_name(r));
            return 1;
        }
    }
    for (;;)
        mos_sleep_ns(1000 * 1000000ull);
}

// svctest --census PATTERN N: N services match PATTERN and all are Running (one line).
static int census(const char *pattern, long want) {
    enum { MAX = 8192 };
    static service_id_t ids[MAX];
    uint64_t t0 = (uint64_t)mos_clock_ns();
    long n = discover_services(pattern, ids, MAX);
    uint64_t t1 = (uint64_t)mos_clock_ns();
    if (n < 0 || n > MAX) {
        printf("svctest: census %s: discover_services: %ld (%s)\n", pattern, n, service_error_name(n));
        return 1;
    }
    long count[8] = {0}, errors = 0;
    for (long i = 0; i < n; i++) {
        struct service_status st;
        if (service_status(ids[i], &st) < 0 || st.id != ids[i])
            errors++;
        else
            count[st.state < 7 ? st.state : 7]++;
    }
    uint64_t t2 = (uint64_t)mos_clock_ns();
    struct mos_proc_info info;
    unsigned long manager_kib = 0;
    for (long i = 0; mos_proc_info(i, &info) == 0; i++)
        if (strcmp(info.name, "svcmgr") == 0)
            manager_kib = (unsigned long)(info.mem_bytes / 1024);
    printf("svctest: census %s: %ld services, %ld running, %ld starting, %ld failed, %ld other, %ld errors; "
           "discover %lu us, %ld status calls %lu us; svcmgr %lu KiB\n",
           pattern, n, count[SERVICE_RUNNING], count[SERVICE_STARTING], count[SERVICE_FAILED],
           n - count[SERVICE_RUNNING] - count[SERVICE_STARTING] - count[SERVICE_FAILED] - errors, errors,
           (unsigned long)((t1 - t0) / 1000), n, (unsigned long)((t2 - t1) / 1000), manager_kib);
    return n == want && count[SERVICE_RUNNING] == want ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--serve") == 0)
        return serve(argc, argv, true, false);
    if (argc > 1 && strcmp(argv[1], "--serve-quiet") == 0)
        return serve(argc, argv, true, true);
    if (argc > 1 && strcmp(argv[1], "--silent") == 0)
        return serve(argc, argv, false, false);
    if (argc > 2 && strcmp(argv[1], "--fault-in") == 0) { // ready, then a page fault after MS
        notify_ready();
        mos_sleep_ns((uint64_t)atol(argv[2]) * 1000000ull);
        volatile int *volatile nowhere = (volatile int *)16; // volatile: the compiler cannot see it is bad
        return *nowhere;
    }
    if (argc > 3 && strcmp(argv[1], "--census") == 0)
        return census(argv[2], atol(argv[3]));
    if (argc > 2 && strcmp(argv[1], "--exit") == 0)
        return atoi(argv[2]);
    snprintf(prefix, sizeof prefix, "svctest-%ld", mos_getpid());
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        current = tests[i].name;
        current_failed = 0;
        tests[i].fn();
        if (current_failed) {
            failed++;
        } else {
            passed++;
            printf("svctest: %s ok\n", current);
        }
    }
    printf("svctest: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
