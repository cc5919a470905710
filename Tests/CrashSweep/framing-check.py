#!/usr/bin/python3
# A check of crashpoint.so's framing, run under it by CrashPointShimTests (docs/testing.md,
# "Crash-point sweep"): a client that speaks D-Bus the awkward way libdbus may, on a socket
# pair, while the parent reads the other end.
#
# The child writes the SASL handshake (the NUL byte alone through sendmsg, then the AUTH lines),
# "BEGIN\r\n" glued to the first bytes of a message, a message split over three writes, a
# batch of several messages (a method call, a signal, a reply, another call) in one sendmsg
# with several iovecs, the rest with write() and writev(). Descriptors that are not D-Bus are
# written too and must be ignored: a pipe, a socket whose first byte is NUL but whose next
# bytes are not "AUTH" (a netlink-like header), a socket that starts with text.
#
# Usage: framing-check.py SIGNAL  (NONE, TERM, KILL, STOP; the shim is told by the caller
# through CRASHPOINT_AT / CRASHPOINT_SIGNAL). Prints one JSON object: the calls expected in
# the log, the byte offsets where each call ends, what the parent received and how the child
# ended.
import json
import os
import signal
import socket
import sys
import time

from gi.repository import Gio, GLib

mode = sys.argv[1] if len(sys.argv) > 1 else "NONE"


def blob(message, serial):
    message.set_serial(serial)
    return bytes(message.to_blob(Gio.DBusCapabilityFlags.NONE))


calls = [  # (member, interface, path, destination)
    ("Hello", "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus"),
    ("GetSettings", "org.freedesktop.NetworkManager.Settings.Connection", "/org/freedesktop/NetworkManager/Settings/7",
     "org.freedesktop.NetworkManager"),
    ("CheckpointCreate", "org.freedesktop.NetworkManager", "/org/freedesktop/NetworkManager", "org.freedesktop.NetworkManager"),
    ("Update2", "org.freedesktop.NetworkManager.Settings.Connection", "/org/freedesktop/NetworkManager/Settings/12",
     "org.freedesktop.NetworkManager"),
]
messages = []
for i, (member, interface, path, destination) in enumerate(calls):
    m = Gio.DBusMessage.new_method_call(destination, path, interface, member)
    if member == "CheckpointCreate":  # a body, so that a message is more than its header
        m.set_body(GLib.Variant("(aouu)", (["/org/freedesktop/NetworkManager/Devices/2"], 30, 7)))
    messages.append(blob(m, i + 1))
signal_message = blob(Gio.DBusMessage.new_signal("/a/b", "org.example.Test", "Changed"), 20)
reply = Gio.DBusMessage.new_method_call("org.example", "/x", "org.example.I", "M")
reply.set_serial(99)
reply_message = blob(reply.new_method_reply(), 21)

handshake = [b"AUTH EXTERNAL 30\r\n", b"NEGOTIATE_UNIX_FD\r\n"]
m1, m2, m3, m4 = messages
# (function, bytes) in order; the D-Bus stream, as the peer receives it, is their concatenation.
writes = [
    ("send", b"BEGIN\r\n" + m1[:3]),
    ("send", m1[3:20]),
    ("sendmsg", [m1[20:], signal_message, m2, reply_message, m3[:10]]),
    ("write", m3[10:]),
    ("writev", [m4]),
]
stream = b"\0" + b"".join(handshake) + b"".join(b"".join(d) if isinstance(d, list) else d for _, d in writes)
prefix = len(b"\0" + b"".join(handshake) + b"BEGIN\r\n")
ends, offset = [], prefix
for piece in [m1, signal_message, m2, reply_message, m3, m4]:
    offset += len(piece)
    if piece in messages:
        ends.append(offset)

ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
netlike_a, netlike_b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
text_a, text_b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
pipe_r, pipe_w = os.pipe()
sync_r, sync_w = os.pipe()
child = os.fork()
if child == 0:
    theirs.close()
    os.close(sync_r)
    if mode == "TERM":
        signal.signal(signal.SIGTERM, lambda number, frame: None)
    # Not D-Bus: a pipe, a NUL then not AUTH (like a netlink header of 256 bytes), plain text.
    os.write(pipe_w, b"\0AUTH looks like SASL, but a pipe is not a socket\r\nBEGIN\r\n" + m1)
    netlike_a.send(b"\0\x01\0\0" + m1)
    text_a.send(b"GET / HTTP/1.0\r\n\r\n" + m1)
    ours.sendmsg([b"\0"])
    for line in handshake:
        ours.send(line)
    for function, data in writes:
        # A short write (the shim cuts one right after the call to crash at) is completed
        # with the same function, as libdbus completes any short write.
        pieces = data if isinstance(data, list) else [data]
        while pieces:
            if function == "send":
                n = ours.send(pieces[0])
            elif function == "sendmsg":
                n = ours.sendmsg(pieces)
            elif function == "write":
                n = os.write(ours.fileno(), pieces[0])
            else:
                n = os.writev(ours.fileno(), pieces)
            while n > 0:
                taken = min(n, len(pieces[0]))
                n -= taken
                pieces[0] = pieces[0][taken:]
                if not pieces[0]:
                    pieces.pop(0)
            while pieces and not pieces[0]:
                pieces.pop(0)
    if mode == "TERM":
        # After the signal, a read on the D-Bus socket must wait until the hold is over.
        os.write(sync_w, b"x")  # tell the parent to send a byte
        started = time.monotonic()
        ours.recv(1)
        os.write(sync_w, b"%d" % int((time.monotonic() - started) * 1000))
    os._exit(0)

ours.close()
os.close(sync_w)
received = b""
stopped_at = None
status = None
hold_ms = None
if mode == "TERM":
    # The child survives SIGTERM (it has a handler) and says when it is about to read.
    assert os.read(sync_r, 1) == b"x"
    theirs.send(b"!")
    answer = b""
    while chunk := os.read(sync_r, 16):
        answer += chunk
    hold_ms = int(answer)
theirs.setblocking(False)
deadline = time.monotonic() + 20
while time.monotonic() < deadline:
    try:
        chunk = theirs.recv(65536)
        if chunk == b"":
            break
        received += chunk
        continue
    except BlockingIOError:
        pass
    if status is None:
        pid, raw = os.waitpid(child, os.WUNTRACED | os.WNOHANG)
        if pid == child:
            if os.WIFSTOPPED(raw):
                time.sleep(0.2)  # what was written before the stop has arrived
                try:
                    received += theirs.recv(65536)
                except BlockingIOError:
                    pass
                stopped_at = len(received)
                os.kill(child, signal.SIGCONT)
            else:
                status = raw
    time.sleep(0.005)
if status is None:
    _, status = os.waitpid(child, 0)
print(json.dumps({
    "calls": [list(c) for c in calls],
    "ends": ends,
    "streamLength": len(stream),
    "received": len(received),
    "receivedMatches": stream.startswith(received),
    "stoppedAt": stopped_at,
    "exitSignal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0,
    "exitCode": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
    "holdMilliseconds": hold_ms,
}))
