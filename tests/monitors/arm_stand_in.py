"""A stand-in ARM endpoint on 127.0.0.1 that answers one factory's ADF operations with published sample bodies
(samples/adf_rest/), for the tests that feed those samples to the real azure-mgmt-datafactory SDK."""

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

SAMPLES = Path(__file__).parent / "samples" / "adf_rest"


def adf_sample(name: str) -> dict:
    return json.loads((SAMPLES / f"{name}.json").read_text())


class ArmStandIn:
    """Answers ARM paths of one factory with the bodies set in `answers` (by operation), recording each request."""

    OPERATIONS = (
        ("queryPipelineRuns", re.compile(r"/queryPipelineRuns$")),
        ("queryActivityruns", re.compile(r"/pipelineruns/[^/]+/queryActivityruns$")),
        ("getRun", re.compile(r"/pipelineruns/[^/]+$")),
        ("createRun", re.compile(r"/pipelines/[^/]+/createRun$")),
    )

    def __init__(self) -> None:
        self.answers: dict[str, dict] = {}
        self.requests: list[tuple[str, str, dict]] = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                operation = next((name for name, path in stand_in.OPERATIONS if path.search(url.path)), "")
                stand_in.requests.append((operation, url.path, parse_qs(url.query)))
                body = json.dumps(stand_in.answers.get(operation, {"value": []})).encode()
                self.send_response(200 if operation else 404)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
