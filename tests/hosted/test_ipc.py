"""kernel/ipc/*.c on the host: endpoints, notifications, queues, shared memory, semaphores,
handle grants, and what a dying server or caller leaves behind.

The kernel sources run against tests/hosted/fakes/sim_ipc.c, a deterministic scheduler (one
simulated thread runs at a time, time moves only when everyone waits), with the real handle
table (kernel/proc/handle.c) and the generated syscall dispatcher. Every test ends by tearing
down its processes and checking that no object, frame or interrupts-off section leaked.
"""
import os
import random
import re

import pytest

import hostlib

ROOT = hostlib.ROOT
GEN = os.path.join(ROOT, "build", "gen")
SOURCES = ["kernel/ipc/" + f for f in sorted(os.listdir(os.path.join(ROOT, "kernel", "ipc")))
           if f.endswith(".c") and f != "ipc_ktest.c"]
SOURCES += ["kernel/proc/handle.c", "kernel/syscall_fallback.c", "build/gen/syscall_dispatch.c",
            "tests/hosted/fakes/sim_ipc.c"]


def _cdef():
    if not os.path.exists(os.path.join(GEN, "syscall_dispatch.c")):  # no ./multios build yet
        import sys
        sys.path.insert(0, os.path.join(ROOT, "tools"))
        import gensyscalls
        gensyscalls.generate(os.path.join(ROOT, "kernel/include/multios/syscalls.h"), GEN,
                             include_dir=os.path.join(ROOT, "kernel/include"))
    text = open(os.path.join(GEN, "syscalls_cdef.h")).read()
    sim = open(os.path.join(hostlib.FAKES, "sim_ipc.h")).read()
    return text + "\nstruct process;\n" + re.sub(r"^#pragma once$", "", sim, flags=re.M)


@pytest.fixture(scope="module")
def lib():
    cdef = _cdef()
    return hostlib.build("ipc", SOURCES, cdef)


class Sim:
    """Processes, threads running one system call each, and the run loop."""

    def __init__(self, ffi, lib):
        self.ffi, self.lib = ffi, lib
        self.pids = []
        lib.sim_reset()

    # --- processes and threads ---
    def proc(self, pid):
        assert self.lib.sim_proc_new(pid) != self.ffi.NULL
        self.pids.append(pid)
        return pid

    def _arg(self, a):
        if isinstance(a, self.ffi.CData):
            return int(self.ffi.cast("uintptr_t", a))
        return a & 0xFFFFFFFFFFFFFFFF

    def spawn(self, pid, name, *args):
        op = self.ffi.new("struct sim_op *")
        op.kind = self.lib.SIM_SYSCALL
        op.nr = getattr(self.lib, "SYS_" + name)
        for i, a in enumerate(args):
            op.a[i] = self._arg(a)
        tid = self.lib.sim_spawn(pid, op)
        assert tid >= 0
        return tid

    def spawn_op(self, pid, kind, *args):
        op = self.ffi.new("struct sim_op *")
        op.kind = kind
        for i, a in enumerate(args):
            op.a[i] = self._arg(a)
        tid = self.lib.sim_spawn(pid, op)
        assert tid >= 0
        return tid

    def run(self):
        assert self.lib.sim_run() == 0, "livelock: threads kept running"

    def result(self, tid):
        out = self.ffi.new("long *")
        return out[0] if self.lib.sim_thread_done(tid, out) else None

    def blocked(self, tid):
        return self.result(tid) is None

    def call(self, pid, name, *args):
        tid = self.spawn(pid, name, *args)
        self.run()
        r = self.result(tid)
        assert r is not None, f"{name} blocked"
        return r

    def kill(self, pid):
        self.lib.sim_kill(pid)
        self.run()

    def exit(self, pid):
        tid = self.spawn_op(pid, self.lib.SIM_EXIT)
        self.run()
        assert self.result(tid) == 0
        self.pids.remove(pid)

    def stats(self):
        s = self.ffi.new("struct sim_stats *")
        self.lib.sim_stats(s)
        return s

    # --- messages ---
    def msg(self, tag=0, data=b"", words=(), length=None):
        m = self.ffi.new("struct mos_msg *")
        m.tag = tag
        m.len = len(data) if length is None else length
        m.data[0:len(data)] = data
        for i, w in enumerate(words):
            m.words[i] = w
        return m

    def data(self, m):
        return bytes(self.ffi.buffer(m.data, m.len))

    def grant(self, pid, h, to):
        g = self.call(pid, "handle_grant", h, to)
        assert g >= 0, g
        return g


@pytest.fixture
def sim(lib):
    ffi, l = lib
    s = Sim(ffi, l)
    yield s
    # Tear everything down the way the kernel would, then look for leaks.
    for pid in list(s.pids):
        l.sim_kill(pid)
    s.run()
    for pid in list(s.pids):
        s.exit(pid)
    st = s.stats()
    assert st.violations == 0, "wq_wait called with interrupts on"
    assert st.irq_left_off == 0, "a system call returned with interrupts off"
    assert st.panics == 0
    assert st.bad_frees == 0, "a frame was freed twice"
    assert st.kmalloc_live == 0, "kernel heap objects leaked"
    assert st.frames_in_use == 0, "frames leaked"


