# The seven lifecycle states and every transition between them, in one table.
#
# Operations come from people and programs (start, stop, ...); events come from the
# kernel and from svcmgr's own timers (ready, exited, ...). An operation that the table
# does not allow is refused with the seed's error; an event the table does not list
# cannot happen and is ignored by the manager.
#
# Decisions (like the Windows service control manager, whose vocabulary the seed uses;
# unlike systemd, where start and stop are idempotent):
# - start needs a stopped, failed or disabled service: starting a running, starting or
#   paused one is ServiceNotStopped.
# - stop needs a process: stopping a stopped, failed or disabled service, or one that is
#   stopping already, is ServiceNotRunning. Stopping a starting service aborts the start
#   (and cancels a pending automatic restart).
# - restart is stop-then-start for a live service and a plain start for a stopped one;
#   only a service that is stopping already refuses it.
# - pause needs Running; resume needs Paused (both ServiceNotRunning otherwise).
# - enable and disable are allowed in every state and change only whether the service
#   starts at boot; a stopped service shows as Disabled while it is disabled. A disabled
#   service can still be started by hand (as systemctl allows).
# - Failed is kept until the next start; a pending automatic restart shows as Starting.

from mos_consts import (
    SERVICE_STOPPED, SERVICE_STARTING, SERVICE_RUNNING, SERVICE_STOPPING,
    SERVICE_FAILED, SERVICE_DISABLED, SERVICE_PAUSED, SERVICE_STATE_NAMES,
    ServiceNotRunning, ServiceNotStopped,
)
from errors import ServiceError

STOPPED = SERVICE_STOPPED
STARTING = SERVICE_STARTING
RUNNING = SERVICE_RUNNING
STOPPING = SERVICE_STOPPING
FAILED = SERVICE_FAILED
DISABLED = SERVICE_DISABLED
PAUSED = SERVICE_PAUSED

STATES = (STOPPED, STARTING, RUNNING, STOPPING, FAILED, DISABLED, PAUSED)

# Operations.
START = "start"
STOP = "stop"
RESTART = "restart"
PAUSE = "pause"
RESUME = "resume"
OPERATIONS = (START, STOP, RESTART, PAUSE, RESUME)

# Events.
READY = "ready"            # it notified readiness, or its start check passed
EXITED = "exited"          # its process failed: a non-zero exit, a kill or a fault
EXITED_OK = "exited-ok"    # its process ended by itself with status 0
STOPPED_OK = "stopped"     # its process ended after a stop request or kill
START_TIMEOUT = "start-timeout"
DEP_LOST = "dep-lost"      # a required dependency stopped or failed
DEP_FAILED = "dep-failed"  # a required dependency will not come up (or not in time)
AUTO_RESTART = "auto-restart"
EVENTS = (READY, EXITED, EXITED_OK, STOPPED_OK, START_TIMEOUT, DEP_LOST, DEP_FAILED,
          AUTO_RESTART)

# (state, operation or event) -> next state. STOPPED as a target reads "STOPPED, or
# DISABLED when the service is disabled" (see rest_state()). restart of a live service
# goes to STOPPING and starts again once stopped.
TRANSITIONS = {
    (STOPPED, START): STARTING,
    (FAILED, START): STARTING,
    (DISABLED, START): STARTING,

    (STARTING, STOP): STOPPING,
    (RUNNING, STOP): STOPPING,
    (PAUSED, STOP): STOPPING,

    (STOPPED, RESTART): STARTING,
    (FAILED, RESTART): STARTING,
    (DISABLED, RESTART): STARTING,
    (STARTING, RESTART): STOPPING,
    (RUNNING, RESTART): STOPPING,
    (PAUSED, RESTART): STOPPING,

    (RUNNING, PAUSE): PAUSED,
    (PAUSED, RESUME): RUNNING,

    (STARTING, READY): RUNNING,
    (STARTING, EXITED): FAILED,
    (RUNNING, EXITED): FAILED,
    (PAUSED, EXITED): FAILED,
    (STARTING, EXITED_OK): FAILED,    # it never became ready
    (RUNNING, EXITED_OK): STOPPED,
    (PAUSED, EXITED_OK): STOPPED,
    (STOPPING, STOPPED_OK): STOPPED,
    (STARTING, START_TIMEOUT): FAILED,
    (STARTING, DEP_LOST): STOPPING,
    (RUNNING, DEP_LOST): STOPPING,
    (PAUSED, DEP_LOST): STOPPING,
    (STARTING, DEP_FAILED): FAILED,
    (FAILED, AUTO_RESTART): STARTING,
}

# (state, operation) -> error, for every pair the table above leaves out.
REFUSALS = {
    (STARTING, START): ServiceNotStopped,
    (RUNNING, START): ServiceNotStopped,
    (STOPPING, START): ServiceNotStopped,
    (PAUSED, START): ServiceNotStopped,

    (STOPPED, STOP): ServiceNotRunning,
    (STOPPING, STOP): ServiceNotRunning,
    (FAILED, STOP): ServiceNotRunning,
    (DISABLED, STOP): ServiceNotRunning,

    (STOPPING, RESTART): ServiceNotRunning,

    (STOPPED, PAUSE): ServiceNotRunning,
    (STARTING, PAUSE): ServiceNotRunning,
    (STOPPING, PAUSE): ServiceNotRunning,
    (FAILED, PAUSE): ServiceNotRunning,
    (DISABLED, PAUSE): ServiceNotRunning,
    (PAUSED, PAUSE): ServiceNotRunning,

    (STOPPED, RESUME): ServiceNotRunning,
    (STARTING, RESUME): ServiceNotRunning,
    (RUNNING, RESUME): ServiceNotRunning,
    (STOPPING, RESUME): ServiceNotRunning,
    (FAILED, RESUME): ServiceNotRunning,
    (DISABLED, RESUME): ServiceNotRunning,
}

# Why an operation is refused, in words ("web-server is running").
_REFUSAL_TEXT = {
    START: "%s is %s; stop it first or use restart",
    STOP: "%s is %s",
    RESTART: "%s is %s",
    PAUSE: "%s is %s; only a running service can be paused",
    RESUME: "%s is %s; only a paused service can be resumed",
}


def name(state):
    """'running' for SERVICE_RUNNING."""
    return SERVICE_STATE_NAMES[state][8:].lower()


_BY_NAME = {}
for _s in STATES:
    _BY_NAME[name(_s)] = _s


def from_name(text):
    """SERVICE_RUNNING for 'running' (None if unknown)."""
    return _BY_NAME.get(text.lower())


def next_state(state, action, service_name="the service"):
    """The state after an operation or event; ServiceError for a refused operation,
    None for an event that cannot happen in this state."""
    nxt = TRANSITIONS.get((state, action))
    if nxt is not None:
        return nxt
    code = REFUSALS.get((state, action))
    if code is not None:
        raise ServiceError(code, _REFUSAL_TEXT[action] % (service_name, name(state)))
    return None


def rest_state(enabled):
    """Where a service rests when it has no process and has not failed."""
    return STOPPED if enabled else DISABLED


def is_live(state):
    """Whether the service has (or is about to have) a process."""
    return state == STARTING or state == RUNNING or state == STOPPING or state == PAUSED


def is_down(state):
    return state == STOPPED or state == FAILED or state == DISABLED
