#!/usr/bin/env python3
"""dashboard-lite: the backend of seed 000's second incident, as the demo
runs it (tools/demo-console.sh).

The frontend now calls /api/settings/auth; this backend still has only the
old /api/auth, so the new route answers 404 with an empty body, which the
frontend's res.json() crashed on.  The process is alive and systemd says
"active": only a check of the endpoint itself sees the failure.

Usage: dashboard_lite.py PORT
"""
import http.server
import json
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/api/auth":
            body = json.dumps({"auth": "password", "sso": False}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
        else:
            body = b""
            self.send_response(404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


port = int(sys.argv[1])
print("dashboard-lite: serving /api/auth on 127.0.0.1:%d" % port, flush=True)
http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