E = None  # filled below from the generated constants


@pytest.fixture(autouse=True)
def _errnos(lib):
    global E
    ffi, l = lib

    class Errors:
        def __getattr__(self, name):
            return -getattr(l, "MOS_" + name)

    E = Errors()


def server_and_client(sim, server=1, client=2):
    sim.proc(server)
    sim.proc(client)
    h = sim.call(server, "endpoint_create")
    assert h >= 0
    return h, sim.grant(server, h, client)


# --- endpoints --------------------------------------------------------------------------------


def test_call_recv_reply_round_trip(sim):
    h, g = server_and_client(sim)
    req, inbox = sim.msg(tag=7, data=b"hello", words=(1, 2, 3, 4)), sim.msg()
    reply, answer = sim.msg(), sim.msg(tag=8, data=b"world!", words=(42,))
    server = sim.spawn(1, "ipc_recv", h, inbox)
    sim.run()
    assert sim.blocked(server)
    client = sim.spawn(2, "ipc_call", g, req, reply)
    sim.run()
    token = sim.result(server)
    assert token > 0
    assert (inbox.tag, inbox.len, inbox.sender, list(inbox.words)) == (7, 5, 2, [1, 2, 3, 4])
    assert sim.data(inbox) == b"hello"
    assert sim.blocked(client), "the caller waits for the reply"
    assert sim.call(1, "ipc_reply", token, answer) == 0
    assert sim.result(client) == 0
    assert (reply.tag, reply.sender, reply.words[0], sim.data(reply)) == (8, 1, 42, b"world!")


def test_call_before_recv_is_queued(sim):
    h, g = server_and_client(sim)
    reply, inbox = sim.msg(), sim.msg()
    client = sim.spawn(2, "ipc_call", g, sim.msg(tag=3), reply)
    sim.run()
    assert sim.blocked(client)
    token = sim.call(1, "ipc_recv", h, inbox)
    assert token > 0 and inbox.tag == 3 and inbox.sender == 2
    assert sim.call(1, "ipc_reply", token, sim.msg(tag=4)) == 0
    assert sim.result(client) == 0 and reply.tag == 4


def test_fast_path_hands_the_call_to_the_waiting_server(sim):
    h, g = server_and_client(sim)
    inbox = sim.msg()
    server = sim.spawn(1, "ipc_recv", h, inbox)
    sim.run()
    before = sim.stats().switches
    client = sim.spawn(2, "ipc_call", g, sim.msg(tag=9), sim.msg())
    sim.run()
    # The caller ran once (and blocked), then the server once: no other round trip.
    assert sim.stats().switches - before == 2
    assert sim.result(server) > 0 and inbox.tag == 9
    assert sim.blocked(client)
    sim.call(1, "ipc_reply", sim.result(server), sim.msg())


def test_many_callers_are_served_in_order(sim):
    sim.proc(1)
    h = sim.call(1, "endpoint_create")
    clients, replies = {}, {}
    for pid in range(2, 12):
        sim.proc(pid)
        g = sim.grant(1, h, pid)
        replies[pid] = sim.msg()
        clients[pid] = sim.spawn(pid, "ipc_call", g, sim.msg(tag=pid), replies[pid])
        sim.run()
    tokens = []
    for pid in range(2, 12):
        inbox = sim.msg()
        tokens.append(sim.call(1, "ipc_recv", h, inbox))
        assert (inbox.tag, inbox.sender) == (pid, pid)
    assert len(set(tokens)) == 10
    for pid, token in reversed(list(zip(range(2, 12), tokens))):
        assert sim.call(1, "ipc_reply", token, sim.msg(words=(pid * 100,))) == 0
        assert sim.result(clients[pid]) == 0
        assert replies[pid].words[0] == pid * 100
        assert all(sim.blocked(clients[p]) for p in range(2, pid))


def test_only_the_used_part_of_a_message_is_copied(sim):
    h, g = server_and_client(sim)
    buf = sim.ffi.new("char[1024]")
    req = sim.ffi.cast("struct mos_msg *", buf)
    req.tag, req.len = 5, 4
    req.data[0:4] = b"abcd"
    sim.lib.sim_set_fault(buf + 48 + 4, 1024 - 52)  # anything past the 4 bytes faults
    reply = sim.msg()
    before = sim.stats().copied_in
    client = sim.spawn(2, "ipc_call", g, req, reply)
    sim.run()
    assert sim.stats().copied_in - before == 52
    sim.lib.sim_set_fault(sim.ffi.NULL, 0)
    inbox = sim.msg()
    out_before = sim.stats().copied_out
    token = sim.call(1, "ipc_recv", h, inbox)
    assert sim.stats().copied_out - out_before == 52
    assert sim.data(inbox) == b"abcd"
    sim.call(1, "ipc_reply", token, sim.msg(data=b"x" * 208))
    assert sim.result(client) == 0 and sim.data(reply) == b"x" * 208


