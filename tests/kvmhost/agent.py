# SPDX-License-Identifier: MIT
"""The kvmhost box's PID 1 after switch_root: runs commands for kvmhost.

Listens on TCP port 7000 of the box's user-mode NIC (QEMU forwards one
loopback port of the host to it). Each connection runs one command; the
protocol is in proto.py. The agent reaps every process (it is PID 1), kills
a command's process group when its client goes away, and powers the box off
on request, or after `idle` seconds with no command running.

Runs with `python3 -S` from the host's root, read-only; stdlib only.
"""
import fcntl
import json
import os
import pty
import signal
import socket
import struct
import sys
import termios
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proto  # noqa: E402

PORT = 7000
HOME = "/tmp/home"  # every command's $HOME: fresh and writable, like /tmp


class Box:
    def __init__(self, state):
        with open(os.path.join(state, "token"), "rb") as f:
            self.token = f.read().strip()
        with open(os.path.join(state, "config.json")) as f:
            self.config = json.load(f)
        self.idle = float(self.config.get("idle", 0))
        self.lock = threading.Condition()
        self.jobs = {}  # pid -> Job
        self.active = 0
        self.last = time.monotonic()
        self.stopping = False

    def reaper(self):
        """PID 1 reaps everything; statuses of our jobs go to their Job."""
        while True:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                time.sleep(0.05)
                continue
            with self.lock:
                job = self.jobs.pop(pid, None)
            if job:
                job.exited(status)

    def idler(self):
        while self.idle > 0:
            time.sleep(1)
            with self.lock:
                quiet = self.active == 0 and time.monotonic() - self.last > self.idle
            if quiet:
                self.poweroff(f"idle for {self.idle:.0f} s")

    def poweroff(self, why):
        with self.lock:
            if self.stopping:
                return
            self.stopping = True
            jobs = list(self.jobs.values())
        print(f"kvmhost-box: powering off ({why})", file=sys.stderr, flush=True)
        for j in jobs:
            j.kill(signal.SIGKILL)
        os.sync()
        with open("/proc/sysrq-trigger", "w") as f:
            f.write("o")

    def serve(self):
        srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("10.0.2.15", PORT))
        srv.listen(64)
        threading.Thread(target=self.reaper, daemon=True).start()
        threading.Thread(target=self.idler, daemon=True).start()
        print("kvmhost-box: agent ready", file=sys.stderr, flush=True)
        while True:
            conn, _ = srv.accept()
            threading.Thread(target=self.client, args=(conn,), daemon=True).start()

    def client(self, conn):
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.lock:
            self.active += 1
        try:
            req = proto.recv_header(conn)
            if not req or not proto.token_ok(req.get("token", ""), self.token):
                return
            op = req.get("op")
            if op == "ping":
                proto.send(conn, proto.EXIT, json.dumps({"status": 0}).encode())
            elif op == "shutdown":
                proto.send(conn, proto.EXIT, json.dumps({"status": 0}).encode())
                conn.close()
                self.poweroff("asked to")
            elif op == "run":
                Job(self, conn, req).run()
        except (OSError, ValueError):
            pass
        finally:
            with self.lock:
                self.active -= 1
                self.last = time.monotonic()
            try:
                conn.close()
            except OSError:
                pass


