# The service manager's entry point, frozen into /sbin/svcmgr, the first program the kernel
# starts. It registers its endpoint with the kernel, loads /etc/services, boots the enabled
# services, then serves: service calls forwarded by the kernel (tag = the syscall number,
# sender = the caller's pid), the kernel's own messages (a child ended), and its timers.
# The logic is manager.py's; this file only turns messages into Manager calls and back.
import json
import os
import struct
import sys

import mos
import mos_consts as K

import control
from errors import ServiceError
from kernel import Kernel
from manager import Manager

DEFINITIONS = "/etc/services"
STATE_SAVE_LIMIT = 60000
STOP_TAG = 1  # on a service's lifeline queue: please end (services/python/lib/service.py)
SUB_DEPTH = 64    # events a subscriber's queue holds
SUB_BACKLOG = 64  # and the registry beyond that, before it counts missed events
FLUSH_RETRY_NS = 20000000  # how soon a full subscriber queue is tried again


def log(msg):
    print("svcmgr: " + msg)


class GuestKernel(Kernel):
    """The kernel contract of kernel.py, on the mos module."""

    def now_ms(self):
        return mos.clock_ns() // 1000000

    pids_changed = True  # since the last save_state (spawns and exits change Manager.pids)

    def spawn(self, path, argv, env):
        self.pids_changed = True
        return mos.spawn(path, argv, ["%s=%s" % (k, env[k]) for k in env])

    manager = None  # set by Server: the stop request needs the service's lifeline

    def request_stop(self, pid):
        # A service that published an endpoint shares a lifeline queue with us: a STOP message
        # there asks it to end (the service module's serve loop exits 0 on it). The manager
        # kills it after its stop_timeout either way; one without a lifeline is killed now.
        svc = self.manager.pids.get(pid) if self.manager else None
        if svc is not None and svc.lifeline:
            msg = bytearray(K.MSG_SIZE)
            struct.pack_into("<I", msg, 0, STOP_TAG)
            try:
                mos.queue_send(svc.lifeline, msg, 0)
                return
            except OSError:
                pass
        self.kill(pid)

    def kill(self, pid):
        try:
            mos.kill(pid)
        except OSError:
            pass  # already gone; its exit message still comes

    def suspend(self, pid):
        mos.suspend(pid)

    def resume(self, pid):
        mos.resume(pid)

    def listdir(self, path):
        return sorted(os.listdir(path))

    def read_text(self, path):
        with open(path) as f:
            return f.read()

    def getpid(self):
        return mos.getpid()

    def grant(self, handle, pid):
        if handle == self.own_endpoint:
            raise OSError(K.EPERM)  # a service cannot publish the manager's own endpoint
        return mos.handle_grant(handle, pid)

    def close_handle(self, handle):
        if handle != self.own_endpoint:
            mos.handle_close(handle)


def unpack_msg(buf):
    tag, length, sender = struct.unpack_from("<IIq", buf, 0)
    words = struct.unpack_from("<4Q", buf, 16)
    return tag, sender, words


def signed(w):
    return w - (1 << 64) if w >= 1 << 63 else w


_REPLY = bytearray(K.MSG_SIZE)  # one reply at a time: the kernel copies it at once


def reply(token, result, data=b""):
    msg = _REPLY
    struct.pack_into("<IIqq", msg, 0, 0, len(data), 0, result)
    msg[48:48 + len(data)] = data
    try:
        mos.ipc_reply(token, msg)
    except OSError:
        pass  # the caller gave up (killed): nothing to tell


def read_caller(pid, addr, length):
    buf = bytearray(length)
    if length:
        mos.svcmgr_read(pid, addr, buf, length)
    return bytes(buf)


def read_caller_str(pid, addr, limit=4096):
    # A NUL-terminated string in the caller's memory, read a chunk at a time.
    out = b""
    while len(out) < limit:
        try:
            chunk = read_caller(pid, addr + len(out), 64)
        except OSError:
            # The last chunk may cross into an unmapped page: go byte by byte.
            chunk = read_caller(pid, addr + len(out), 1)
        i = chunk.find(b"\0")
        if i >= 0:
            return (out + chunk[:i]).decode()
        out += chunk
    raise ServiceError(K.InvalidConfiguration, "string too long")


def status_bytes(st):
    out = bytearray(K.SERVICE_STATUS_SIZE)
    for name, offset, fmt in K.SERVICE_STATUS_FIELDS:
        if name == "reserved":
            continue
        v = st.get(name, 0)
        if fmt.endswith("s"):
            v = (v or "").encode()
        struct.pack_into(fmt, out, offset, v)
    return bytes(out)