def test_too_long_messages_are_refused(sim):
    h, g = server_and_client(sim)
    assert sim.call(2, "ipc_call", g, sim.msg(length=209), sim.msg()) == E.EINVAL
    client = sim.spawn(2, "ipc_call", g, sim.msg(length=208), sim.msg())
    token = sim.call(1, "ipc_recv", h, sim.msg())
    assert sim.call(1, "ipc_reply", token, sim.msg(length=1000)) == E.EINVAL
    assert sim.blocked(client), "a refused reply leaves the call pending"
    assert sim.call(1, "ipc_reply", token, sim.msg()) == 0
    assert sim.result(client) == 0


def test_stale_and_unknown_tokens(sim):
    h, g = server_and_client(sim)
    sim.spawn(2, "ipc_call", g, sim.msg(), sim.msg())
    token = sim.call(1, "ipc_recv", h, sim.msg())
    assert sim.call(1, "ipc_reply", token, sim.msg()) == 0
    assert sim.call(1, "ipc_reply", token, sim.msg()) == E.EINVAL
    for bad in (0, -1, token + 1, 1 << 62):
        assert sim.call(1, "ipc_reply", bad, sim.msg()) == E.EINVAL


def test_only_the_server_receives_and_replies(sim):
    h, g = server_and_client(sim)
    sim.proc(3)
    g3 = sim.grant(1, h, 3)
    assert sim.call(2, "ipc_recv", g, sim.msg()) == E.EPERM
    client = sim.spawn(3, "ipc_call", g3, sim.msg(), sim.msg())
    token = sim.call(1, "ipc_recv", h, sim.msg())
    assert sim.call(2, "ipc_reply", token, sim.msg()) == E.EINVAL, "a guessed token is no use"
    assert sim.blocked(client)
    assert sim.call(1, "ipc_reply", token, sim.msg()) == 0
    assert sim.result(client) == 0


def test_server_death_fails_queued_and_in_flight_callers(sim):
    h, g = server_and_client(sim)
    callers = {}
    for pid in (2, 3, 4):
        if pid != 2:
            sim.proc(pid)
            gp = sim.grant(1, h, pid)
        else:
            gp = g
        callers[pid] = sim.spawn(pid, "ipc_call", gp, sim.msg(tag=pid), sim.msg())
        sim.run()
    assert sim.call(1, "ipc_recv", h, sim.msg()) > 0  # 2 is in flight, 3 and 4 queued
    assert all(sim.blocked(t) for t in callers.values())
    sim.kill(1)
    sim.exit(1)
    assert {pid: sim.result(t) for pid, t in callers.items()} == {2: E.EPIPE, 3: E.EPIPE, 4: E.EPIPE}
    assert sim.call(3, "ipc_call", 0, sim.msg(), sim.msg()) == E.EPIPE


def test_server_closing_its_last_handle_fails_callers(sim):
    h, g = server_and_client(sim)
    h2 = sim.grant(1, h, 1)  # a second handle of its own
    client = sim.spawn(2, "ipc_call", g, sim.msg(), sim.msg())
    sim.run()
    assert sim.call(1, "handle_close", h) == 0
    assert sim.blocked(client), "the server still holds the endpoint"
    assert sim.call(1, "handle_close", h2) == 0
    assert sim.result(client) == E.EPIPE
    assert sim.call(2, "ipc_call", g, sim.msg(), sim.msg()) == E.EPIPE


def test_a_queued_caller_that_dies_is_dropped(sim):
    h, g = server_and_client(sim)
    sim.proc(3)
    g3 = sim.grant(1, h, 3)
    dying = sim.spawn(2, "ipc_call", g, sim.msg(tag=2), sim.msg())
    sim.run()
    other = sim.spawn(3, "ipc_call", g3, sim.msg(tag=3), sim.msg())
    sim.run()
    sim.kill(2)
    assert sim.result(dying) == E.EINTR
    sim.exit(2)
    inbox = sim.msg()
    token = sim.call(1, "ipc_recv", h, inbox)
    assert inbox.sender == 3
    sim.call(1, "ipc_reply", token, sim.msg())
    assert sim.result(other) == 0


def test_a_caller_that_dies_in_flight_makes_its_token_stale(sim):
    h, g = server_and_client(sim)
    client = sim.spawn(2, "ipc_call", g, sim.msg(), sim.msg())
    token = sim.call(1, "ipc_recv", h, sim.msg())
    sim.kill(2)
    assert sim.result(client) == E.EINTR
    sim.exit(2)
    assert sim.call(1, "ipc_reply", token, sim.msg()) == E.ESRCH
    assert sim.call(1, "ipc_reply", token, sim.msg()) == E.EINVAL


def test_a_caller_that_dies_before_the_server_takes_its_call(sim):
    h, g = server_and_client(sim)
    sim.proc(3)
    g3 = sim.grant(1, h, 3)
    inbox = sim.msg()
    server = sim.spawn(1, "ipc_recv", h, inbox)
    sim.run()
    client = sim.spawn(2, "ipc_call", g, sim.msg(tag=2), sim.msg())
    assert sim.lib.sim_step_thread(client)  # hands the call to the server thread and blocks
    sim.lib.sim_kill(2)
    assert sim.lib.sim_step_thread(client)  # runs before the server does
    assert sim.result(client) == E.EINTR
    sim.run()
    assert sim.blocked(server), "the server found nothing and waits again"
    sim.exit(2)
    other = sim.spawn(3, "ipc_call", g3, sim.msg(tag=3), sim.msg())
    sim.run()
    assert sim.result(server) > 0 and inbox.tag == 3
    sim.call(1, "ipc_reply", sim.result(server), sim.msg())
    assert sim.result(other) == 0


