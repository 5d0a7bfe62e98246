#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# A fault-injecting proxy for the fault matrix (tests/integration/test_faults.sh), stdlib only,
# on 127.0.0.1. Three kinds:
#   faultproxy.py http PORT UPSTREAM_PORT CONTROL LOG  in front of nginx's HTTP port
#   faultproxy.py tls PORT UPSTREAM_PORT CONTROL LOG   raw bytes, in front of its HTTPS port
#   faultproxy.py udp PORT UPSTREAM_PORT CONTROL LOG   in front of tftpd-hpa
# CONTROL is a file read at each new connection (http, tls) or datagram (udp): one line
# "MODE [key=value...]"; an absent or empty file is "pass". LOG gets one line a connection:
# "PATH MODE delivered=BYTES" (body bytes passed to the client; tls: all bytes).
# HTTP modes, applied to requests whose path contains match= (default: every request; a
# trailing $ anchors it at the path's end):
#   pass                    forward untouched
#   reset after=N [wait=S]  forward N body bytes, (wait S seconds,) then reset the connection
#   close after=N [wait=S]  forward N body bytes, (wait S seconds,) then close it (truncated)
#   stall after=N           forward N body bytes, then send nothing more, connection open
#   trickle after=N rate=R  forward N body bytes, then R bytes a second
#   flip after=N            flip every bit of body byte N
#   longer extra=N          announce N bytes less than the body (Content-Length) and send it all
#   status code=C           answer C (500, 503...) without asking the server
#   loop                    answer 302 to the same URL
# TLS modes (bytes counted from the server): pass; reset after=N; flip after=N (flip byte
# N: a record fails its MAC); garbage (answer the client's hello with 512 random bytes).
# UDP modes: pass; lossy drop=P dup=Q (percent of the datagrams either way; a fixed seed);
# stop after=N (relay N datagrams from the server, then none).
import os
import random
import select
import socket
import sys
import threading
import time


def control(path):
    try:
        with open(path) as f:
            words = f.read().split()
    except OSError:
        words = []
    mode = words[0] if words else "pass"
    args = dict(w.split("=", 1) for w in words[1:] if "=" in w)
    return mode, args


class Log:
    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()

    def line(self, text):
        with self.lock, open(self.path, "a") as f:
            f.write(text + "\n")


