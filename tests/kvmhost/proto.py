# SPDX-License-Identifier: MIT
"""kvmhost's wire protocol between the host-side client and the box's agent.

One TCP connection per command. The client first sends a header: a 4-byte
big-endian length and a JSON object {"token", "op": "run"|"ping"|"shutdown",
"argv", "cwd", "env", "tty", "rows", "cols"}. Then both sides send frames:
one type byte, a 4-byte big-endian length, the payload.

  agent -> client: STDOUT, STDERR (bytes), EXIT (JSON {"status": N} or
                   {"signal": N} or {"error": "why"}), always last
  client -> agent: STDIN (bytes), EOF, WINCH (rows, cols as two u16),
                   SIGNAL (the number as text)

A client that closes its connection ends its command (SIGTERM, then SIGKILL).
"""
import hmac
import json
import struct

STDOUT, STDERR, EXIT = b"o", b"e", b"x"
STDIN, EOF, WINCH, SIGNAL = b"i", b"c", b"w", b"k"
MAX_HEADER = 1 << 20
MAX_FRAME = 1 << 20


def _recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def send_header(sock, obj):
    data = json.dumps(obj).encode()
    sock.sendall(struct.pack("!I", len(data)) + data)


def recv_header(sock):
    raw = _recv_exact(sock, 4)
    if raw is None:
        return None
    (n,) = struct.unpack("!I", raw)
    if n > MAX_HEADER:
        raise ValueError("header too long")
    data = _recv_exact(sock, n)
    return json.loads(data) if data is not None else None


def send(sock, kind, data=b""):
    sock.sendall(kind + struct.pack("!I", len(data)) + data)


def recv(sock):
    """(kind, payload), or None at end of stream."""
    raw = _recv_exact(sock, 5)
    if raw is None:
        return None
    (n,) = struct.unpack("!I", raw[1:])
    if n > MAX_FRAME:
        raise ValueError("frame too long")
    data = _recv_exact(sock, n) if n else b""
    if data is None:
        return None
    return raw[:1], data


def token_ok(got, want):
    if isinstance(want, bytes):
        want = want.decode()
    return isinstance(got, str) and hmac.compare_digest(got, want)
