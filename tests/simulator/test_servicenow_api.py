"""The simulated ServiceNow Table API: shapes, auth, encoded queries and paging, the journal, the close rule,
business-rule callbacks and faults, through plain HTTP."""

from __future__ import annotations

import time

import pytest
import requests

from simulator.testing import SimulatorError

TABLE = "/api/now/table/incident"


def _create(sim, **fields) -> requests.Response:
    body = {"short_description": "pl_daily_orders failed", "urgency": "2", "impact": "2", **fields}
    return requests.post(sim.url + TABLE, json=body, auth=sim.servicenow_auth, timeout=5)


def _patch(sim, sys_id: str, **fields) -> requests.Response:
    return requests.patch(sim.url + f"{TABLE}/{sys_id}", json=fields, auth=sim.servicenow_auth, timeout=5)


def _list(sim, path: str = TABLE, **params) -> requests.Response:
    return requests.get(sim.url + path, params=params, auth=sim.servicenow_auth, timeout=5)


def test_servicenow_create_returns_string_fields_and_number(sim):
    resp = _create(sim, urgency=1, impact=1, correlation_id="aims-17", correlation_display="AIMS")
    assert resp.status_code == 201
    result = resp.json()["result"]
    assert result["number"] == "INC0010001" and len(result["sys_id"]) == 32
    assert result["state"] == "1" and result["urgency"] == "1" and result["priority"] == "1"
    assert result["correlation_id"] == "aims-17" and result["sys_created_by"] == "aims.integration"
    assert result["sys_updated_on"] == "2025-03-14 00:00:00"
    assert all(isinstance(value, str) for value in result.values())
    assert resp.headers["Location"].endswith(result["sys_id"])
    assert _create(sim).json()["result"]["number"] == "INC0010002"


@pytest.mark.parametrize(
    ("fields", "name"),
    [
        ({"state": "4"}, "state"),
        ({"urgency": "9"}, "urgency"),
        ({"impact": 0}, "impact"),
        ({"close_code": "Magic"}, "close_code"),
        ({"short_description": ["x"]}, "short_description"),
    ],
)
def test_servicenow_value_outside_choices_is_400_naming_field(sim, fields, name):
    resp = _create(sim, **fields)
    assert resp.status_code == 400
    body = resp.json()
    assert body["status"] == "failure" and name in body["error"]["message"]
    assert sim.servicenow_truth() == []


def test_servicenow_bad_credentials_are_401_in_servicenow_shape(sim):
    for auth in [("aims.integration", "nope"), ("admin", "snow-sim-password"), None]:
        resp = requests.get(sim.url + TABLE, auth=auth, timeout=5)
        assert resp.status_code == 401
        assert resp.json() == {
            "error": {"message": "User Not Authenticated", "detail": "Required to provide Auth information"},
            "status": "failure",
        }


def test_servicenow_resolve_without_close_fields_is_403_and_nothing_saved(sim):
    sys_id = _create(sim).json()["result"]["sys_id"]
    resp = _patch(sim, sys_id, state="6", close_code="Solution provided", work_notes="resolving")
    assert resp.status_code == 403
    assert resp.json()["status"] == "failure" and "close_notes" in resp.json()["error"]["detail"]
    assert _patch(sim, sys_id, state=7).status_code == 403
    record = sim.servicenow_truth()[0]
    assert record["state"] == "1" and record["close_code"] == "" and record["journal"] == []
    ok = _patch(sim, sys_id, state="6", close_code="Solution provided", close_notes="Rerun succeeded")
    assert ok.status_code == 200
    result = ok.json()["result"]
    assert result["state"] == "6" and result["resolved_at"] and result["resolved_by"] == "aims.integration"
    # Canceled (8) needs no close fields; closing keeps them.
    assert _patch(sim, _create(sim).json()["result"]["sys_id"], state="8").status_code == 200


def test_servicenow_unknown_record_is_404(sim):
    resp = requests.get(sim.url + f"{TABLE}/{'0' * 32}", auth=sim.servicenow_auth, timeout=5)
    assert resp.status_code == 404 and resp.json()["error"]["message"] == "No Record found"
    assert _patch(sim, "0" * 32, state="2").status_code == 404


