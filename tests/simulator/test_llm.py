"""The OpenAI-compatible endpoint through the real openai client's parse() helper."""

from __future__ import annotations

from typing import Literal

import pytest
import requests
from pydantic import BaseModel, Field

from simulator.llm_api import SchemaFiller, categorize

Category = Literal["transient", "resource", "permission", "configuration", "data_quality", "code", "unknown"]


class Step(BaseModel):
    action: str
    owner: str | None


class FailureAnalysis(BaseModel):
    category: Category
    should_retry: bool
    confidence: int = Field(ge=0, le=100)
    summary: str
    root_cause: str
    recommended_actions: list[str]
    first_step: Step | None


@pytest.mark.parametrize(
    ("message", "category", "retry"),
    [
        ("java.net.SocketTimeoutException: Read timed out", "transient", True),
        ("OutOfMemoryError: Java heap space", "resource", True),
        ("AuthorizationFailed: the client does not have permission", "permission", False),
        (
            "AnalysisException: [TABLE_OR_VIEW_NOT_FOUND] The table or view `raw`.`orders` cannot be found.",
            "configuration",
            False,
        ),
        ("Violation of PRIMARY KEY constraint: duplicate key", "data_quality", False),
        ("NameError: name 'dbutils' is not defined", "code", False),
        ("Something odd happened", "unknown", False),
    ],
)
def test_chat_parse_returns_valid_analysis_for_error_category(sim, message, category, retry):
    client = sim.openai_client()
    completion = client.chat.completions.parse(
        model="sim-model",
        messages=[
            {"role": "system", "content": "You classify pipeline failures."},
            {"role": "user", "content": f"Pipeline failed with:\n{message}"},
        ],
        response_format=FailureAnalysis,
    )
    parsed = completion.choices[0].message.parsed
    assert isinstance(parsed, FailureAnalysis)
    assert parsed.category == category and parsed.should_retry is retry
    assert 0 <= parsed.confidence <= 100 and parsed.confidence == 80
    assert category.replace("_", " ") in parsed.summary and parsed.recommended_actions
    assert completion.model == "sim-model" and completion.id.startswith("chatcmpl-sim-")
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens


def test_chat_plain_text_and_models_endpoint(sim):
    client = sim.openai_client()
    reply = client.chat.completions.create(model="sim", messages=[{"role": "user", "content": "HTTP 503 from API"}])
    assert "transient" in reply.choices[0].message.content
    assert "sim" in [m.id for m in client.models.list().data]


def test_chat_without_token_is_401(sim):
    resp = requests.post(
        sim.url + "/v1/chat/completions", json={"model": "x", "messages": [{"role": "user", "content": "x"}]}
    )
    assert resp.status_code == 401


def test_schema_filler_handles_refs_bounds_and_enums_without_transient():
    schema = {
        "$defs": {"Sev": {"enum": ["low", "high"], "type": "string"}},
        "type": "object",
        "properties": {
            "severity": {"$ref": "#/$defs/Sev"},
            "score": {"type": "number", "minimum": 0, "maximum": 1},
            "confidence": {"type": "integer", "minimum": 90, "maximum": 95},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 3, "maxItems": 3},
            "note": {"anyOf": [{"type": "null"}, {"type": "string", "maxLength": 5}]},
        },
        "required": ["severity", "score", "confidence", "tags", "note"],
        "additionalProperties": False,
    }
    value = SchemaFiller(schema, categorize("timeout"), "boom").value(schema)
    assert value["severity"] == "low"
    assert 0 <= value["score"] <= 1
    assert value["confidence"] == 90
    assert len(value["tags"]) == 3
    assert isinstance(value["note"], str) and len(value["note"]) <= 5
