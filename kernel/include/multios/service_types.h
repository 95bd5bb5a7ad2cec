// The service API's types, shared by the kernel (which forwards service system calls),
// the service manager (Python, through the generated mos_consts) and guest programs (C,
// through <multios/service.h> and libmos). The calls themselves are in syscalls.h.
#pragma once
#include <stddef.h>
#include <stdint.h>

typedef uint32_t service_id_t;

// Errors of the service calls, numbered in the order of the framework's design: a service call
// returns -ServiceNotFound etc. (never a kernel errno).
enum service_error {
    ServiceNotFound = 1,       // no service with that id or name
    ServiceAlreadyExists = 2,  // a service of that name is defined already
    ServiceNotRunning = 3,     // the operation needs a running service
    ServiceNotStopped = 4,     // the operation needs a stopped service
    ConfigurationError = 5,    // the definition could not be read (syntax)
    DependencyError = 6,       // a required dependency is missing, failed or has a wrong version
    PermissionDenied = 7,      // the caller may not do this
    ResourceExhausted = 8,     // out of memory, processes or table space
    InvalidConfiguration = 9,  // the definition reads but a field is invalid (or a bad pointer)
    ServiceFailed = 10,        // the service failed to start or crashed
    DiscoveryError = 11,       // a bad discovery pattern or query
    LoadBalancerError = 12,    // no instance could be chosen
    FaultToleranceError = 13,  // the restart policy gave up
    InvalidServiceHandle = 14, // a bad id or subscription handle
    ServiceTimeout = 15,       // the service (or the service manager) did not answer in time
    HealthCheckFailed = 16,    // the health check failed
    CircularDependency = 17,   // the dependency graph has a cycle
};

// Lifecycle states.
enum service_state {
    SERVICE_STOPPED = 0,
    SERVICE_STARTING = 1,
    SERVICE_RUNNING = 2,
    SERVICE_STOPPING = 3,
    SERVICE_FAILED = 4,
    SERVICE_DISABLED = 5,
    SERVICE_PAUSED = 6,
};

// Service types.
enum service_type {
    SERVICE_TYPE_SYSTEM = 0,
    SERVICE_TYPE_USER = 1,
    SERVICE_TYPE_GROUP = 2,
    SERVICE_TYPE_MONITORING = 3,
    SERVICE_TYPE_LOAD_BALANCER = 4,
    SERVICE_TYPE_DISCOVERY = 5,
};

// Health as checks report it.
enum service_health {
    SERVICE_HEALTH_UNKNOWN = 0,
    SERVICE_HEALTH_HEALTHY = 1,
    SERVICE_HEALTH_DEGRADED = 2,
    SERVICE_HEALTH_UNHEALTHY = 3,
};

// Events a subscriber can ask for (bits).
enum service_event {
    SERVICE_EVENT_STATE = 1,   // any state change
    SERVICE_EVENT_CREATED = 2,
    SERVICE_EVENT_REMOVED = 4,
    SERVICE_EVENT_HEALTH = 8,
    SERVICE_EVENT_ALL = 15,
};

// Messages the kernel itself sends to the service manager's endpoint (sender 0), beside the
// forwarded service calls (whose tags are syscall numbers).
enum service_kernel_message {
    SERVICE_KMSG_CHILD_EXIT = 0x10000, // words[0] a child's pid, words[1] its wait status
    SERVICE_KMSG_OUTPUT = 0x10001,     // words[0] a child's pid, words[1] 1 stdout / 2 stderr,
                                       // words[2] bytes dropped before these; data, len: the bytes
};

enum service_definition_format {
    SERVICE_FORMAT_TOML = 0,
    SERVICE_FORMAT_JSON = 1,
};

/** A whole service definition, as TOML or JSON text. */
struct service_create_params {
    const char *definition;  // the text (need not be NUL-terminated)
    uint64_t definition_len; // bytes
    uint32_t format;         // enum service_definition_format
    uint32_t flags;          // zero
};

/** What service_status reports. */
struct service_status {
    service_id_t id;
    uint32_t state;      // enum service_state
    uint32_t type;       // enum service_type
    uint32_t health;     // enum service_health
    int64_t pid;         // main process, 0 when none
    uint32_t restarts;   // automatic restarts so far
    int32_t last_exit;   // last exit status (wait encoding), 0 if none
    uint64_t since_ns;   // clock_ns of the last state change
    uint32_t enabled;    // 1 when it starts at boot
    uint32_t reserved;   // zero
    char name[64];       // NUL-terminated
    char version[32];    // NUL-terminated
};
