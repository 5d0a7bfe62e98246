#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# An HTTP/1.1 file server for the delta tests whose answers to several byte ranges are those
# of other servers, or broken: PORT DIR MODE. A single range is always answered as it should
# be (206, Content-Range, a fixed ETag); several are answered by MODE:
#   join       one 206 from the first range's start to the last one's end (no multipart)
#   first      one 206 with the first range alone
#   malformed  a multipart/byteranges body whose second part is shorter than its
#              Content-Range says (the next delimiter comes early)
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, ROOT, MODE = int(sys.argv[1]), sys.argv[2], sys.argv[3]
BOUNDARY = "b0undary7"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.path, self.headers.get("Range", "-")))

    def send(self, code, body, headers):
        self.send_response(code)
        self.send_header("ETag", '"fixed"')
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = os.path.join(ROOT, self.path.lstrip("/"))
        try:
            data = open(path, "rb").read()
        except OSError:
            return self.send(404, b"", [])
        spec = self.headers.get("Range", "")
        if not spec.startswith("bytes="):
            return self.send(200, data, [])
        ranges = []
        for r in spec[6:].split(","):
            a, b = r.split("-")
            a = int(a)
            b = min(int(b) if b else len(data) - 1, len(data) - 1)
            ranges.append((a, b))
        total = len(data)
        if len(ranges) == 1 or MODE == "first":
            a, b = ranges[0]
        elif MODE == "join":
            a, b = ranges[0][0], ranges[-1][1]
        else:
            body = b""
            for i, (a, b) in enumerate(ranges):
                part = data[a:b + 1]
                if i == 1:
                    part = part[:len(part) // 2]
                body += ("\r\n--%s\r\nContent-Type: application/octet-stream\r\n"
                         "Content-Range: bytes %d-%d/%d\r\n\r\n" % (BOUNDARY, a, b, total)).encode()
                body += part
            body += ("\r\n--%s--\r\n" % BOUNDARY).encode()
            return self.send(206, body, [("Content-Type",
                                          "multipart/byteranges; boundary=" + BOUNDARY)])
        self.send(206, data[a:b + 1], [("Content-Range", "bytes %d-%d/%d" % (a, b, total))])


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
