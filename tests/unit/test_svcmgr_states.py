"""services/svcmgr/states.py: the whole transition table."""

import pytest

import states
from states import (STOPPED, STARTING, RUNNING, STOPPING, FAILED, DISABLED, PAUSED, START, STOP,
                    RESTART, PAUSE, RESUME)
from errors import ServiceError
from mos_consts import ServiceNotRunning, ServiceNotStopped, SERVICE_STATE_NAMES

S, T, R, P, F, D, Z = STOPPED, STARTING, RUNNING, STOPPING, FAILED, DISABLED, PAUSED
# Errors as tuples: their codes (3, 4) would read as states (STOPPING, FAILED).
NR, NS = ("error", ServiceNotRunning), ("error", ServiceNotStopped)

# Every operation in every state: the next state, or the error.
EXPECTED = {
    START:   {S: T, T: NS, R: NS, P: NS, F: T, D: T, Z: NS},
    STOP:    {S: NR, T: P, R: P, P: NR, F: NR, D: NR, Z: P},
    RESTART: {S: T, T: P, R: P, P: NR, F: T, D: T, Z: P},
    PAUSE:   {S: NR, T: NR, R: Z, P: NR, F: NR, D: NR, Z: NR},
    RESUME:  {S: NR, T: NR, R: NR, P: NR, F: NR, D: NR, Z: R},
}

# Every event: the states where it can happen and where it leads.
EVENTS = {
    states.READY: {T: R},
    states.EXITED: {T: F, R: F, Z: F},
    states.EXITED_OK: {T: F, R: S, Z: S},
    states.STOPPED_OK: {P: S},
    states.START_TIMEOUT: {T: F},
    states.DEP_LOST: {T: P, R: P, Z: P},
    states.DEP_FAILED: {T: F},
    states.AUTO_RESTART: {F: T},
}


def test_seven_states_from_the_header():
    assert len(states.STATES) == 7 == len(SERVICE_STATE_NAMES)
    assert [states.name(s) for s in states.STATES] == [
        "stopped", "starting", "running", "stopping", "failed", "disabled", "paused"]
    for s in states.STATES:
        assert states.from_name(states.name(s)) == s
    assert states.from_name("RUNNING") == R and states.from_name("bogus") is None


@pytest.mark.parametrize("op", list(EXPECTED))
@pytest.mark.parametrize("state", list(states.STATES))
def test_operation(op, state):
    want = EXPECTED[op][state]
    if type(want) is tuple:
        with pytest.raises(ServiceError) as ei:
            states.next_state(state, op, "web-server")
        assert ei.value.code == want[1]
        assert ei.value.message.startswith("web-server is %s" % states.name(state))
    else:
        assert states.next_state(state, op) == want


@pytest.mark.parametrize("event", list(EVENTS))
@pytest.mark.parametrize("state", list(states.STATES))
def test_event(event, state):
    assert states.next_state(state, event) == EVENTS[event].get(state)


def test_table_is_complete_and_disjoint():
    for op in states.OPERATIONS:
        for s in states.STATES:
            assert ((s, op) in states.TRANSITIONS) != ((s, op) in states.REFUSALS), (s, op)
    for key in states.TRANSITIONS:
        assert key[1] in states.OPERATIONS or key[1] in states.EVENTS
    assert len(states.TRANSITIONS) == sum(len(v) for v in EVENTS.values()) + sum(
        1 for op in EXPECTED for s in EXPECTED[op] if type(EXPECTED[op][s]) is not tuple)


def test_helpers():
    assert states.rest_state(True) == S and states.rest_state(False) == D
    assert [s for s in states.STATES if states.is_live(s)] == [T, R, P, Z]
    assert [s for s in states.STATES if states.is_down(s)] == [S, F, D]
