"""Fault injection for the platform APIs: throttling, server errors, slowness, broken bodies, lost answers, and
duplicated or unwanted webhook deliveries of the ticketing systems."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from simulator.scenarios import normalize_faults


class FaultInjector:
    """Seeded decision 'does this call fail, and how'. Not thread-safe on its own: the World lock guards it."""

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        self.injected: Counter[str] = Counter()
        self.by_source: Counter[str] = Counter()
        self.configure(config)

    def configure(self, config: dict[str, Any] | None) -> None:
        self.config = normalize_faults(config)
        self.rng = random.Random(f"faults/{self.config['seed']}")
        # Deliveries draw from their own stream: a webhook queued or not must not shift the API calls' faults.
        self.delivery_rng = random.Random(f"faults/{self.config['seed']}/deliveries")
        self.remaining: int | None = self.config["count"]
        self.api_callbacks_left = int(self.config["servicenow_api_callbacks"])

    def applies_to(self, source: str) -> bool:
        if source == "llm":
            return bool(self.config["apply_to_llm"])
        return source in self.config["sources"]

    def decide(self, source: str) -> str | None:
        cfg = self.config
        if cfg["rate"] <= 0 or not cfg["kinds"] or not self.applies_to(source) or self.remaining == 0:
            return None
        if self.rng.random() >= cfg["rate"]:
            return None
        kind = self.rng.choice(cfg["kinds"])
        self._count(source, kind)
        if self.remaining is not None:
            self.remaining -= 1
        return kind

    def duplicate_delivery(self, source: str) -> bool:
        """Whether a webhook/callback of `source` is delivered twice (counted as kind `duplicate`)."""
        rate = self.config["duplicate_rate"]
        if rate <= 0 or not self.applies_to(source) or self.delivery_rng.random() >= rate:
            return False
        self._count(source, "duplicate")
        return True

    def unwanted_api_callback(self) -> bool:
        """Whether this change by the ServiceNow API user calls back anyway (counted as kind `api_callback`)."""
        if self.api_callbacks_left <= 0:
            return False
        self.api_callbacks_left -= 1
        self._count("servicenow", "api_callback")
        return True

    def _count(self, source: str, kind: str) -> None:
        self.injected[kind] += 1
        self.by_source[f"{source}.{kind}"] += 1