def test_servicenow_journal_entries_readable_from_sys_journal_field(sim):
    sys_id = _create(sim, work_notes="opened by AIMS").json()["result"]["sys_id"]
    _patch(sim, sys_id, comments="customer visible")
    sim.servicenow_update(sys_id, work_notes="looking into it")
    other = _create(sim, work_notes="other incident").json()["result"]["sys_id"]
    assert other != sys_id
    query = f"element_id={sys_id}^ORDERBYsys_created_on"
    entries = _list(sim, "/api/now/table/sys_journal_field", sysparm_query=query).json()["result"]
    assert [(e["element"], e["value"], e["sys_created_by"]) for e in entries] == [
        ("work_notes", "opened by AIMS", "aims.integration"),
        ("comments", "customer visible", "aims.integration"),
        ("work_notes", "looking into it", "alice.oncall"),
    ]
    got = requests.get(sim.url + f"{TABLE}/{sys_id}", auth=sim.servicenow_auth, timeout=5).json()["result"]
    assert got["work_notes"] == "" and got["sys_updated_by"] == "alice.oncall"


def test_servicenow_list_query_fields_paging_and_headers(sim):
    ids = [_create(sim, correlation_id=f"aims-{n % 2}").json()["result"]["sys_id"] for n in range(5)]
    sim.advance(120)
    _patch(sim, ids[0], state="2")
    resp = _list(
        sim,
        sysparm_query="correlation_id=aims-0^ORDERBYDESCsys_updated_on",
        sysparm_fields="sys_id,state,correlation_id",
        sysparm_limit=2,
    )
    assert resp.status_code == 200 and resp.headers["X-Total-Count"] == "3"
    rows = resp.json()["result"]
    assert rows[0] == {"sys_id": ids[0], "state": "2", "correlation_id": "aims-0"}
    assert 'rel="next"' in resp.headers["Link"] and 'rel="last"' in resp.headers["Link"]
    next_url = next(p for p in resp.headers["Link"].split(",") if 'rel="next"' in p).split(">")[0].lstrip("<")
    second = requests.get(next_url, auth=sim.servicenow_auth, timeout=5)
    assert [r["sys_id"] for r in second.json()["result"]] == [ids[4]]
    assert 'rel="next"' not in second.headers["Link"]
    recent = _list(sim, sysparm_query="sys_updated_on>=2025-03-14 00:01:00").json()["result"]
    assert [r["sys_id"] for r in recent] == [ids[0]]
    generated = "sys_updated_on>=javascript:gs.dateGenerate('2025-03-14','00:01:00')"
    assert [r["sys_id"] for r in _list(sim, sysparm_query=generated).json()["result"]] == [ids[0]]


def test_servicenow_display_values(sim):
    sys_id = _create(sim).json()["result"]["sys_id"]
    shown = requests.get(
        sim.url + f"{TABLE}/{sys_id}",
        params={"sysparm_display_value": "true", "sysparm_fields": "state,urgency"},
        auth=sim.servicenow_auth,
        timeout=5,
    ).json()["result"]
    assert shown == {"state": "New", "urgency": "2 - Medium"}
    both = _list(sim, sysparm_display_value="all", sysparm_fields="state").json()["result"][0]
    assert both == {"state": {"display_value": "New", "value": "1"}}


@pytest.mark.parametrize("query", ["nosuchfield=1", "state=1^ORcategory=network", "ORDERBYnosuch", "state~1"])
def test_servicenow_unsupported_query_is_400(sim, query):
    _create(sim)
    resp = _list(sim, sysparm_query=query)
    assert resp.status_code == 400 and resp.json()["status"] == "failure"


