// The C service API: thin wrappers over the service system calls, plus a small cache of
// lookup_service answers (names rarely move; a TTL bounds how stale one can be).
#include <mos.h>
#include <multios/service.h>
#include <multios/syscalls.h>
#include <string.h>

enum { CACHE_SLOTS = 16, NAME_MAX = 64 };

uint64_t service_cache_ttl_ns = 1000000000ull; // 1 s

static struct {
    char name[NAME_MAX];
    long id;
    uint64_t until;
} cache[CACHE_SLOTS];
static unsigned next_slot;

void service_cache_clear(void) { memset(cache, 0, sizeof cache); }

long create_service(const struct service_create_params *params) { return mos_create_service(params); }
long start_service(service_id_t id) { return mos_start_service(id); }
long restart_service(service_id_t id) { return mos_restart_service(id); }
long enable_service(service_id_t id) { return mos_enable_service(id); }
long disable_service(service_id_t id) { return mos_disable_service(id); }
long pause_service(service_id_t id) { return mos_pause_service(id); }
long resume_service(service_id_t id) { return mos_resume_service(id); }
long discover_services(const char *pattern, service_id_t *ids, size_t max) {
    return mos_discover_services(pattern, ids, max);
}
long service_status(service_id_t id, struct service_status *out) { return mos_service_status(id, out); }
long notify_ready(void) { return mos_notify_ready(); }
long subscribe_services(const char *pattern, unsigned events) { return mos_subscribe_services(pattern, events); }
long service_query(const char *request, char *reply, size_t max) { return mos_service_query(request, reply, max); }

long stop_service(service_id_t id) {
    long r = mos_stop_service(id);
    service_cache_clear();
    return r;
}

long lookup_service(const char *name) {
    uint64_t now = (uint64_t)mos_clock_ns();
    size_t n = strlen(name);
    if (n < NAME_MAX && service_cache_ttl_ns)
        for (unsigned i = 0; i < CACHE_SLOTS; i++)
            if (cache[i].until > now && strcmp(cache[i].name, name) == 0)
                return cache[i].id;
    long id = mos_lookup_service(name);
    if (id >= 0 && n < NAME_MAX && service_cache_ttl_ns) {
        unsigned i = next_slot++ % CACHE_SLOTS;
        memcpy(cache[i].name, name, n + 1);
        cache[i].id = id;
        cache[i].until = now + service_cache_ttl_ns;
    }
    return id;
}

long service_next_event(int handle, struct service_event_msg *event, uint64_t timeout_ns) {
    struct mos_msg m;
    long r = mos_queue_recv(handle, &m, timeout_ns);
    if (r < 0)
        return r;
    memset(event, 0, sizeof *event);
    event->event = m.tag;
    if (m.tag == 0) {
        event->missed = m.words[0];
    } else {
        event->id = (service_id_t)m.words[0];
        event->state = (unsigned)m.words[1];
        event->seq = m.words[2];
    }
    if (m.tag & (SERVICE_EVENT_CREATED | SERVICE_EVENT_REMOVED) || m.tag == 0)
        service_cache_clear(); // names may now mean other services
    return 0;
}

// FIXME: generate this table from service_types.h (gensyscalls knows the names).
const char *service_error_name(long code) {
    static const char *const names[] = {
        "", "ServiceNotFound", "ServiceAlreadyExists", "ServiceNotRunning", "ServiceNotStopped",
        "ConfigurationError", "DependencyError", "PermissionDenied", "ResourceExhausted",
        "InvalidConfiguration", "ServiceFailed", "DiscoveryError", "LoadBalancerError",
        "FaultToleranceError", "InvalidServiceHandle", "ServiceTimeout", "HealthCheckFailed",
        "CircularDependency",
    };
    if (code < 0)
        code = -code;
    return code >= 1 && code <= CircularDependency ? names[code] : "unknown";
}
