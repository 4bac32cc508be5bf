"""The failure callback an ADF pipeline posts from a Web activity on its failure path, as pipeline authors write it.

No service defines the body (../shared/reference/pipeline-apis.md 4.2): the author builds it from system variables
(`@{pipeline().RunId}`, `@{pipeline().TriggerTime}`) and the failed activity's error, so its shape varies by
pipeline. The shapes here, one drawn per failure from the seeded notification stream unless the notify settings pin
them: the reference's camelCase body; the same in UPPER_SNAKE keys (community templates); the MS Learn tutorial's
body (message, dataFactoryName, pipelineName, receiver: no run id, no trigger time); and a body whose run id
expression was quoted where ADF does not interpolate, so it arrives unresolved. Authentication is what a Web activity
can send: Basic auth (its `authentication` setting) or a header of AIMS's own.
"""

from __future__ import annotations

import base64
import random
from typing import Any

from simulator.adf_errors import activity_error
from simulator.model import AdfRun
from simulator.timefmt import iso7

CALLBACK_SHAPES = ("camel", "upper", "no_run_id", "unresolved")
CALLBACK_AUTH = ("basic", "token")
CALLBACK_USERNAME = "adf"
TOKEN_HEADER = "X-AIMS-Token"
# The notify settings of the callback: whether failures send it (a scenario's choice, like its alert shapes), where
# ("{factory}" becomes the factory's name), how it authenticates with notify.secret, and the shapes drawn from.
CALLBACK_DEFAULTS: dict[str, Any] = {
    "adf_callback": False,
    "adf_callback_url": None,
    "adf_callback_auth": "basic",
    "adf_callback_shapes": list(CALLBACK_SHAPES),
}
SCENARIO_KEYS = ("adf_callback", "adf_callback_shapes")


def callback_settings_check(config: dict[str, Any]) -> None:
    """The `notify.adf_callback*` settings, checked in place."""
    if not isinstance(config["adf_callback"], bool):
        raise ValueError("notify.adf_callback must be true or false")
    if config["adf_callback_auth"] not in CALLBACK_AUTH:
        raise ValueError(f"notify.adf_callback_auth must be one of {list(CALLBACK_AUTH)}")
    shapes = config["adf_callback_shapes"]
    if not isinstance(shapes, list) or not shapes or any(shape not in CALLBACK_SHAPES for shape in shapes):
        raise ValueError(f"notify.adf_callback_shapes must be a non-empty list of {list(CALLBACK_SHAPES)}")


def callback_headers(secret: str | None, auth: str) -> dict[str, str]:
    if not secret:
        return {}
    if auth == "token":
        return {TOKEN_HEADER: secret}
    return {"Authorization": "Basic " + base64.b64encode(f"{CALLBACK_USERNAME}:{secret}".encode()).decode()}


def callback_body(run: AdfRun, shape: str) -> dict[str, Any]:
    """The body the failed run's callback activity posts, in `shape` (one of CALLBACK_SHAPES)."""
    failed = next(activity for activity in run.activities if activity.outcome == "Failed")
    error = activity_error(run.failure.row, failed.name) if run.failure else {"errorCode": "", "message": ""}
    factory = run.pipeline.factory.name
    if shape == "no_run_id":
        # the tutorial's body; its receiver was written without @{}, so it arrives as typed
        return {
            "message": error["message"],
            "dataFactoryName": factory,
            "pipelineName": run.pipeline.name,
            "receiver": "@pipeline().parameters.receiver",
        }
    body = {
        "source": "adf",
        "dataFactoryName": factory,
        "pipelineName": run.pipeline.name,
        "runId": run.run_id if shape != "unresolved" else "@{pipeline().RunId}",
        "triggerType": run.invoked_by.get("invokedByType", "Manual"),
        "triggerName": run.invoked_by.get("name", "Manual"),
        "triggerTime": iso7(run.created_us),
        "failedActivity": failed.name,
        "errorCode": error["errorCode"],
        "message": error["message"],
    }
    if shape == "upper":
        upper = {"dataFactoryName": "DATA_FACTORY_NAME", "failedActivity": "ACTIVITY_NAME", "message": "ERROR_MESSAGE"}
        return {upper.get(key) or _snake(key).upper(): value for key, value in body.items()}
    return body


def callback_shape(config: dict[str, Any], rng: random.Random) -> str:
    shapes = config["adf_callback_shapes"]
    return shapes[0] if len(shapes) == 1 else rng.choice(shapes)


def _snake(key: str) -> str:
    return "".join(f"_{char}" if char.isupper() else char for char in key)
