# The service manager's entry point, frozen into /sbin/svcmgr, the first program the kernel
# starts. It registers its endpoint with the kernel, loads /etc/services, boots the enabled
# services, then serves: service calls forwarded by the kernel (tag = the syscall number,
# sender = the caller's pid), the kernel's own messages (a child ended), and its timers.
# The logic is manager.py's; this file only turns messages into Manager calls and back.
import json
import os
import struct

import mos
import mos_consts as K

import control
from errors import ServiceError
from kernel import Kernel
from manager import Manager

DEFINITIONS = "/etc/services"
STATE_SAVE_LIMIT = 60000


def log(msg):
    print("svcmgr: " + msg)


class GuestKernel(Kernel):
    """The kernel contract of kernel.py, on the mos module."""

    def now_ms(self):
        return mos.clock_ns() // 1000000

    def spawn(self, path, argv, env):
        return mos.spawn(path, argv, ["%s=%s" % (k, env[k]) for k in env])

    def request_stop(self, pid):
        # FIXME: no stop channel to services yet; a stop request ends the process at once.
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


def unpack_msg(buf):
    tag, length, sender = struct.unpack_from("<IIq", buf, 0)
    words = struct.unpack_from("<4Q", buf, 16)
    return tag, sender, words


def signed(w):
    return w - (1 << 64) if w >= 1 << 63 else w


def reply(token, result, data=b""):
    msg = bytearray(K.MSG_SIZE)
    struct.pack_into("<II", msg, 0, 0, len(data))
    struct.pack_into("<q", msg, 16, result)
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
        self.ep = mos.endpoint_create()
        mos.svcmgr_register(self.ep)
        self.msg = bytearray(K.MSG_SIZE)

    def save_state(self):
        # What a restarted service manager needs to re-adopt the running services.
        running = {}
        for pid in self.m.pids:
            running[str(pid)] = self.m.pids[pid].name
        text = json.dumps(running).encode()
        if len(text) < STATE_SAVE_LIMIT:
            mos.svcmgr_save(text, len(text))

    def recover(self):
        n, data = mos.svcmgr_load(bytearray(STATE_SAVE_LIMIT)), None
        if n <= 0:
            return {}
        buf = bytearray(n)
        mos.svcmgr_load(buf, n)
        running = json.loads(bytes(buf).decode())
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
            log("CircularDependency: %s" % " -> ".join(cycle + [cycle[0]]))
        adopted = self.recover()
        if adopted:
            self.m.adopt(adopted)
            log("recovered: re-adopted %d running services" % len(adopted))
        self.m.boot(lambda line: print(line))

    def dispatch(self, tag, sender, words, token):
        m = self.m
        if tag == K.SERVICE_KMSG_CHILD_EXIT and sender == 0:
            pid, status = words[0], signed(words[1])
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
            addr, length, fmt = struct.unpack_from("<QQI", p, 0)
            if length > 256 * 1024:
                raise ServiceError(K.InvalidConfiguration, "definition too long")
            text = read_caller(sender, addr, length).decode()
            result = m.create_service(text, "json" if fmt == K.SERVICE_FORMAT_JSON else "toml")
        elif tag == K.SYS_notify_ready:
            m.notify_ready(sender)
        elif tag == K.SYS_service_query:
            answer = []
            control.handle_json(m, read_caller_str(sender, words[0], 65536), answer.append)
            text = answer[0].encode() if answer else b"{}"
            room = min(len(text), words[2])
            if room:
                mos.svcmgr_write(sender, words[1], text[:room], room)
            result = len(text)
        elif tag == K.SYS_subscribe_services:
            raise ServiceError(K.InvalidServiceHandle, "subscriptions over IPC are not served yet")
        else:
            raise ServiceError(K.InvalidConfiguration, "unknown request %d" % tag)
        reply(token, result, data)

    def serve(self):
        while True:
            deadline = self.m.next_deadline()
            timeout = -1
            if deadline is not None:
                timeout = max(0, deadline - self.kernel.now_ms()) * 1000000
            try:
                token = mos.ipc_recv_timeout(self.ep, self.msg, timeout)
            except OSError as e:
                if e.errno == K.ETIMEDOUT:
                    self.m.tick()
                    continue
                raise
            tag, sender, words = unpack_msg(self.msg)
            try:
                self.dispatch(tag, sender, words, token)
            except ServiceError as e:
                reply(token, -e.code)
            except OSError:
                reply(token, -K.InvalidConfiguration)  # a bad pointer from the caller
            self.m.tick()
            self.save_state()


def main():
    server = Server()
    server.boot()
    server.serve()


main()