class Server:
    def __init__(self):
        self.kernel = GuestKernel()
        self.m = Manager(self.kernel)
        self.kernel.manager = self.m
        self.ep = mos.endpoint_create()
        self.kernel.own_endpoint = self.ep
        mos.svcmgr_register(self.ep)
        self.sub_queues = {}  # subscription handle -> the queue its events go to
        self.saved = None     # what save_state kept last
        self.saved_revision = 0
        self.saved_head = None  # its persistent_state part, as JSON (bytes) without the end
        self.running = {}       # pid -> b'"pid": "name"', its running part
        self.m.pid_listener = self.pid_changed
        self.msg = bytearray(K.MSG_SIZE)
        self.event = bytearray(K.MSG_SIZE)

    def save_state(self):
        # What a restarted service manager needs: the running services to re-adopt, and what
        # changed since boot (services created at run time, enable/disable). Only after a
        # spawn, an exit or such a change; and from text kept in parts, since a restart after
        # a crash saves once (~0.5 ms per 100 services when made anew, TCG): persistent_state
        # is encoded again only when it changed (revision), and each running process's
        # '"pid": "name"' is made once, when it starts (pid_changed).
        if not self.kernel.pids_changed and self.m.revision == self.saved_revision:
            return
        self.kernel.pids_changed = False
        if self.saved_head is None or self.m.revision != self.saved_revision:
            self.saved_revision = self.m.revision
            head = json.dumps(self.m.persistent_state())  # an object: ends with "}"
            self.saved_head = (head[:-1] + ', "running": {').encode()
        text = self.saved_head + b", ".join(self.running.values()) + b"}}"
        if len(text) < STATE_SAVE_LIMIT and text != self.saved:
            mos.svcmgr_save(text, len(text))
            self.saved = text

    def pid_changed(self, pid, svc):
        # Manager.pids changed: pid is svc's process now, or (svc None) no service's.
        self.kernel.pids_changed = True
        if svc is None:
            self.running.pop(pid, None)
        else:
            self.running[pid] = ('"%d": %s' % (pid, json.dumps(svc.name))).encode()

    def recover(self):
        n = mos.svcmgr_load(bytearray(STATE_SAVE_LIMIT))
        if n <= 0:
            return {}
        buf = bytearray(n)
        mos.svcmgr_load(buf, n)
        state = json.loads(bytes(buf).decode())
        self.m.restore(state)
        running = state.get("running", {})
        adopted = {}
        for pid in running:
            try:
                mos.svcmgr_adopt(int(pid))
                adopted[int(pid)] = running[pid]
            except OSError:
                pass  # it ended while no service manager was there
        return adopted

    def boot(self):
        self.m.load_directory(DEFINITIONS)
        for err in self.m.load_errors:
            log("definition rejected: %s" % err)
        for cycle in self.m.cycles:
            log("CircularDependency: %s" % " -> ".join(cycle))  # the cycle ends where it starts
        adopted = self.recover()
        if adopted:
            self.m.adopt(adopted)
            log("recovered: re-adopted %d running services" % len(adopted))
        self.m.boot(lambda line: print(line))

    def dispatch(self, tag, sender, words, token):
        m = self.m
        if tag == K.SERVICE_KMSG_OUTPUT and sender == 0:
            # A service wrote to stdout or stderr: the kernel's copy, for its journal.
            length = struct.unpack_from("<I", self.msg, 4)[0]
            reply(token, 0)
            if words[2]:
                m.process_output(words[0], "stderr", "[%d bytes of output lost]\n" % words[2])
            m.process_output(words[0], "stdout" if words[1] == 1 else "stderr", bytes(self.msg[48:48 + length]))
            return
        if tag == K.SERVICE_KMSG_CHILD_EXIT and sender == 0:
            pid, status = words[0], signed(words[1])
            self.kernel.pids_changed = True
            reply(token, 0)
            try:
                mos.wait(pid)  # collect the zombie; the status came with the message
            except OSError:
                pass
            m.process_exited(pid, status)
            return
        if tag in (K.SYS_start_service, K.SYS_stop_service, K.SYS_restart_service):
            op = {K.SYS_start_service: m.start, K.SYS_stop_service: m.stop, K.SYS_restart_service: m.restart}[tag]

            def done(err, token=token):
                reply(token, -err.code if err else 0)

            op(int(words[0]), done)
            return
        result, data = 0, b""
        if tag == K.SYS_enable_service:
            m.enable(int(words[0]))
        elif tag == K.SYS_disable_service:
            m.disable(int(words[0]))
        elif tag == K.SYS_pause_service:
            m.pause(int(words[0]))
        elif tag == K.SYS_resume_service:
            m.resume(int(words[0]))
        elif tag == K.SYS_lookup_service:
            result = m.lookup(read_caller_str(sender, words[0]))
        elif tag == K.SYS_service_status:
            st = m.status(int(words[0]))
            mos.svcmgr_write(sender, words[1], status_bytes(st), K.SERVICE_STATUS_SIZE)
        elif tag == K.SYS_discover_services:
            ids = m.discover(read_caller_str(sender, words[0]))
            room = min(len(ids), words[2])
            if room:
                mos.svcmgr_write(sender, words[1], struct.pack("<%dI" % room, *ids[:room]), 4 * room)
            result = len(ids)
        elif tag == K.SYS_create_service:
            p = read_caller(sender, words[0], K.SERVICE_CREATE_PARAMS_SIZE)
            addr, length, fmt, flags = struct.unpack_from("<QQII", p, 0)
            if length > 256 * 1024:
                raise ServiceError(K.InvalidConfiguration, "definition too long")
            if flags:
                raise ServiceError(K.InvalidConfiguration, "flags must be 0")
            # Bytes: definition.load reports text that is not UTF-8 (ConfigurationError) and
            # a format that is neither SERVICE_FORMAT_TOML nor _JSON (InvalidConfiguration).
            result = m.create_service(read_caller(sender, addr, length), fmt)
        elif tag == K.SYS_notify_ready:
            m.notify_ready(sender)
        elif tag == K.SYS_service_query:
            # start, stop, restart (and svc commands using them) answer once done: the
            # caller stays blocked in its call until then.
            def answer(text, token=token, sender=sender, addr=words[1], room=words[2]):
                data = text.encode()
                n = min(len(data), room)
                try:
                    if n:
                        mos.svcmgr_write(sender, addr, data[:n], n)
                    reply(token, len(data))
                except OSError:
                    reply(token, -K.InvalidConfiguration)  # a bad pointer, or the caller is gone

            control.handle_json(m, read_caller_str(sender, words[0], 65536), answer, sender)
            return
        elif tag == K.SYS_subscribe_services:
            result = self.subscribe(sender, read_caller_str(sender, words[0]), int(words[1]) & 0xffffffff)
        else:
            raise ServiceError(K.InvalidConfiguration, "unknown request %d" % tag)
        reply(token, result, data)

    def subscribe(self, pid, pattern, events):
        # Each subscriber gets a queue of its own, granted to it (the call's result is its
        # handle number); flush_events moves the registry's events there. The registry keeps
        # what the queue cannot take yet, and counts what it must drop (a "missed" message).
        # The subscription ends when its owner closes the queue (or ends): sending then
        # fails with EPIPE. Subscriptions do not survive a restart of the service manager.
        h = self.m.subscribe(pattern, events, pid, None, SUB_BACKLOG)
        q = -1
        try:
            q = mos.queue_create(SUB_DEPTH)
            mine = mos.handle_grant(q, pid)
        except OSError as e:
            self.m.unsubscribe(h)
            if q >= 0:
                mos.handle_close(q)
            raise ServiceError(K.ResourceExhausted, "cannot give %d an event queue: %s" % (pid, e))
        self.sub_queues[h] = q
        return mine

    def flush_events(self):
        """Moves the events to the subscribers' queues; True if some must wait (full)."""
        backlog = False
        subs = self.m.registry.subs
        for h in list(self.sub_queues):
            q = self.sub_queues[h]
            s = subs.get(h)
            while s is not None and s.queue:
                # syscalls.h: tag = the event bit (0: words[0] events were missed), words[0]
                # the service id, [1] its state, [2] the sequence number; here also [3] its
                # health and data its name.
                seq, kind, ident, name, state, health = s.queue[0]
                data = name.encode()[:K.MSG_DATA_MAX]
                struct.pack_into("<IIq4Q", self.event, 0, kind, len(data), 0, ident, state, seq, health)
                self.event[48:48 + len(data)] = data
                try:
                    mos.queue_send(q, self.event, 0)
                except OSError as e:
                    if e.errno == K.EAGAIN:
                        backlog = True
                        break  # full: the rest waits in the registry
                    s = None   # EPIPE: the subscriber is gone
                    break
                del s.queue[0]
            if s is None:
                del self.sub_queues[h]
                if h in subs:
                    self.m.unsubscribe(h)
                mos.handle_close(q)
        return backlog

    def serve(self):
        backlog = False
        while True:
            deadline = self.m.next_deadline()
            timeout = -1
            if deadline is not None:
                timeout = max(0, deadline - self.kernel.now_ms()) * 1000000
            if backlog and (timeout < 0 or timeout > FLUSH_RETRY_NS):
                timeout = FLUSH_RETRY_NS  # a subscriber's queue was full: try it again soon
            try:
                token = mos.ipc_recv_timeout(self.ep, self.msg, timeout)
            except OSError as e:
                if e.errno != K.ETIMEDOUT:
                    raise
                token = 0
            if token:
                tag, sender, words = unpack_msg(self.msg)
                try:
                    self.dispatch(tag, sender, words, token)
                except ServiceError as e:
                    reply(token, -e.code)
                except OSError:
                    reply(token, -K.InvalidConfiguration)  # a bad pointer from the caller
            # Timers too start processes (restarts) and change states: save and tell after them.
            self.m.tick()
            backlog = self.flush_events() if self.sub_queues else False
            self.save_state()


def main():
    if "--bench-scale" in sys.argv:
        # Not the service manager: its code at scale, for ./multios bench (benchscale.py).
        import benchscale
        benchscale.main(sys.argv, GuestKernel(), mos.clock_ns)
        return
    server = Server()
    server.boot()
    server.serve()


main()
