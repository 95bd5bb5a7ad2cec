# The kernel as svcmgr sees it: the few calls the service manager makes. The guest glue
# implements this class on the `mos` module; tests use a fake (tests/unit/svcmgr_fake.py).
#
# What the kernel tells svcmgr arrives the other way, as calls of Manager methods made by
# the glue's main loop: process_exited(pid, status), notify_ready(pid),
# process_output(pid, stream, data), endpoint_registered(pid, name, handle), tick() when
# next_deadline() has passed, and the service calls. None of the methods below may call
# back into the Manager: events are delivered later, from the main loop.


class Kernel:
    def now_ms(self):
        """Milliseconds since boot, monotonic."""
        raise NotImplementedError

    def spawn(self, path, argv, env):
        """Starts the program at path with argv (a list of str, argv[0] included) and env
        (a dict of str); returns the new process's pid (> 0) or raises OSError. The
        process's stdout and stderr go to Manager.process_output, its end to
        Manager.process_exited."""
        raise NotImplementedError

    def request_stop(self, pid):
        """Asks a process to end itself (a stop message to it); it may not listen, and
        is then killed after its service's stop_timeout."""
        raise NotImplementedError

    def kill(self, pid):
        """Ends a process now; its end is still reported through process_exited, with
        the status STATUS_KILLED."""
        raise NotImplementedError

    def suspend(self, pid):
        """Stops scheduling all threads of a process until resume."""
        raise NotImplementedError

    def resume(self, pid):
        raise NotImplementedError

    def listdir(self, path):
        """The names in a folder (for the definition folder, /etc/services)."""
        raise NotImplementedError

    def read_text(self, path):
        """A whole file as str (UTF-8)."""
        raise NotImplementedError

    def getpid(self):
        """The service manager's own pid (what a service grants its endpoint to)."""
        raise NotImplementedError

    def grant(self, handle, pid):
        """Gives process pid a handle to the object of the manager's handle; returns its
        number in pid, or raises OSError."""
        raise NotImplementedError

    def close_handle(self, handle):
        """Closes one of the manager's handles (a service's endpoint after it ended)."""
        raise NotImplementedError
