"""The simulated ServiceNow instance: incidents, their journal (`sys_journal_field`), the business-rule callbacks
and the log of every write.

Every operation runs under the World lock (the caller holds it). A change by a person (the admin routes) calls
every registered callback with the record and the journal entries it added, like an after-update business rule
posting with RESTMessageV2; changes by the API user do not (the rule's condition excludes it), unless the
`servicenow_api_callbacks` fault lets one slip through. Callbacks are fire-once, as executeAsync is.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from simulator import notify as notify_mod
from simulator.snow_schema import (
    API_USER,
    FIELDS,
    JOURNAL_FIELDS,
    LABELS,
    PRIORITY_MATRIX,
    WRITABLE,
    coerce,
    missing_close_fields,
    snow_time,
)
from simulator.timefmt import iso7

if TYPE_CHECKING:
    from simulator.world.state import World

FIRST_NUMBER = 10001


class SnowError(Exception):
    """Rendered as {"error": {"message", "detail"}, "status": "failure"} with `status`."""

    def __init__(self, status: int, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.detail = detail


@dataclass(slots=True)
class Callback:
    url: str
    header_name: str
    header_value: str


class SnowInstance:
    def __init__(self, seed: int) -> None:
        self.incidents: dict[str, dict[str, str]] = {}
        self.journal: list[dict[str, str]] = []
        self.writes: dict[str, list[dict[str, Any]]] = {}
        self.callbacks: list[Callback] = []
        self.next_number = FIRST_NUMBER
        self.write_seq = 0
        self.rng = random.Random(f"{seed}/servicenow")

    def _sys_id(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def find(self, sys_id: str) -> dict[str, str]:
        record = self.incidents.get(sys_id)
        if record is None:
            raise SnowError(404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval")
        return record

    # ----------------------------------------------------------------------------------------- writes

    def create(self, world: World, body: Any, user: str = API_USER) -> dict[str, str]:
        values = _values(body)
        now = snow_time(world.now_us())
        record = dict.fromkeys(FIELDS, "")
        record.update(
            sys_id=self._sys_id(),
            number=f"INC{self.next_number:07d}",
            urgency="3",
            impact="3",
            state="1",
            active="true",
            opened_at=now,
            opened_by=user,
            sys_created_on=now,
            sys_created_by=user,
            sys_mod_count="0",
        )
        changes = self._apply(world, record, values, user, now)
        self.next_number += 1
        self.incidents[record["sys_id"]] = record
        self.writes[record["sys_id"]] = []
        self._log(world, record, user, "create", changes)
        self._maybe_call_back(world, record, user, "incident.created", changes)
        return record

    def update(self, world: World, record: dict[str, str], body: Any, user: str = API_USER) -> dict[str, str]:
        values = _values(body)
        candidate = dict(record)
        changes = self._apply(world, candidate, values, user, snow_time(world.now_us()))
        record.update(candidate)
        self._log(world, record, user, _kind(changes), changes)
        if changes:
            self._maybe_call_back(world, record, user, "incident.updated", changes)
        return record

    def _apply(
        self, world: World, record: dict[str, str], values: dict[str, str], user: str, now: str
    ) -> dict[str, str]:
        """Write `values` into `record` (a copy for updates: nothing half-saved) and return what changed."""
        changes = {k: v for k, v in values.items() if k not in JOURNAL_FIELDS and record.get(k) != v}
        record.update(changes)
        missing = missing_close_fields(record)
        if missing:
            names = ", ".join(f"{LABELS[name]} ({name})" for name in missing)
            raise SnowError(
                403, "Operation Failed", f"Data Policy Exception: The following fields are mandatory: {names}"
            )
        record["incident_state"] = record["state"]
        record["priority"] = PRIORITY_MATRIX[(record["impact"] or "3", record["urgency"] or "3")]
        if "state" in changes:
            state = record["state"]
            record["active"] = "false" if state in ("7", "8") else "true"
            if state in ("6", "7") and not record["resolved_at"]:
                record.update(resolved_at=now, resolved_by=user)
            if state == "7":
                record.update(closed_at=now, closed_by=user)
            if state in ("1", "2", "3"):
                record.update(resolved_at="", resolved_by="", closed_at="", closed_by="")
        for element in JOURNAL_FIELDS:
            text = values.get(element, "")
            if text.strip():
                changes[element] = text
        if changes:
            record.update(sys_updated_on=now, sys_updated_by=user)
            if record["sys_id"] in self.incidents:
                record["sys_mod_count"] = str(int(record["sys_mod_count"] or 0) + 1)
            for element in JOURNAL_FIELDS:
                if element in changes:
                    self.journal.append(
                        {
                            "sys_id": self._sys_id(),
                            "element": element,
                            "element_id": record["sys_id"],
                            "name": "incident",
                            "value": changes[element],
                            "sys_created_on": now,
                            "sys_created_by": user,
                        }
                    )
        return changes

    def _log(self, world: World, record: dict[str, str], user: str, what: str, changes: dict[str, str]) -> None:
        self.write_seq += 1
        self.writes[record["sys_id"]].append(
            {
                "n": self.write_seq,
                "at": iso7(world.now_us()),
                "who": "api" if user == API_USER else "person",
                "actor": user,
                "what": what,
                "summary": "; ".join(f"{k}={v[:80]!r}" for k, v in changes.items()) or "no change",
                "changes": dict(changes),
            }
        )

    def _maybe_call_back(
        self, world: World, record: dict[str, str], user: str, event: str, changes: dict[str, str]
    ) -> None:
        if not self.callbacks:
            return
        if user == API_USER and not world.faults.unwanted_api_callback():
            return
        journal = [
            {
                "element": element,
                "value": changes[element],
                "sys_created_by": user,
                "sys_created_on": record["sys_updated_on"],
            }
            for element in JOURNAL_FIELDS
            if element in changes
        ]
        payload = {
            "event": event,
            "table": "incident",
            "sys_id": record["sys_id"],
            "number": record["number"],
            "changed": sorted(changes),
            "record": {k: v for k, v in record.items() if k not in JOURNAL_FIELDS},
            "journal": journal,
            "sys_updated_by": user,
        }
        for callback in self.callbacks:
            item = notify_mod.Outgoing(
                "servicenow_callback",
                callback.url,
                payload,
                {callback.header_name: callback.header_value},
                record["sys_id"],
                delivery_id=f"{self.rng.getrandbits(64):016x}",
            )
            world.outbox.append(item)
            if world.faults.duplicate_delivery("servicenow"):
                world.outbox.append(replace(item, headers=dict(item.headers)))

    def add_callback(self, body: dict[str, Any]) -> Callback:
        url, name, value = body.get("url"), body.get("header_name"), body.get("header_value")
        if not isinstance(url, str) or not isinstance(name, str) or not name or not isinstance(value, str):
            raise ValueError("give url, header_name and header_value (strings)")
        notify_mod.check_notify_url(url, False)
        callback = Callback(url, name, value)
        self.callbacks.append(callback)
        return callback

    # ------------------------------------------------------------------------------------------ truth

    def truth(self) -> dict[str, Any]:
        incidents = []
        for sys_id, record in self.incidents.items():
            entries = [j for j in self.journal if j["element_id"] == sys_id]
            incidents.append(
                {
                    **{k: v for k, v in record.items() if k not in JOURNAL_FIELDS},
                    "journal": [
                        {
                            "element": j["element"],
                            "value": j["value"],
                            "by": j["sys_created_by"],
                            "who": "api" if j["sys_created_by"] == API_USER else "person",
                        }
                        for j in entries
                    ],
                    "writes": [dict(w) for w in self.writes[sys_id]],
                }
            )
        callbacks = [{"url": c.url, "header_name": c.header_name} for c in self.callbacks]
        return {"count": len(incidents), "incidents": incidents, "callbacks": callbacks}


def _values(body: Any) -> dict[str, str]:
    if not isinstance(body, dict):
        raise SnowError(400, "Invalid request body", "The request body must be a JSON object")
    out = {}
    for name in WRITABLE:
        if name in body:
            try:
                out[name] = coerce(name, body[name])
            except ValueError as exc:
                raise SnowError(400, str(exc), f"field '{name}'") from None
    return out


def _kind(changes: dict[str, str]) -> str:
    if not changes:
        return "noop"
    if "state" in changes:
        return "transition"
    if "comments" in changes:
        return "comment"
    if "work_notes" in changes:
        return "work_note"
    return "field"
