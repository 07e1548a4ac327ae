#!/usr/bin/env python3
"""A real HTTP server on loopback for the end-to-end tests.

Most routes answer like a healthy or broken backend would (seed 000's
/api/inbox/joe, and the 404 with an empty body of /api/settings/auth);
/echo/token answers with the X-Token header it was sent; /jitter answers
200 after a random 1 to 40 ms, as a backend under uneven load does.
/switch/NAME answers like /api/inbox/joe until /switch/NAME/break is
asked, then like /api/settings/auth (404, empty body) until
/switch/NAME/fix: an endpoint that breaks and is fixed while watched.
The /fault/* routes misbehave on purpose, to inject faults a well-behaved
server never produces: accepting and never answering, trickling, an endless
10 MB body, a redirect loop, a redirect to file://.

A POST is a notification received (a webhook's, Alertmanager's): it is
appended to POSTS, one JSON object a line, {"path", "headers" (names in
lower case), "body"}, and answered 200, except on /deny, which answers
401 quoting the Authorization header it was sent, as a server that
rejects a token may.

Usage: httpd.py PORTFILE [POSTS]  -- binds 127.0.0.1 on a free port, writes
it to PORTFILE, serves until killed.
"""
import http.server
import json
import random
import socketserver
import sys
import threading
import time

POSTS = sys.argv[2] if len(sys.argv) > 2 else None
POSTS_LOCK = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    broken = set()

    def log_message(self, *args):
        pass

    def send(self, status, body=b"", ctype="application/json", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        p = self.path
        if p == "/api/inbox/joe":
            self.send(200, json.dumps({"messages": [], "status": {"db": "up"}}).encode())
        elif p == "/api/auth":
            self.send(200, b'{"ok": true}')
        elif p == "/api/settings/auth":
            self.send(404)
        elif p.startswith("/ping/"):
            # A dead man's switch: each ping is kept, like a POST.
            if POSTS:
                with POSTS_LOCK, open(POSTS, "a") as f:
                    f.write(json.dumps({"path": p, "method": "GET"}) + "\n")
            self.send(200, b'{"ok": true}')
        elif p.startswith("/switch/"):
            name, _, what = p[len("/switch/"):].partition("/")
            if what == "break":
                Handler.broken.add(name)
                self.send(200, b'{"broken": true}')
            elif what == "fix":
                Handler.broken.discard(name)
                self.send(200, b'{"broken": false}')
            elif name in Handler.broken:
                self.send(404)
            else:
                self.send(200, json.dumps({"messages": []}).encode())
        elif p.startswith("/echo/token"):
            token = self.headers.get("X-Token", "none")
            self.send(200, json.dumps({"token": token}).encode())
        elif p.startswith("/jitter"):
            time.sleep(random.uniform(0.001, 0.040))
            self.send(200, b'{"ok": true}')
        elif p == "/fault/hang":
            time.sleep(3600)
        elif p == "/fault/trickle":
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            for _ in range(100000):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.2)
        elif p == "/fault/huge":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"y" * 65536
            for _ in range(160):  # 10 MiB
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        elif p == "/fault/loop":
            self.send(302, extra=[("Location", "/fault/loop")])
        elif p == "/fault/file":
            self.send(302, extra=[("Location", "file:///etc/passwd")])
        elif p == "/fault/notjson":
            self.send(200, b"<html>oops</html>", "text/html")
        else:
            self.send(404, b"not found", "text/plain")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode("utf-8", "replace")
        if POSTS:
            rec = {"path": self.path, "body": body,
                   "headers": {k.lower(): v for k, v in self.headers.items()}}
            with POSTS_LOCK, open(POSTS, "a") as f:
                f.write(json.dumps(rec) + "\n")
        if self.path == "/deny":
            auth = self.headers.get("Authorization", "")
            self.send(401, ("denied: " + auth).encode(), "text/plain")
        else:
            self.send(200, b'{"ok": true}')


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # lookout opens up to 50 connections at once; socketserver's default
    # backlog of 5 drops the others' SYNs, which are resent a second later.
    request_queue_size = 128


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    with open(sys.argv[1], "w") as f:
        f.write(str(srv.server_address[1]))
    srv.serve_forever()


if __name__ == "__main__":
    main()