def test_endpoint_closed_while_a_call_is_handed_over(sim):
    h, g = server_and_client(sim)
    server = sim.spawn(1, "ipc_recv", h, sim.msg())
    sim.run()
    client = sim.spawn(2, "ipc_call", g, sim.msg(), sim.msg())
    assert sim.lib.sim_step_thread(client)
    closer = sim.spawn(1, "handle_close", h)  # another thread of the server
    assert sim.lib.sim_step_thread(closer)
    assert sim.result(closer) == 0
    sim.run()
    assert sim.result(client) == E.EPIPE
    assert sim.result(server) == E.EINTR


def test_an_unanswered_dead_call_is_freed_with_the_server(sim):
    h, g = server_and_client(sim)
    sim.spawn(2, "ipc_call", g, sim.msg(), sim.msg())
    assert sim.call(1, "ipc_recv", h, sim.msg()) > 0
    sim.kill(2)
    sim.exit(2)
    # The fixture's teardown checks that the stand-in for the dead call was freed.


def test_a_bad_receive_buffer_leaves_the_call_queued(sim):
    h, g = server_and_client(sim)
    client = sim.spawn(2, "ipc_call", g, sim.msg(tag=11), sim.msg())
    sim.run()
    assert sim.call(1, "ipc_recv", h, sim.ffi.NULL) == E.EFAULT
    bad = sim.ffi.new("char[256]")
    sim.lib.sim_set_fault(bad, 256)
    assert sim.call(1, "ipc_recv", h, sim.ffi.cast("struct mos_msg *", bad)) == E.EFAULT
    sim.lib.sim_set_fault(sim.ffi.NULL, 0)
    inbox = sim.msg()
    token = sim.call(1, "ipc_recv", h, inbox)
    assert inbox.tag == 11
    sim.call(1, "ipc_reply", token, sim.msg())
    assert sim.result(client) == 0


def test_bad_call_pointers(sim):
    h, g = server_and_client(sim)
    assert sim.call(2, "ipc_call", g, sim.ffi.NULL, sim.msg()) == E.EFAULT
    assert sim.call(2, "ipc_call", g, sim.msg(), sim.ffi.NULL) == E.EFAULT
    assert sim.call(2, "ipc_call", g, sim.msg(), 0xFFFF800000000000) == E.EFAULT
    server = sim.spawn(1, "ipc_recv", h, sim.msg())
    sim.run()
    assert sim.blocked(server), "refused calls never reach the server"
    # A reply buffer that faults only when written: the call happens, the copy-out fails.
    bad = sim.ffi.new("char[256]")
    sim.lib.sim_set_fault(bad, 256)
    client = sim.spawn(2, "ipc_call", g, sim.msg(), sim.ffi.cast("struct mos_msg *", bad))
    sim.run()
    token = sim.result(server)
    assert sim.call(1, "ipc_reply", token, sim.ffi.NULL) == E.EFAULT
    assert sim.blocked(client), "a reply that could not be read leaves the call pending"
    assert sim.call(1, "ipc_reply", token, sim.msg()) == 0
    assert sim.result(client) == E.EFAULT


def test_kernel_call_on_behalf_of_a_process(sim):
    h, g = server_and_client(sim)
    m = sim.msg(tag=21, data=b"svc")
    kcall = sim.spawn_op(2, sim.lib.SIM_KCALL, g, m)
    inbox = sim.msg()
    token = sim.call(1, "ipc_recv", h, inbox)
    assert (inbox.tag, inbox.sender, sim.data(inbox)) == (21, 2, b"svc")
    sim.call(1, "ipc_reply", token, sim.msg(tag=22, data=b"ok"))
    assert sim.result(kcall) == 0
    assert (m.tag, m.sender, sim.data(m)) == (22, 1, b"ok")
    con = sim.lib.sim_install_console(2)
    wrong = sim.spawn_op(2, sim.lib.SIM_KCALL, con, m)
    sim.run()
    assert sim.result(wrong) == E.EBADF
    long = sim.msg(length=209)
    too_long = sim.spawn_op(2, sim.lib.SIM_KCALL, g, long)
    sim.run()
    assert sim.result(too_long) == E.EINVAL


def test_a_receiving_server_that_is_killed_returns(sim):
    h, _ = server_and_client(sim)
    server = sim.spawn(1, "ipc_recv", h, sim.msg())
    sim.run()
    sim.kill(1)
    assert sim.result(server) == E.EINTR


# --- notifications ----------------------------------------------------------------------------


def test_notification_bits_accumulate(sim):
    h, g = server_and_client(sim)
    bits = sim.ffi.new("uint64_t *")
    assert sim.call(1, "notify_wait", h, bits, 0) == E.EAGAIN
    assert sim.call(2, "notify", g, 1) == 0
    assert sim.call(2, "notify", g, 4) == 0
    assert sim.call(2, "notify", g, 0) == 0
    assert sim.call(1, "notify_wait", h, bits, 0) == 0 and bits[0] == 5
    assert sim.call(1, "notify_wait", h, bits, 0) == E.EAGAIN


