#!/usr/bin/env python3
"""message-bus: seed 000's service, as the demo runs it (tools/demo-console.sh).

Serves GET /api/inbox/joe on 127.0.0.1:PORT.  As shipped it dies at
start-up with "NameError: name 'queue' is not defined", because the line
"import queue" is missing below; the demo's fix-seed-000 runbook adds it.

Usage: message_bus.py PORT
"""
import http.server
import json
import sys
import time

PORT = int(sys.argv[1])

# The start-up banner goes out first, and the app waits a moment before it
# loads: journald (252) names the unit of a stdout stream from its writer's
# /proc when the stream's first line arrives, so a process that printed
# nothing until its traceback, and then died, would leave lines without
# their unit, and a unit's journal would not show them.
print("message-bus: starting on 127.0.0.1:%d" % PORT, flush=True)
time.sleep(1)

inbox = queue.Queue()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        if self.path != "/api/inbox/joe":
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = json.dumps({"user": "joe", "messages": [],
                           "pending": inbox.qsize()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


print("message-bus: serving /api/inbox/joe", flush=True)
http.server.HTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
