"""Fault injection for the platform APIs: throttling, server errors, slowness and broken bodies."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from simulator.scenarios import normalize_faults


class FaultInjector:
    """Seeded decision 'does this call fail, and how'. Not thread-safe on its own: the World lock guards it."""

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        self.injected: Counter[str] = Counter()
        self.configure(config)

    def configure(self, config: dict[str, Any] | None) -> None:
        self.config = normalize_faults(config)
        self.rng = random.Random(f"faults/{self.config['seed']}")
        self.remaining: int | None = self.config["count"]

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
        self.injected[kind] += 1
        if self.remaining is not None:
            self.remaining -= 1
        return kind