def test_notify_wakes_the_waiter(sim):
    h, g = server_and_client(sim)
    bits = sim.ffi.new("uint64_t *")
    waiter = sim.spawn(1, "notify_wait", h, bits, -1)
    sim.run()
    assert sim.blocked(waiter)
    assert sim.call(2, "notify", g, 1 << 63) == 0
    assert sim.result(waiter) == 0 and bits[0] == 1 << 63


def test_notify_wait_times_out(sim):
    h, _ = server_and_client(sim)
    start = sim.lib.sim_clock()
    assert sim.call(1, "notify_wait", h, sim.ffi.new("uint64_t *"), 5000) == E.ETIMEDOUT
    assert sim.lib.sim_clock() - start >= 5000


def test_notifications_after_the_server_is_gone(sim):
    h, g = server_and_client(sim)
    bits = sim.ffi.new("uint64_t *")
    assert sim.call(1, "notify", h, 2) == 0
    sim.exit(1)
    assert sim.call(2, "notify_wait", g, bits, -1) == 0 and bits[0] == 2, "pending bits still arrive"
    assert sim.call(2, "notify_wait", g, bits, -1) == E.EPIPE
    assert sim.call(2, "notify", g, 1) == E.EPIPE


def test_a_notify_waiter_hears_of_the_server_dying(sim):
    h, g = server_and_client(sim)
    waiter = sim.spawn(2, "notify_wait", g, sim.ffi.new("uint64_t *"), -1)
    sim.run()
    sim.kill(1)
    sim.exit(1)
    assert sim.result(waiter) == E.EPIPE


def test_notify_wait_bad_pointer_keeps_the_bits(sim):
    h, _ = server_and_client(sim)
    sim.call(1, "notify", h, 8)
    assert sim.call(1, "notify_wait", h, sim.ffi.NULL, 0) == E.EFAULT
    bad = sim.ffi.new("uint64_t *")
    sim.lib.sim_set_fault(bad, 8)
    assert sim.call(1, "notify_wait", h, bad, 0) == E.EFAULT
    sim.lib.sim_set_fault(sim.ffi.NULL, 0)
    bits = sim.ffi.new("uint64_t *")
    assert sim.call(1, "notify_wait", h, bits, 0) == 0 and bits[0] == 8


# --- queues -----------------------------------------------------------------------------------


def make_queue(sim, depth, pid=1):
    q = sim.call(pid, "queue_create", depth)
    assert q >= 0
    return q


def test_queue_is_fifo_and_stamps_the_sender(sim):
    sim.proc(1)
    q = make_queue(sim, 4)
    for i in range(3):
        assert sim.call(1, "queue_send", q, sim.msg(tag=i, data=bytes([i]) * i), 0) == 0
    for i in range(3):
        m = sim.msg()
        assert sim.call(1, "queue_recv", q, m, 0) == 0
        assert (m.tag, m.sender, sim.data(m)) == (i, 1, bytes([i]) * i)
    assert sim.call(1, "queue_recv", q, sim.msg(), 0) == E.EAGAIN


def test_queue_full_polls_times_out_and_blocks(sim):
    sim.proc(1)
    sim.proc(2)
    q = make_queue(sim, 2)
    g = sim.grant(1, q, 2)
    assert sim.call(1, "queue_send", q, sim.msg(tag=1), 0) == 0
    assert sim.call(1, "queue_send", q, sim.msg(tag=2), 0) == 0
    assert sim.call(1, "queue_send", q, sim.msg(tag=9), 0) == E.EAGAIN
    start = sim.lib.sim_clock()
    assert sim.call(1, "queue_send", q, sim.msg(tag=9), 700) == E.ETIMEDOUT
    assert sim.lib.sim_clock() - start >= 700
    sender = sim.spawn(1, "queue_send", q, sim.msg(tag=3), -1)
    sim.run()
    assert sim.blocked(sender)
    tags = []
    for _ in range(3):
        m = sim.msg()
        assert sim.call(2, "queue_recv", g, m, 0) == 0
        tags.append(m.tag)
    assert tags == [1, 2, 3]
    assert sim.result(sender) == 0


def test_queue_empty_polls_times_out_and_blocks(sim):
    sim.proc(1)
    q = make_queue(sim, 1)
    m = sim.msg()
    assert sim.call(1, "queue_recv", q, m, 0) == E.EAGAIN
    assert sim.call(1, "queue_recv", q, m, 300) == E.ETIMEDOUT
    receivers = [sim.spawn(1, "queue_recv", q, sim.msg(), -1) for _ in range(2)]
    sim.run()
    assert sim.call(1, "queue_send", q, sim.msg(tag=5), 0) == 0
    assert sim.result(receivers[0]) == 0 and sim.blocked(receivers[1])
    assert sim.call(1, "queue_send", q, sim.msg(tag=6), 0) == 0
    assert sim.result(receivers[1]) == 0


