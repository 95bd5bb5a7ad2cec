// The service API for C guest programs: the framework's calls under their own names, over the
// service system calls (syscalls.h), with a client-side cache for lookups.
#pragma once
#include <mos.h>
#include <multios/service_types.h>
#include <stddef.h>
#include <stdint.h>

long create_service(const struct service_create_params *params); // the new id
long start_service(service_id_t id);
long stop_service(service_id_t id);
long restart_service(service_id_t id);
long enable_service(service_id_t id);
long disable_service(service_id_t id);
long pause_service(service_id_t id);
long resume_service(service_id_t id);
long discover_services(const char *pattern, service_id_t *ids, size_t max); // count
long lookup_service(const char *name);                                     // the id
long service_status(service_id_t id, struct service_status *out);
long notify_ready(void);
long subscribe_services(const char *pattern, unsigned events); // a queue handle
// Read one event from a subscription: 0 and *event filled, or a negative error (the queue's
// errno when it fails: -MOS_ETIMEDOUT when nothing came within timeout_ns).
struct service_event_msg {
    unsigned event;      // enum service_event bit; 0 means "missed" events were dropped
    service_id_t id;
    unsigned state;      // enum service_state
    uint64_t seq;        // sequence number
    uint64_t missed;     // with event 0: how many
};
long service_next_event(int handle, struct service_event_msg *event, uint64_t timeout_ns);
long service_query(const char *request, char *reply, size_t max);

// The name of a ServiceError code ("ServiceNotFound"), or "unknown".
const char *service_error_name(long code);

// lookup_service results are cached for this long (ns); 0 turns the cache off.
extern uint64_t service_cache_ttl_ns;
// Forget every cached lookup (what an event subscription does when services change).
void service_cache_clear(void);