def read_head(sock):
    """Bytes up to and including the blank line ending an HTTP head, and what followed it."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        data += chunk
    end = data.index(b"\r\n\r\n") + 4
    return data[:end], data[end:]


def set_header(head, name, value):
    lines = head.split(b"\r\n")
    out = [l for l in lines if not l.lower().startswith(name.lower() + b":")]
    out.insert(1, name + b": " + value)
    return b"\r\n".join(out)


def header(head, name):
    for l in head.split(b"\r\n")[1:]:
        if l.lower().startswith(name.lower() + b":"):
            return l.split(b":", 1)[1].strip()
    return None


def reset(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    sock.close()


def answer(client, code, extra=b""):
    reason = {500: b"Internal Server Error", 503: b"Service Unavailable", 302: b"Found"}
    client.sendall(b"HTTP/1.1 %d %s\r\nContent-Length: 0\r\nConnection: close\r\n%s\r\n"
                   % (code, reason.get(code, b"Error"), extra))
    client.close()


def http(client, upstream_port, mode, args, log):
    head, rest = read_head(client)
    if head is None:
        client.close()
        return
    path = head.split(b" ")[1].decode(errors="replace")
    match = args.get("match", "")
    if not (path.endswith(match[:-1]) if match.endswith("$") else match in path):
        mode = "pass"
    if mode == "status":
        log.line(f"{path} status delivered=0")
        return answer(client, int(args.get("code", "500")))
    if mode == "loop":
        log.line(f"{path} loop delivered=0")
        return answer(client, 302, b"Location: " + path.encode() + b"\r\n")
    up = socket.create_connection(("127.0.0.1", upstream_port))
    up.sendall(set_header(head[:-4], b"Connection", b"close") + b"\r\n\r\n" + rest)
    rhead, body = read_head(up)
    if rhead is None:
        client.close()
        return
    if mode == "longer":
        length = int(header(rhead, b"Content-Length") or b"0")
        rhead = set_header(rhead[:-4], b"Content-Length",
                           str(max(0, length - int(args.get("extra", "100")))).encode()) + b"\r\n\r\n"
    client.sendall(rhead)
    after = int(args.get("after", "0"))
    sent = 0
    while True:
        if not body:
            body = up.recv(65536)
            if not body:
                break
        if mode in ("reset", "close", "stall", "trickle") and sent + len(body) > after:
            part = body[:after - sent]
            client.sendall(part)
            sent += len(part)
            body = body[len(part):]
            log.line(f"{path} {mode} delivered={sent}")
            time.sleep(float(args.get("wait", "0")))
            if mode == "reset":
                return reset(client)
            if mode == "close":
                return client.close()
            if mode == "stall":
                time.sleep(3600)
            rate = int(args.get("rate", "1"))
            for i in range(len(body)):
                time.sleep(1.0 / rate)
                client.sendall(body[i:i + 1])
            body = b""
            continue
        if mode == "flip" and sent <= after < sent + len(body):
            i = after - sent
            body = body[:i] + bytes([body[i] ^ 0xFF]) + body[i + 1:]
        client.sendall(body)
        sent += len(body)
        body = b""
    log.line(f"{path} {mode} delivered={sent}")
    client.close()


def raw(client, upstream_port, mode, args, log):
    if mode == "garbage":
        client.recv(65536)
        client.sendall(bytes(random.Random(1).getrandbits(8) for _ in range(512)))
        log.line("- garbage delivered=512")
        return client.close()
    up = socket.create_connection(("127.0.0.1", upstream_port))
    after = int(args.get("after", "0"))
    sent = 0
    socks = [client, up]
    while True:
        ready, _, _ = select.select(socks, [], [])
        for s in ready:
            data = s.recv(65536)
            if not data:
                log.line(f"- {mode} delivered={sent}")
                client.close()
                up.close()
                return
            if s is client:
                up.sendall(data)
                continue
            if mode == "reset" and sent + len(data) > after:
                client.sendall(data[:after - sent])
                log.line(f"- reset delivered={after}")
                up.close()
                return reset(client)
            if mode == "flip" and sent <= after < sent + len(data):
                i = after - sent
                data = data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:]
            client.sendall(data)
            sent += len(data)


def tcp_serve(kind, port, upstream_port, ctl, log):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(64)
    while True:
        client, _ = srv.accept()
        mode, args = control(ctl)
        handler = raw if kind == "tls" else http
        t = threading.Thread(target=guarded, args=(handler, client, upstream_port, mode, args, log))
        t.daemon = True
        t.start()


def guarded(handler, client, *rest):
    try:
        handler(client, *rest)
    except OSError:
        client.close()


def udp_serve(port, upstream_port, ctl, log):
    """One relay socket per client; the server's transfer port (its TID) is learnt from its
    first answer, and every answer reaches the client from PORT, one steady TID."""
    front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    front.bind(("127.0.0.1", port))
    relays = {}  # client address -> [socket, server address, datagrams from the server]
    rng = random.Random(1)
    while True:
        socks = [front] + [r[0] for r in relays.values()]
        ready, _, _ = select.select(socks, [], [])
        mode, args = control(ctl)
        for s in ready:
            data, addr = s.recvfrom(65536)
            if s is front:
                if addr not in relays:
                    r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    r.bind(("127.0.0.1", 0))
                    relays[addr] = [r, ("127.0.0.1", upstream_port), 0]
                r = relays[addr]
                if not lose(mode, args, rng, log, "client"):
                    for _ in range(dup(mode, args, rng)):
                        r[0].sendto(data, r[1])
                continue
            client = next(a for a, r in relays.items() if r[0] is s)
            r = relays[client]
            r[1] = addr
            r[2] += 1
            if mode == "stop" and r[2] > int(args.get("after", "0")):
                if r[2] == int(args.get("after", "0")) + 1:
                    log.line(f"- stop delivered={r[2] - 1}")
                continue
            if not lose(mode, args, rng, log, "server"):
                for _ in range(dup(mode, args, rng)):
                    front.sendto(data, client)


def lose(mode, args, rng, log, side):
    if mode == "lossy" and rng.randrange(100) < int(args.get("drop", "0")):
        log.line(f"- drop {side}")
        return True
    return False


def dup(mode, args, rng):
    return 2 if mode == "lossy" and rng.randrange(100) < int(args.get("dup", "0")) else 1


def main():
    if len(sys.argv) != 6 or sys.argv[1] not in ("http", "tls", "udp"):
        sys.stderr.write("usage: faultproxy.py http|tls|udp PORT UPSTREAM_PORT CONTROL LOG\n")
        return 2
    kind, port, upstream, ctl, logpath = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
    if kind == "udp":
        udp_serve(port, upstream, ctl, Log(logpath))
    else:
        tcp_serve(kind, port, upstream, ctl, Log(logpath))


if __name__ == "__main__":
    sys.exit(main())