def test_queue_depth_limits(sim):
    sim.proc(1)
    assert sim.call(1, "queue_create", 0) == E.EINVAL
    assert sim.call(1, "queue_create", sim.lib.MOS_QUEUE_DEPTH_MAX + 1) == E.EINVAL
    assert sim.call(1, "queue_create", 0xFFFFFFFF) == E.EINVAL
    q = make_queue(sim, sim.lib.MOS_QUEUE_DEPTH_MAX)
    for i in range(sim.lib.MOS_QUEUE_DEPTH_MAX):
        assert sim.call(1, "queue_send", q, sim.msg(tag=i), 0) == 0
    assert sim.call(1, "queue_send", q, sim.msg(), 0) == E.EAGAIN


def test_queue_bad_lengths_and_pointers(sim):
    sim.proc(1)
    q = make_queue(sim, 2)
    assert sim.call(1, "queue_send", q, sim.msg(length=209), 0) == E.EINVAL
    assert sim.call(1, "queue_send", q, sim.ffi.NULL, 0) == E.EFAULT
    assert sim.call(1, "queue_send", q, sim.msg(tag=1, data=b"keep"), 0) == 0
    assert sim.call(1, "queue_recv", q, sim.ffi.NULL, 0) == E.EFAULT
    bad = sim.ffi.new("char[256]")
    sim.lib.sim_set_fault(bad, 256)
    assert sim.call(1, "queue_recv", q, sim.ffi.cast("struct mos_msg *", bad), 0) == E.EFAULT
    sim.lib.sim_set_fault(sim.ffi.NULL, 0)
    m = sim.msg()
    assert sim.call(1, "queue_recv", q, m, 0) == 0 and sim.data(m) == b"keep", "a failed copy loses nothing"


def test_queue_peer_gone(sim):
    sim.proc(1)
    sim.proc(2)
    q = make_queue(sim, 1)
    g = sim.grant(1, q, 2)
    assert sim.call(2, "queue_send", g, sim.msg(tag=1), 0) == 0
    sender = sim.spawn(2, "queue_send", g, sim.msg(tag=2), -1)
    sim.run()
    assert sim.blocked(sender)
    sim.kill(1)
    sim.exit(1)
    assert sim.result(sender) == E.EPIPE, "a blocked sender does not wait for a dead receiver"
    m = sim.msg()
    assert sim.call(2, "queue_recv", g, m, 0) == 0 and m.tag == 1, "queued messages are still there"
    assert sim.call(2, "queue_recv", g, m, -1) == E.EPIPE


def test_queue_peer_closing_wakes_a_receiver(sim):
    sim.proc(1)
    sim.proc(2)
    q = make_queue(sim, 1)
    g = sim.grant(1, q, 2)
    receiver = sim.spawn(1, "queue_recv", q, sim.msg(), -1)
    sim.run()
    assert sim.call(2, "handle_close", g) == 0
    assert sim.result(receiver) == E.EPIPE


def test_an_unshared_queue_is_not_a_broken_pipe(sim):
    sim.proc(1)
    q = make_queue(sim, 1)
    q2 = sim.grant(1, q, 1)
    assert sim.call(1, "handle_close", q2) == 0
    assert sim.call(1, "queue_recv", q, sim.msg(), 0) == E.EAGAIN
    assert sim.call(1, "queue_send", q, sim.msg(), 0) == 0


def test_queue_waits_are_interruptible(sim):
    sim.proc(1)
    q = make_queue(sim, 1)
    receiver = sim.spawn(1, "queue_recv", q, sim.msg(), -1)
    sim.run()
    sim.kill(1)
    assert sim.result(receiver) == E.EINTR


# --- semaphores -------------------------------------------------------------------------------


def test_semaphore_counts(sim):
    sim.proc(1)
    s = sim.call(1, "sem_create", 2)
    assert s >= 0
    assert sim.call(1, "sem_wait", s, 0) == 0
    assert sim.call(1, "sem_wait", s, 0) == 0
    assert sim.call(1, "sem_wait", s, 0) == E.EAGAIN
    assert sim.call(1, "sem_post", s) == 0
    assert sim.call(1, "sem_post", s) == 0
    assert sim.call(1, "sem_wait", s, 0) == 0
    assert sim.call(1, "sem_wait", s, 0) == 0
    assert sim.call(1, "sem_wait", s, 0) == E.EAGAIN


def test_semaphore_waiters_are_woken_one_per_post_in_order(sim):
    sim.proc(1)
    s = sim.call(1, "sem_create", 0)
    waiters = [sim.spawn(1, "sem_wait", s, -1) for _ in range(3)]
    sim.run()
    for i in range(3):
        assert sim.call(1, "sem_post", s) == 0
        assert [sim.result(w) for w in waiters] == [0] * (i + 1) + [None] * (2 - i)
    assert sim.call(1, "sem_wait", s, 0) == E.EAGAIN, "each post went to one waiter"


def test_semaphore_timeout_does_not_lose_a_post(sim):
    sim.proc(1)
    s = sim.call(1, "sem_create", 0)
    start = sim.lib.sim_clock()
    assert sim.call(1, "sem_wait", s, 1000) == E.ETIMEDOUT
    assert sim.lib.sim_clock() - start >= 1000
    assert sim.call(1, "sem_post", s) == 0
    assert sim.call(1, "sem_wait", s, 0) == 0