def test_servicenow_callback_only_for_person_changes(sim, receiver):
    sim.servicenow_add_callback(receiver.url + "/hooks/snow", "X-AIMS-Token", "t0ken")
    sys_id = _create(sim).json()["result"]["sys_id"]
    _patch(sim, sys_id, state="2", work_notes="AIMS acknowledged")
    sim.servicenow_update(
        sys_id, person="bob.dataeng", state="6", close_code="Workaround provided", close_notes="ok", work_notes="fixed"
    )
    got = receiver.wait_for(1)
    time.sleep(0.3)
    assert len(receiver.received) == 1
    item = got[0]
    assert item["headers"]["X-AIMS-Token"] == "t0ken"
    body = item["json"]
    assert body["sys_id"] == sys_id and body["sys_updated_by"] == "bob.dataeng"
    assert body["record"]["state"] == "6" and body["record"]["close_code"] == "Workaround provided"
    assert body["journal"] == [
        {
            "element": "work_notes",
            "value": "fixed",
            "sys_created_by": "bob.dataeng",
            "sys_created_on": "2025-03-14 00:00:00",
        }
    ]
    assert "state" in body["changed"]


def test_servicenow_fault_calls_back_for_api_change_once(sim, receiver):
    sim.servicenow_add_callback(receiver.url + "/hooks/snow", "X-AIMS-Token", "t")
    sim.set_faults(rate=0.0, servicenow_api_callbacks=1)
    sys_id = _create(sim).json()["result"]["sys_id"]
    _patch(sim, sys_id, state="2")
    receiver.wait_for(1)
    time.sleep(0.3)
    assert [r["json"]["event"] for r in receiver.received] == ["incident.created"]
    assert sim.stats()["faults_by_source"] == {"servicenow.api_callback": 1}


def test_servicenow_person_update_breaking_close_rule_is_refused(sim):
    sys_id = _create(sim).json()["result"]["sys_id"]
    with pytest.raises(SimulatorError) as err:
        sim.servicenow_update(sys_id, state="7")
    assert err.value.status == 403
    with pytest.raises(SimulatorError) as err:
        sim.servicenow_update(sys_id, state="2", person="aims.integration")
    assert err.value.status == 400


def test_servicenow_truth_writes_flag_echo_candidates(sim):
    sys_id = _create(sim).json()["result"]["sys_id"]
    sim.servicenow_update(sys_id, state="2")
    _patch(sim, sys_id, state="2")  # an echo: AIMS repeats what the person did, changing nothing
    _patch(sim, sys_id, comments="note")
    writes = sim.servicenow_truth()[0]["writes"]
    assert [(w["who"], w["what"]) for w in writes] == [
        ("api", "create"),
        ("person", "transition"),
        ("api", "noop"),
        ("api", "comment"),
    ]
    assert sim.servicenow_truth()[0]["sys_mod_count"] == "2"


@pytest.mark.parametrize("kind", ["429", "500", "503"])
def test_servicenow_fault_error_kinds_answer_in_servicenow_shape(sim, kind):
    sim.set_faults(rate=1.0, kinds=[kind], retry_after=4, sources=["servicenow"])
    resp = _create(sim)
    assert resp.status_code == int(kind) and resp.json()["status"] == "failure"
    if kind != "500":
        assert resp.headers["Retry-After"] == "4"
    sim.set_faults(rate=0.0)
    assert sim.servicenow_truth() == []
    assert sim.stats()["faults_by_source"] == {f"servicenow.{kind}": 1}


@pytest.mark.parametrize("kind", ["lost", "dropped"])
def test_servicenow_fault_answer_lost_after_the_write_applied(sim, kind):
    sim.set_faults(rate=1.0, kinds=[kind], sources=["servicenow"])
    try:
        resp = _create(sim)
        assert resp.status_code == 500
    except requests.RequestException:
        assert kind == "dropped"
    sim.set_faults(rate=0.0)
    assert len(sim.servicenow_truth()) == 1
    assert sim.stats()["faults"] == {kind: 1}


def test_servicenow_faults_not_applied_to_other_sources(sim):
    sim.set_faults(rate=1.0, kinds=["500"], sources=["jira"])
    assert _create(sim).status_code == 201
    assert sim.stats()["faults"] == {}
