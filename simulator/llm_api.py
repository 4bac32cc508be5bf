"""A deterministic OpenAI-compatible chat endpoint.

With `response_format: {"type": "json_schema", ...}` it walks the schema and produces an object that validates
against it; when the schema looks like a failure analysis (an enum containing "transient") the content is
chosen from keywords in the user messages, so downstream code sees sensible, stable answers.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simulator.web import bearer_token, json_response, with_faults, world_of

# Checked in order: the first category with a matching keyword wins (code before data_quality, so that
# NullPointerException is code rather than a 'null' data problem).
CATEGORY_KEYWORDS: list[tuple[str, tuple[str, ...]]] = [
    (
        "transient",
        (
            "timeout",
            "timed out",
            "throttl",
            "429",
            "503",
            "connection reset",
            "temporarily unavailable",
            "too many requests",
            "try again",
            "communication link failure",
            "socket",
        ),
    ),
    (
        "resource",
        (
            "outofmemory",
            "out of memory",
            "quota",
            "capacity",
            "insufficient",
            "disk space",
            "no space left",
            "exceeded the limit",
        ),
    ),
    (
        "permission",
        (
            "permission",
            "403",
            "authorizationfailed",
            "access denied",
            "forbidden",
            "unauthorized",
            "not authorized",
            "authenticationfailed",
        ),
    ),
    (
        "configuration",
        (
            "not found",
            "not_found",
            "cannot be found",
            "could not be found",
            "doesn't exist",
            "missing",
            "invalid config",
            "does not exist",
            "no such",
            "invalid value",
            "misconfigur",
        ),
    ),
    (
        "code",
        (
            "nameerror",
            "typeerror",
            "nullpointer",
            "attributeerror",
            "keyerror",
            "indexerror",
            "valueerror",
            "syntaxerror",
            "zerodivision",
            "exception in user code",
        ),
    ),
    ("data_quality", ("null", "schema", "duplicate", "constraint", "cannot cast", "malformed", "corrupt")),
]
RETRYABLE = {"transient", "resource"}
ACTIONS = {
    "transient": ["Retry the run; the failure looks transient.", "If it keeps failing, check the service health."],
    "resource": ["Retry on a larger cluster or after capacity frees up.", "Review memory and quota settings."],
    "permission": ["Grant the job's identity the missing permission.", "Check token or credential expiry."],
    "configuration": ["Fix the missing or invalid configuration.", "Verify that referenced objects exist."],
    "data_quality": ["Inspect the offending input rows.", "Add validation for nulls, schema and duplicates."],
    "code": ["Fix the bug in the job's code.", "Add a test that reproduces the failure."],
    "unknown": ["Read the full error and run logs.", "Escalate to the pipeline owner."],
}


def categorize(text: str) -> str:
    lowered = text.lower()
    for category, words in CATEGORY_KEYWORDS:
        if any(word in lowered for word in words):
            return category
    return "unknown"


class SchemaFiller:
    """Produce a value that validates against a (strict, OpenAI-style) JSON schema."""

    def __init__(self, root: dict[str, Any], category: str, excerpt: str) -> None:
        self.root = root
        self.category = category
        self.excerpt = excerpt

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        seen = 0
        while "$ref" in schema and seen < 32:
            ref = schema["$ref"]
            if not ref.startswith("#/"):
                raise ValueError(f"unsupported $ref {ref!r}")
            node: Any = self.root
            for part in ref[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
            schema = {**node, **{k: v for k, v in schema.items() if k != "$ref"}}
            seen += 1
        return schema

    def value(self, schema: dict[str, Any], name: str = "") -> Any:
        schema = self.resolve(schema)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return self.enum(schema["enum"])
        for key in ("anyOf", "oneOf"):
            if key in schema:
                options = [self.resolve(o) for o in schema[key]]
                non_null = [o for o in options if o.get("type") != "null"] or options
                return self.value(non_null[0], name)
        if "allOf" in schema:
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                merged.update(self.resolve(part))
            return self.value(merged, name)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind == "object" or (kind is None and "properties" in schema):
            return self.obj(schema)
        if kind == "array":
            return self.array(schema, name)
        if kind == "string":
            return self.string(schema, name)
        if kind in ("integer", "number"):
            return self.number(schema, name, kind)
        if kind == "boolean":
            return self.boolean(name)
        if kind == "null":
            return None
        return self.string({}, name)

    def enum(self, options: list[Any]) -> Any:
        if self.category in options:
            return self.category
        lowered = {str(o).lower(): o for o in options}
        if self.category in lowered:
            return lowered[self.category]
        return lowered.get("unknown", options[0])

    def obj(self, schema: dict[str, Any]) -> dict[str, Any]:
        props = schema.get("properties", {})
        return {key: self.value(sub, key) for key, sub in props.items()}

    def array(self, schema: dict[str, Any], name: str) -> list[Any]:
        items = self.resolve(schema.get("items", {"type": "string"}))
        if items.get("type") == "string" and "enum" not in items:
            values: list[Any] = list(ACTIONS.get(self.category, ACTIONS["unknown"]))
        else:
            values = [self.value(items, name)]
        lo, hi = int(schema.get("minItems", 0)), schema.get("maxItems")
        while len(values) < lo:
            values.append(values[-1] if values else self.value(items, name))
        return values[: int(hi)] if hi is not None else values

    def string(self, schema: dict[str, Any], name: str) -> str:
        lowered = name.lower()
        category = self.category.replace("_", " ")
        if "summary" in lowered:
            text = f"The run failed with a {category} error: {self.excerpt}"
        elif "root_cause" in lowered or "cause" in lowered or "reason" in lowered or "explanation" in lowered:
            text = f"Most likely a {category} problem, based on the error message."
        elif "category" in lowered or "label" in lowered:
            text = self.category
        elif "action" in lowered or "fix" in lowered or "remediation" in lowered:
            text = ACTIONS.get(self.category, ACTIONS["unknown"])[0]
        else:
            text = f"simulated {lowered or 'value'} ({category})"
        lo, hi = int(schema.get("minLength", 0)), schema.get("maxLength")
        if len(text) < lo:
            text = text + "." * (lo - len(text))
        return text[: int(hi)] if hi is not None else text

    def number(self, schema: dict[str, Any], name: str, kind: str) -> int | float:
        value: float = 80 if "confidence" in name.lower() else 1
        if "maximum" in schema and "confidence" in name.lower() and float(schema["maximum"]) <= 1:
            value = 0.8
        if "minimum" in schema:
            value = max(value, float(schema["minimum"]))
        if "exclusiveMinimum" in schema:
            value = max(value, float(schema["exclusiveMinimum"]) + 1)
        if "maximum" in schema:
            value = min(value, float(schema["maximum"]))
        if "exclusiveMaximum" in schema:
            value = min(value, float(schema["exclusiveMaximum"]) - (1 if kind == "integer" else 0.01))
        return int(value) if kind == "integer" else float(value)

    def boolean(self, name: str) -> bool:
        lowered = name.lower()
        if "retry" in lowered or "retri" in lowered or "transient" in lowered:
            return self.category in RETRYABLE
        return False


def _user_text(messages: list[dict[str, Any]]) -> str:
    parts = []
    for msg in messages:
        if msg.get("role") != "user":
            continue
        content = msg.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "\n".join(parts)


def _excerpt(text: str) -> str:
    line = next((ln.strip() for ln in text.splitlines() if re.search(r"error|exception|fail", ln, re.I)), "")
    line = line or (text.strip().splitlines() or [""])[0]
    return line[:160]


LLM_REQUESTS_KEPT = 2000


def complete(body: dict[str, Any]) -> str:
    """The assistant message content for a chat request."""
    text = _user_text(body.get("messages") or [])
    category = categorize(text)
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema") or {"type": "object", "properties": {}}
        return json.dumps(SchemaFiller(schema, category, _excerpt(text)).value(schema))
    if fmt.get("type") == "json_object":
        return json.dumps({"category": category, "should_retry": category in RETRYABLE, "confidence": 80})
    return f"Simulated analysis: this looks like a {category.replace('_', ' ')} failure. {_excerpt(text)}".strip()


def _llm_error(status: int, message: str, type_: str, code: str | None) -> Response:
    headers = {"retry-after": "1"} if status == 429 else None
    return json_response({"error": {"message": message, "type": type_, "param": None, "code": code}}, status, headers)


def _fault(kind: str) -> Response:
    if kind == "429":
        return _llm_error(429, "Rate limit reached for requests (simulated).", "requests", "rate_limit_exceeded")
    if kind == "503":
        return _llm_error(503, "The server is overloaded or not ready yet.", "server_error", None)
    return _llm_error(500, "The server had an error while processing your request.", "server_error", None)


async def chat_completions(request: Request) -> Response:
    world = world_of(request)
    world.count_call("llm.chat.completions")
    if bearer_token(request) is None:
        return _llm_error(401, "You didn't provide an API key.", "invalid_request_error", "invalid_api_key")
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        return _llm_error(400, "We could not parse the JSON body of your request.", "invalid_request_error", None)
    if not isinstance(body, dict) or not body.get("messages"):
        return _llm_error(400, "'messages' is a required property", "invalid_request_error", None)

    async def handle() -> Response:
        try:
            content = complete(body)
        except (ValueError, KeyError) as exc:
            return _llm_error(400, f"Invalid schema for response_format: {exc}", "invalid_request_error", None)
        with world.lock:
            world.llm_counter += 1
            number = world.llm_counter
            world.llm_requests = [*world.llm_requests[-(LLM_REQUESTS_KEPT - 1) :], body]
            if "__content__" in world.llm_override:
                content = str(world.llm_override["__content__"])  # a raw answer, e.g. text that is not JSON
            elif world.llm_override and (body.get("response_format") or {}).get("type") == "json_schema":
                # Tests force answers the schema or the client must reject (bad enum, low confidence).
                content = json.dumps({**json.loads(content), **world.llm_override})
            created = world.now_us() // 1_000_000
        prompt_chars = sum(len(json.dumps(m)) for m in body["messages"])
        prompt_tokens, completion_tokens = max(1, prompt_chars // 4), max(1, len(content) // 4)
        return json_response(
            {
                "id": f"chatcmpl-sim-{number}",
                "object": "chat.completion",
                "created": created,
                "model": body.get("model") or "sim",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content, "refusal": None},
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            }
        )

    return await with_faults(world, "llm", handle, error_response=_fault, broken_write_body=None)


async def list_models(request: Request) -> Response:
    world_of(request).count_call("llm.models")
    models = [{"id": name, "object": "model", "created": 0, "owned_by": "aims-simulator"} for name in ("sim", "gpt-4o")]
    return json_response({"object": "list", "data": models})


def routes() -> list[Route]:
    return [
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/models", list_models, methods=["GET"]),
    ]