def test_semaphore_overflow(sim):
    sim.proc(1)
    s = sim.call(1, "sem_create", 0xFFFFFFFF)
    assert sim.call(1, "sem_post", s) == E.EOVERFLOW
    assert sim.call(1, "sem_wait", s, 0) == 0
    assert sim.call(1, "sem_post", s) == 0


def test_semaphore_wait_is_interruptible(sim):
    sim.proc(1)
    s = sim.call(1, "sem_create", 0)
    w = sim.spawn(1, "sem_wait", s, -1)
    sim.run()
    sim.kill(1)
    assert sim.result(w) == E.EINTR


# --- shared memory ----------------------------------------------------------------------------


def frames_of(sim, pid, va, pages):
    flags = sim.ffi.new("unsigned *")
    out = [sim.lib.sim_mapped_frame(pid, va, i, flags) for i in range(pages)]
    return out, flags[0]


def test_shared_memory_is_shared(sim):
    sim.proc(1)
    sim.proc(2)
    s = sim.call(1, "shm_create", 3 * 4096 - 100)
    assert s >= 0 and sim.stats().frames_in_use == 3
    va1 = sim.call(1, "shm_map", s, sim.lib.MOS_PROT_READ | sim.lib.MOS_PROT_WRITE)
    assert va1 >= 0x100000000000 and va1 % 4096 == 0
    g = sim.grant(1, s, 2)
    va2 = sim.call(2, "shm_map", g, sim.lib.MOS_PROT_READ)
    f1, flags1 = frames_of(sim, 1, va1, 3)
    f2, flags2 = frames_of(sim, 2, va2, 3)
    assert f1 == f2 and len(set(f1)) == 3 and 0 not in f1
    VM_READ, VM_WRITE, VM_USER = 1, 2, 8
    assert flags1 == VM_USER | VM_READ | VM_WRITE and flags2 == VM_USER | VM_READ


def test_shared_memory_frames_live_until_the_last_handle_and_mapping(sim):
    sim.proc(1)
    sim.proc(2)
    s = sim.call(1, "shm_create", 2 * 4096)
    sim.call(1, "shm_map", s, sim.lib.MOS_PROT_READ)
    g = sim.grant(1, s, 2)
    sim.call(2, "shm_map", g, sim.lib.MOS_PROT_READ)
    assert sim.call(1, "handle_close", s) == 0
    assert sim.call(2, "handle_close", g) == 0
    assert sim.stats().frames_in_use == 2, "the mappings still hold the frames"
    sim.exit(1)
    assert sim.stats().frames_in_use == 2
    sim.exit(2)
    st = sim.stats()
    assert (st.frames_in_use, st.frames_freed, st.bad_frees) == (0, 2, 0)


def test_unmapping_releases_shared_memory(sim):
    sim.proc(1)
    s = sim.call(1, "shm_create", 4096)
    va = sim.call(1, "shm_map", s, sim.lib.MOS_PROT_READ)
    assert sim.call(1, "handle_close", s) == 0
    sim.spawn_op(1, sim.lib.SIM_UNMAPPED, va + 4096, 4096)  # misses the mapping
    sim.run()
    assert sim.stats().frames_in_use == 1
    sim.spawn_op(1, sim.lib.SIM_UNMAPPED, va, 4096)
    sim.run()
    assert sim.stats().frames_in_use == 0


def test_shared_memory_errors(sim):
    sim.proc(1)
    assert sim.call(1, "shm_create", 0) == E.EINVAL
    sim.lib.sim_set_frames(8)
    assert sim.call(1, "shm_create", 9 * 4096) == E.ENOMEM
    assert sim.call(1, "shm_create", 1 << 63) == E.ENOMEM
    assert sim.call(1, "shm_create", 0xFFFFFFFFFFFFFFFF) == E.ENOMEM
    s = sim.call(1, "shm_create", 8 * 4096)
    assert s >= 0
    P = sim.lib
    assert sim.call(1, "shm_map", s, 8) == E.EINVAL
    assert sim.call(1, "shm_map", s, -1) == E.EINVAL
    assert sim.call(1, "shm_map", s, P.MOS_PROT_WRITE | P.MOS_PROT_EXEC) == E.EINVAL
    sim.lib.sim_set_map_fail(1)
    assert sim.call(1, "shm_map", s, P.MOS_PROT_READ) == E.ENOMEM
    sim.lib.sim_set_map_fail(0)
    assert sim.call(1, "shm_map", s, P.MOS_PROT_READ | P.MOS_PROT_EXEC) > 0
    assert sim.call(1, "handle_close", s) == 0
    assert sim.stats().frames_in_use == 8


# --- handles ----------------------------------------------------------------------------------


