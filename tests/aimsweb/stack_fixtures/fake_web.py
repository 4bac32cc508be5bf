"""A stand-in for the web process of a Procfile under test: answers GET /healthz as AIMS does once its task queue
has a cluster, on the port in AIMS_PORT, and exits 0 on SIGTERM (as daphne does)."""

import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"status": "ok", "task_queue": {"clusters": 1}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
server = HTTPServer(("127.0.0.1", int(os.environ["AIMS_PORT"])), Health)
print("fake web listening", flush=True)
server.serve_forever()