class Job:
    def __init__(self, box, conn, req):
        self.box, self.conn, self.req = box, conn, req
        self.send_lock = threading.Lock()
        self.done = threading.Event()
        self.status = None
        self.pid = None

    def send(self, kind, data):
        with self.send_lock:
            proto.send(self.conn, kind, data)

    def exited(self, status):
        self.status = status
        self.done.set()

    def kill(self, sig):
        if self.pid:
            try:
                os.killpg(self.pid, sig)
            except OSError:
                pass

    def spawn(self):
        """fork under the box lock so the reaper finds the pid registered."""
        argv, env = self.req["argv"], dict(self.req.get("env") or {})
        env["HOME"] = HOME  # the host's is read-only here
        cwd = self.req.get("cwd") or "/"
        tty = bool(self.req.get("tty"))
        if tty:
            master, slave = pty.openpty()
            rows, cols = self.req.get("rows", 24), self.req.get("cols", 80)
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            ends = {"in": master, "out": master, "err": None}
            child = (slave, slave, slave)
        else:
            i_r, i_w = os.pipe()
            o_r, o_w = os.pipe()
            e_r, e_w = os.pipe()
            ends = {"in": i_w, "out": o_r, "err": e_r}
            child = (i_r, o_w, e_w)
        with self.box.lock:
            if self.box.stopping:
                raise OSError("box is powering off")
            pid = os.fork()
            if pid == 0:
                try:
                    os.setsid()
                    for i, fd in enumerate(child):
                        os.dup2(fd, i)
                    if tty:
                        fcntl.ioctl(0, termios.TIOCSCTTY, 0)
                    os.closerange(3, 65536)
                    for s in (signal.SIGPIPE, signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                        signal.signal(s, signal.SIG_DFL)
                    os.chdir(cwd)
                    os.execvpe(argv[0], argv, env)
                except BaseException as e:  # noqa: B036 - the child must never return
                    os.write(2, f"kvmhost-box: cannot run {argv[0]}: {e}\n".encode())
                os._exit(127)
            self.pid = pid
            self.box.jobs[pid] = self
        for fd in set(child):
            os.close(fd)
        return ends

    def pump(self, fd, kind):
        try:
            while True:
                try:
                    data = os.read(fd, 65536)
                except OSError:  # EIO: the pty's last slave closed
                    data = b""
                if not data:
                    break
                self.send(kind, data)
        except OSError:
            self.kill(signal.SIGKILL)

    def stdin(self, fd):
        """Client frames: input bytes, end of input, window size, signals."""
        try:
            while True:
                frame = proto.recv(self.conn)
                if frame is None:
                    break  # the client went away: its command goes too
                kind, data = frame
                if kind == proto.STDIN and fd is not None:
                    try:
                        os.write(fd, data)
                    except OSError:
                        pass
                elif kind == proto.EOF and fd is not None and not self.req.get("tty"):
                    os.close(fd)
                    fd = None
                elif kind == proto.WINCH and self.req.get("tty"):
                    rows, cols = struct.unpack("!HH", data)
                    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
                elif kind == proto.SIGNAL:
                    self.kill(int(data.decode()))
        except (OSError, ValueError):
            pass
        if not self.done.is_set():
            self.kill(signal.SIGTERM)
            if not self.done.wait(5):
                self.kill(signal.SIGKILL)

    def run(self):
        try:
            ends = self.spawn()
        except OSError as e:
            self.send(proto.EXIT, json.dumps({"error": str(e)}).encode())
            return
        pumps = [threading.Thread(target=self.pump, args=(ends["out"], proto.STDOUT), daemon=True)]
        if ends["err"] is not None:
            pumps.append(threading.Thread(target=self.pump, args=(ends["err"], proto.STDERR), daemon=True))
        for t in pumps:
            t.start()
        threading.Thread(target=self.stdin, args=(ends["in"],), daemon=True).start()
        self.done.wait()
        # Output written just before exit is still in the pipes; a background
        # process of the job that keeps them open gets 2 s, then its group dies.
        for t in pumps:
            t.join(2)
        self.kill(signal.SIGKILL)
        for t in pumps:
            t.join(2)
        st = self.status
        res = {"signal": os.WTERMSIG(st)} if os.WIFSIGNALED(st) else {"status": os.WEXITSTATUS(st)}
        self.send(proto.EXIT, json.dumps(res).encode())


def main():
    os.environ["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    try:
        os.makedirs(HOME, mode=0o700, exist_ok=True)
        Box(sys.argv[1]).serve()
    except BaseException as e:  # PID 1 must not exit: the kernel would panic
        print(f"kvmhost-box: agent failed: {e!r}", file=sys.stderr, flush=True)
        os.sync()
        with open("/proc/sysrq-trigger", "w") as f:
            f.write("o")
        while True:
            time.sleep(60)


if __name__ == "__main__":
    main()