def test_grant_and_close_count_references(sim):
    sim.proc(1)
    sim.proc(2)
    s = sim.call(1, "sem_create", 0)
    assert sim.lib.sim_handle_count(1, s) == 1
    g = sim.grant(1, s, 2)
    assert sim.lib.sim_handle_count(1, s) == 2
    assert sim.lib.sim_handle_type(2, g) == sim.lib.sim_handle_type(1, s)
    waiter = sim.spawn(2, "sem_wait", g, -1)
    sim.run()
    assert sim.call(1, "sem_post", s) == 0
    assert sim.result(waiter) == 0, "both handles name the same semaphore"
    assert sim.call(2, "handle_close", g) == 0
    assert sim.lib.sim_handle_count(1, s) == 1
    assert sim.call(2, "handle_close", g) == E.EBADF
    assert sim.call(2, "sem_post", g) == E.EBADF


def test_grant_errors(sim):
    sim.proc(1)
    sim.proc(2)
    sim.proc(3)
    s = sim.call(1, "sem_create", 0)
    assert sim.call(1, "handle_grant", s + 1, 2) == E.EBADF
    assert sim.call(1, "handle_grant", -1, 2) == E.EBADF
    assert sim.call(1, "handle_grant", s, 99) == E.ESRCH
    sim.exit(3)
    assert sim.call(1, "handle_grant", s, 3) == E.ESRCH, "a zombie takes no handles"
    sim.lib.sim_proc_set_vm(2, 0)
    assert sim.call(1, "handle_grant", s, 2) == E.EPERM
    sim.lib.sim_proc_set_vm(2, 1)
    for _ in range(256):
        assert sim.call(1, "handle_grant", s, 2) >= 0
    assert sim.call(1, "handle_grant", s, 2) == E.EMFILE
    assert sim.lib.sim_handle_count(1, s) == 257


def test_a_full_handle_table_refuses_new_objects(sim):
    sim.proc(1)
    for _ in range(256):
        assert sim.call(1, "sem_create", 0) >= 0
    for name, args in (("endpoint_create", ()), ("queue_create", (1,)), ("shm_create", (1,)),
                       ("sem_create", (0,))):
        assert sim.call(1, name, *args) == E.EMFILE, name
    # The fixture checks that the refused objects were freed at once.


def test_handles_are_per_process(sim):
    sim.proc(1)
    sim.proc(2)
    s = sim.call(1, "sem_create", 1)
    assert sim.call(2, "sem_wait", s, 0) == E.EBADF, "a handle number means nothing elsewhere"
    assert sim.call(2, "handle_grant", s, 2) == E.EBADF, "only held handles can be granted"


def test_close_works_on_any_kind(sim):
    sim.proc(1)
    con = sim.lib.sim_install_console(1)
    assert sim.call(1, "handle_close", con) == 0
    assert sim.call(1, "handle_close", con) == E.EBADF
    for h in (-1, 256, 1 << 31, 77):
        assert sim.call(1, "handle_close", h) == E.EBADF


def test_wrong_handle_kinds_and_numbers(sim):
    sim.proc(1)
    con = sim.lib.sim_install_console(1)
    ep = sim.call(1, "endpoint_create")
    q = make_queue(sim, 1)
    s = sim.call(1, "sem_create", 0)
    shm = sim.call(1, "shm_create", 1)
    m, bits = sim.msg(), sim.ffi.new("uint64_t *")
    calls = {
        "ipc_call": lambda h: (h, m, m), "ipc_recv": lambda h: (h, m), "notify": lambda h: (h, 1),
        "notify_wait": lambda h: (h, bits, 0), "queue_send": lambda h: (h, m, 0),
        "queue_recv": lambda h: (h, m, 0), "shm_map": lambda h: (h, 1), "sem_wait": lambda h: (h, 0),
        "sem_post": lambda h: (h,),
    }
    right = {"ipc_call": ep, "ipc_recv": ep, "notify": ep, "notify_wait": ep, "queue_send": q,
             "queue_recv": q, "shm_map": shm, "sem_wait": s, "sem_post": s}
    for name, args in calls.items():
        for h in (con, ep, q, s, shm, -1, 256, 200, 1 << 40):
            if h == right[name]:
                continue
            assert sim.call(1, name, *args(h)) == E.EBADF, (name, h)


def test_no_process_no_crash_on_garbage(sim):
    """Random numbers for every IPC call: errors, never a crash or a leak."""
    rnd = random.Random(1234)
    sim.proc(1)
    sim.proc(2)
    ep = sim.call(1, "endpoint_create")
    sim.call(1, "queue_create", 2)
    sim.call(1, "sem_create", 1)
    sim.call(1, "shm_create", 4096)
    sim.grant(1, ep, 2)
    names = ["notify", "queue_send", "queue_recv", "shm_map", "sem_post", "handle_grant",
             "handle_close", "queue_create", "sem_create", "shm_create", "endpoint_create", "ipc_reply"]
    values = [0, 1, 2, 3, 4, 5, -1, 255, 256, 1 << 31, 1 << 63, 0xFFFFFFFFFFFFFFFF, 4096]
    for _ in range(3000):
        name = rnd.choice(names)
        args = [rnd.choice(values) for _ in range(3)]
        if name in ("queue_send", "queue_recv"):
            args[2] = 0  # never wait
        tid = sim.spawn(rnd.choice((1, 2)), name, *args)
        sim.run()
        assert sim.result(tid) is not None
