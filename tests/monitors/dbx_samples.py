"""The Databricks samples of shared/reference/pipeline-apis.md (§3.2 runs/list, §3.3 runs/get, §3.4 get-output,
§4.1 notifications, §6.2 error bodies), trimmed to the fields AIMS reads, and a workspace on 127.0.0.1 that answers
with them, so the real databricks-sdk (and AIMS's client on it) reads exactly what the reference shows."""

import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

JOB_RUN_ID = 912345678901234
TASK_RUN_ID = 912345678901377  # transform_orders, the failed task
STATE_FAILED = {
    "life_cycle_state": "TERMINATED",
    "result_state": "FAILED",
    "state_message": "Task transform_orders failed. See the task run for details.",
    "user_cancelled_or_timedout": False,
}
STATUS_FAILED = {
    "state": "TERMINATED",
    "termination_details": {
        "code": "RUN_EXECUTION_ERROR",
        "type": "CLIENT_ERROR",
        "message": "Task transform_orders failed with message: [TABLE_OR_VIEW_NOT_FOUND] ...",
    },
}
WORKLOAD_FAILED = "Workload failed, see run output for details"
RUN_PAGE_URL = "https://adb-1234567890123456.7.azuredatabricks.net/?o=1234567890123456#job/684127337461209/run/"

# §3.2 GET /api/2.2/jobs/runs/list: one failed run, more runs on a next page.
RUNS_LIST = {
    "runs": [
        {
            "job_id": 684127337461209,
            "run_id": JOB_RUN_ID,
            "run_name": "orders_daily",
            "run_type": "JOB_RUN",
            "trigger": "PERIODIC",
            "start_time": 1741917600512,
            "end_time": 1741918215034,
            "run_duration": 614522,
            "state": STATE_FAILED,
            "status": STATUS_FAILED,
            "run_page_url": f"{RUN_PAGE_URL}{JOB_RUN_ID}",
            "job_run_id": JOB_RUN_ID,
        }
    ],
    "has_more": True,
    "next_page_token": "CAEQ7q3-tMkyGIDgu8bYnZAB",
    "prev_page_token": "CAAQ7q3-tMkyGIDgu8bYnZAB",
}
# The page after it: `runs` is omitted when a page is empty (§3.2).
RUNS_LIST_LAST = {"has_more": False}


def task(key: str, run_id: int, *, failed: bool = False, start: int = 1741917600530) -> dict[str, Any]:
    """A RunTask of §3.3: succeeded, or failed with only the generic message (the error is in get-output)."""
    if failed:
        state = {"life_cycle_state": "TERMINATED", "result_state": "FAILED", "state_message": WORKLOAD_FAILED}
        status = {
            "state": "TERMINATED",
            "termination_details": {"code": "RUN_EXECUTION_ERROR", "type": "CLIENT_ERROR", "message": WORKLOAD_FAILED},
        }
    else:
        state = {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS", "state_message": ""}
        status = {"state": "TERMINATED", "termination_details": {"code": "SUCCESS", "type": "SUCCESS", "message": ""}}
    return {
        "task_key": key,
        "run_id": run_id,
        "attempt_number": 1 if failed else 0,
        "state": state,
        "status": status,
        "start_time": start,
        "end_time": start + 1000,
        "run_page_url": f"{RUN_PAGE_URL}{run_id}",
    }


# §3.3 GET /api/2.2/jobs/runs/get: the same run with its two tasks.
RUNS_GET = {
    **RUNS_LIST["runs"][0],
    "attempt_number": 0,
    "job_parameters": [{"name": "load_date", "default": "", "value": "2025-03-14"}],
    "tasks": [
        task("ingest_orders", 912345678901301),
        task("transform_orders", TASK_RUN_ID, failed=True, start=1741917985004),
    ],
    "has_more": False,
}

# §3.4 GET /api/2.2/jobs/runs/get-output?run_id=<the failed task run>.
ERROR = "AnalysisException: [TABLE_OR_VIEW_NOT_FOUND] The table or view `raw`.`orders` cannot be found. SQLSTATE: 42P01"
TRACE = (
    "---------------------------------------------------------------------------\n"
    "AnalysisException                         Traceback (most recent call last)\n"
    "File <command-3370548612>, line 4\n"
    '----> 4 df = spark.table("raw.orders")\n'
    "..."
)
GET_OUTPUT = {
    "metadata": {"job_id": 684127337461209, "run_id": TASK_RUN_ID, "job_run_id": JOB_RUN_ID, "state": {}},
    "error": ERROR,
    "error_trace": TRACE,
    "notebook_output": {},
}

# §4.1 notification payloads: job level, and task level (the run is the task run, its parent the job run).
NOTIFY_JOB = {
    "event_type": "jobs.on_failure",
    "workspace_id": "1234567890123456",
    "run": {"run_id": str(JOB_RUN_ID)},
    "job": {"job_id": "684127337461209", "name": "orders_daily"},
}
NOTIFY_TASK = {
    "event_type": "jobs.on_failure",
    "workspace_id": "1234567890123456",
    "task": {"task_key": "transform_orders"},
    "run": {"run_id": str(TASK_RUN_ID), "parent_run_id": str(JOB_RUN_ID)},
    "job": {"job_id": "684127337461209", "name": "orders_daily"},
}

# §6.2 error bodies.
THROTTLED = {
    "error_code": "REQUEST_LIMIT_EXCEEDED",
    "message": "Your request was rejected due to API rate limit. Please retry your request later, "
    "or choose a larger time range for your polling frequency.",
}
UNKNOWN_RUN = {"error_code": "INVALID_PARAMETER_VALUE", "message": "Run 912345678909999 does not exist."}

Answer = tuple[int, dict[str, str], Any]


class SampleWorkspace:
    """Answers each API path with its queue of (status, headers, body), the last one repeated; keeps the queries."""

    def __init__(self) -> None:
        self.answers: dict[str, list[Answer]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parts.query))
                if parts.path == "/.well-known/databricks-config":
                    status, headers, body = 200, {}, {}
                else:
                    outer.requests.append((parts.path, query))
                    queue = outer.answers.get(parts.path) or [(404, {}, {"error_code": "ENDPOINT_NOT_FOUND"})]
                    status, headers, body = queue.pop(0) if len(queue) > 1 else queue[0]
                    if callable(body):
                        body = body(query)
                data = json.dumps(body).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, path: str, *answers: Answer) -> None:
        self.answers[f"/api/2.2/jobs/{path}"] = list(answers)

    def calls(self, path: str) -> list[dict[str, str]]:
        return [query for called, query in self.requests if called == f"/api/2.2/jobs/{path}"]


@contextmanager
def sample_workspace() -> Iterator[SampleWorkspace]:
    workspace = SampleWorkspace()
    thread = threading.Thread(target=workspace.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield workspace
    finally:
        workspace.server.shutdown()
        workspace.server.server_close()
