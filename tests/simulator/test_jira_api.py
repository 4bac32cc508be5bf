"""The simulated Jira Cloud v3: shapes, auth, workflows by status category, JQL search, comments, admin webhooks
(signature, retries, duplicates) and faults, through plain HTTP."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
import requests

from simulator.testing import SimulatorError

ADF = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "hi"}]}]}


def _create(sim, project: str = "OPS", **fields) -> requests.Response:
    body = {
        "project": {"key": project},
        "issuetype": {"name": "Task"},
        "summary": "Pipeline pl_daily_orders failed",
        "description": ADF,
        "labels": ["aims-incident-1"],
        **fields,
    }
    return requests.post(sim.url + "/rest/api/3/issue", json={"fields": body}, auth=sim.jira_auth, timeout=5)


def _transitions(sim, key: str) -> list[dict]:
    resp = requests.get(sim.url + f"/rest/api/3/issue/{key}/transitions", auth=sim.jira_auth, timeout=5)
    assert resp.status_code == 200
    return resp.json()["transitions"]


def _move_to_category(sim, key: str, category: str, **extra) -> requests.Response:
    move = next(t for t in _transitions(sim, key) if t["to"]["statusCategory"]["key"] == category)
    body = {"transition": {"id": move["id"]}, **extra}
    return requests.post(sim.url + f"/rest/api/3/issue/{key}/transitions", json=body, auth=sim.jira_auth, timeout=5)


def _issue(sim, key: str) -> dict:
    return requests.get(sim.url + f"/rest/api/3/issue/{key}", auth=sim.jira_auth, timeout=5).json()


def _search(sim, jql: str, **extra) -> requests.Response:
    body = {"jql": jql, **extra}
    return requests.post(sim.url + "/rest/api/3/search/jql", json=body, auth=sim.jira_auth, timeout=5)


def test_jira_create_valid_issue_returns_id_key_self(sim):
    resp = _create(sim, customfield_10050="INC-42", priority={"name": "High"})
    assert resp.status_code == 201
    body = resp.json()
    assert body["key"] == "OPS-1" and body["id"].isdigit()
    assert body["self"] == f"{sim.url}/rest/api/3/issue/{body['id']}"
    fields = _issue(sim, "OPS-1")["fields"]
    assert fields["status"]["name"] == "To Do" and fields["status"]["statusCategory"]["key"] == "new"
    assert fields["labels"] == ["aims-incident-1"] and fields["priority"]["name"] == "High"
    assert fields["resolution"] is None and fields["customfield_10050"] == "INC-42"
    assert fields["updated"] == "2025-03-14T00:00:00.000+0000"


@pytest.mark.parametrize(
    ("bad", "field", "message"),
    [
        ({"customfield_10099": "x"}, "customfield_10099", "It is not on the appropriate screen, or unknown."),
        ({"customfield_10060": "x"}, "customfield_10060", "It is not on the appropriate screen"),
        ({"description": "plain text"}, "description", "Atlassian Document"),
        ({"summary": "s" * 256}, "summary", "255"),
        ({"summary": ""}, "summary", "summary"),
        ({"issuetype": {"name": "Epic"}}, "issuetype", "invalid"),
        ({"priority": {"name": "Urgent!"}}, "priority", "priority"),
        ({"labels": ["has space"]}, "labels", "spaces"),
        ({"project": {"key": "NOPE"}}, "project", "project"),
    ],
)
def test_jira_create_invalid_field_is_400_naming_the_field(sim, bad, field, message):
    resp = _create(sim, **bad)
    assert resp.status_code == 400
    body = resp.json()
    assert body["errorMessages"] == []
    assert message in body["errors"][field]
    assert sim.jira_truth() == []


def test_jira_bad_credentials_are_401_in_jira_error_shape(sim):
    for auth in [("aims-bot@example.com", "wrong"), ("someone@example.com", "jira-sim-token"), None]:
        resp = requests.post(sim.url + "/rest/api/3/issue", json={"fields": {}}, auth=auth, timeout=5)
        assert resp.status_code == 401
        assert resp.json()["errorMessages"] and resp.json()["errors"] == {}
    resp = requests.get(sim.url + "/rest/api/3/myself", headers={"Authorization": "Basic !!notbase64"}, timeout=5)
    assert resp.status_code == 401


def test_jira_transitions_differ_per_project_and_are_chosen_by_category(sim):
    ops, data = _create(sim).json()["key"], _create(sim, project="DATA").json()["key"]
    ops_moves, data_moves = _transitions(sim, ops), _transitions(sim, data)
    assert {t["id"] for t in ops_moves}.isdisjoint({t["id"] for t in data_moves})
    assert {t["to"]["name"] for t in ops_moves}.isdisjoint({t["to"]["name"] for t in data_moves})
    for key in (ops, data):
        assert _move_to_category(sim, key, "indeterminate").status_code == 204
        assert _move_to_category(sim, key, "done", fields={"resolution": {"name": "Won't Do"}}).status_code == 204
        fields = _issue(sim, key)["fields"]
        assert fields["status"]["statusCategory"]["key"] == "done" and fields["resolution"]["name"] == "Won't Do"
        # Only the reopening transition is offered from done, and it clears the resolution.
        assert [t["to"]["statusCategory"]["key"] for t in _transitions(sim, key)] == ["new"]
        assert _move_to_category(sim, key, "new").status_code == 204
        assert _issue(sim, key)["fields"]["resolution"] is None
    assert _issue(sim, data)["fields"]["status"]["name"] == "Backlog"


def test_jira_unavailable_transition_is_400_and_changes_nothing(sim):
    key = _create(sim).json()["key"]
    url = sim.url + f"/rest/api/3/issue/{key}/transitions"
    for body in ({"transition": {"id": "31"}}, {"transition": {"id": "61"}}, {"transition": {}}, {}):
        resp = requests.post(url, json=body, auth=sim.jira_auth, timeout=5)
        assert resp.status_code == 400 and resp.json()["errorMessages"]
    resp = _move_to_category(sim, key, "done", fields={"resolution": {"name": "Nope"}})
    assert resp.status_code == 400 and "resolution" in resp.json()["errors"]
    assert _issue(sim, key)["fields"]["status"]["name"] == "To Do"
    assert [w["what"] for w in sim.jira_truth()[0]["writes"]] == ["create"]


def test_jira_unknown_issue_is_404(sim):
    resp = requests.get(sim.url + "/rest/api/3/issue/OPS-999", auth=sim.jira_auth, timeout=5)
    assert resp.status_code == 404 and resp.json()["errorMessages"]


def test_jira_comments_are_adf_and_paged(sim):
    key = _create(sim).json()["key"]
    url = sim.url + f"/rest/api/3/issue/{key}/comment"
    bad = requests.post(url, json={"body": "plain"}, auth=sim.jira_auth, timeout=5)
    assert bad.status_code == 400
    for _ in range(3):
        resp = requests.post(url, json={"body": ADF}, auth=sim.jira_auth, timeout=5)
        assert resp.status_code == 201
        assert resp.json()["author"]["accountId"] == sim.jira_account_id and resp.json()["created"]
    sim.jira_comment(key, "from a person")
    page = requests.get(url, params={"startAt": 2, "maxResults": 1}, auth=sim.jira_auth, timeout=5).json()
    assert page["startAt"] == 2 and page["maxResults"] == 1 and page["total"] == 4
    assert len(page["comments"]) == 1 and page["comments"][0]["body"] == ADF
    last = requests.get(url, params={"startAt": 3}, auth=sim.jira_auth, timeout=5).json()["comments"][0]
    assert last["author"]["accountId"] == "557058:alice"


def test_jira_search_filters_by_labels_project_and_updated_and_pages(sim):
    for n in range(5):
        _create(sim, labels=[f"aims-{n % 2}"])
    _create(sim, project="DATA", labels=["aims-0"])
    sim.advance(3600)
    sim.jira_transition("OPS-2", category="done")
    resp = _search(sim, 'labels = "aims-0" AND project = OPS ORDER BY updated', fields=["status", "labels"])
    assert resp.status_code == 200
    keys = [i["key"] for i in resp.json()["issues"]]
    assert keys == ["OPS-1", "OPS-3", "OPS-5"]
    assert resp.json()["issues"][0]["fields"]["labels"] == ["aims-0"]
    recent = _search(sim, 'updated >= "2025-03-14 00:30"').json()["issues"]
    assert [i["key"] for i in recent] == ["OPS-2"] and "fields" not in recent[0]
    seen, token = [], None
    while True:
        page = _search(sim, "project = OPS ORDER BY updated DESC", maxResults=2, nextPageToken=token).json()
        seen += [i["key"] for i in page["issues"]]
        token = page.get("nextPageToken")
        if token is None:
            assert page["isLast"] is True
            break
    assert seen[0] == "OPS-2" and sorted(seen) == sorted(f"OPS-{n}" for n in range(1, 6))


@pytest.mark.parametrize("jql", ["labels ~ x", "summary = x", 'labels = "x" OR project = OPS', "ORDER BY rank"])
def test_jira_search_unsupported_jql_is_400(sim, jql):
    resp = _search(sim, jql)
    assert resp.status_code == 400 and resp.json()["errorMessages"]


def test_jira_search_token_of_another_query_is_400(sim):
    for _ in range(3):
        _create(sim)
    token = _search(sim, "project = OPS", maxResults=1).json()["nextPageToken"]
    assert _search(sim, "project = DATA", nextPageToken=token).status_code == 400


def _register(sim, receiver, secret="s3cret", **kw):
    return sim.jira_add_webhook(receiver.url + "/hooks/jira", secret=secret, **kw)


def test_jira_webhook_signed_with_secret_for_person_and_api_changes(sim, receiver):
    _register(sim, receiver)
    key = _create(sim).json()["key"]
    sim.jira_transition(key, category="indeterminate", person="557058:bob")
    _move_to_category(sim, key, "done")
    sim.jira_comment(key, "looking")
    got = receiver.wait_for(3)
    assert len(got) == 3
    for item in got:
        headers = {k.lower(): v for k, v in item["headers"].items()}
        raw = json.dumps(item["json"], separators=(",", ":")).encode()
        expected = "sha256=" + hmac.new(b"s3cret", raw, hashlib.sha256).hexdigest()
        assert headers["x-hub-signature"] == expected
        assert headers["x-atlassian-webhook-identifier"]
    # Deliveries run concurrently, so (as in Jira) they may arrive out of order.
    bodies = [item["json"] for item in got]
    comment = next(b for b in bodies if b["webhookEvent"] == "comment_created")
    person = next(b for b in bodies if b is not comment and b["user"]["accountId"] == "557058:bob")
    api = next(b for b in bodies if b["user"]["accountId"] == sim.jira_account_id)
    assert person["webhookEvent"] == "jira:issue_updated" and person["user"]["accountId"] == "557058:bob"
    status = next(i for i in person["changelog"]["items"] if i["field"] == "status")
    assert (status["fromString"], status["toString"]) == ("To Do", "In Progress")
    assert person["issue"]["key"] == key and person["issue"]["fields"]["status"]["statusCategory"]["key"]
    assert api["user"]["accountId"] == sim.jira_account_id
    assert api["issue"]["fields"]["resolution"]["name"] == "Done"
    assert comment["webhookEvent"] == "comment_created"
    assert comment["comment"]["author"]["accountId"] == "557058:alice" and comment["comment"]["body"] == "looking"


def test_jira_webhook_body_signature_breaks_if_tampered(sim, receiver):
    _register(sim, receiver, secret="k")
    _create(sim)
    sim.jira_transition("OPS-1", category="done")
    item = receiver.wait_for(1)[0]
    tampered = dict(item["json"], timestamp=1)
    raw = json.dumps(tampered, separators=(",", ":")).encode()
    assert item["headers"]["X-Hub-Signature"] != "sha256=" + hmac.new(b"k", raw, hashlib.sha256).hexdigest()


def test_jira_webhook_retried_with_same_identifier_until_accepted(sim, receiver):
    _register(sim, receiver)
    _create(sim)
    receiver.status = 503
    sim.jira_transition("OPS-1", category="done")
    first_two = receiver.wait_for(2, timeout=5)
    receiver.status = 200
    got = receiver.wait_for(3, timeout=5)
    assert len(got) == 3
    ids = {item["headers"]["X-Atlassian-Webhook-Identifier"] for item in got}
    assert len(ids) == 1 and len(first_two) >= 2
    assert got[1]["headers"]["X-Atlassian-Webhook-Retry"] == "1"
    log = sim.deliveries("jira_webhook")
    assert [d["ok"] for d in log] == [False, False, True] and [d["attempt"] for d in log] == [1, 2, 3]


def test_jira_webhook_duplicate_fault_sends_same_identifier_twice(sim, receiver):
    _register(sim, receiver)
    _create(sim)
    sim.set_faults(rate=0.0, duplicate_rate=1.0)
    sim.jira_transition("OPS-1", category="done")
    got = receiver.wait_for(2)
    assert (
        len(got) == 2
        and got[0]["headers"]["X-Atlassian-Webhook-Identifier"] == got[1]["headers"]["X-Atlassian-Webhook-Identifier"]
    )
    assert sim.stats()["faults_by_source"] == {"jira.duplicate": 1}


def test_jira_webhook_filtered_by_events_and_jql(sim, receiver):
    _register(sim, receiver, events=("comment_created",), jql="project = DATA")
    _create(sim)
    _create(sim, project="DATA")
    sim.jira_comment("OPS-1", "not sent")
    sim.jira_transition("DATA-1", category="done")
    sim.jira_comment("DATA-1", "sent")
    got = receiver.wait_for(1)
    time.sleep(0.3)
    assert [item["json"]["comment"]["body"] for item in receiver.received] == ["sent"]
    assert got[0]["json"]["issue"]["key"] == "DATA-1"


def test_jira_webhook_register_refuses_remote_url_and_unknown_event(sim):
    hooks = sim.url + "/rest/webhooks/1.0/webhook"
    remote = {"name": "x", "url": "https://example.com/hook", "events": ["jira:issue_updated"]}
    assert requests.post(hooks, json=remote, auth=sim.jira_auth, timeout=5).status_code == 400
    bad_event = {"name": "x", "url": "http://127.0.0.1:9/h", "events": ["issue_deleted_forever"]}
    assert requests.post(hooks, json=bad_event, auth=sim.jira_auth, timeout=5).status_code == 400
    assert requests.get(hooks, auth=sim.jira_auth, timeout=5).json() == []


def test_jira_truth_separates_person_and_api_writes(sim):
    key = _create(sim).json()["key"]
    sim.jira_transition(key, status="In Progress")
    _move_to_category(sim, key, "done")
    sim.jira_edit(key, labels=["aims-incident-1", "triaged"])
    writes = sim.jira_truth()[0]["writes"]
    assert [(w["who"], w["what"]) for w in writes] == [
        ("api", "create"),
        ("person", "transition"),
        ("api", "transition"),
        ("person", "field"),
    ]
    assert [w["n"] for w in writes] == sorted(w["n"] for w in writes)
    assert sim.jira_truth()[0]["labels"] == ["aims-incident-1", "triaged"]


def test_jira_act_as_person_without_path_is_400(sim):
    _create(sim)
    sim.jira_transition("OPS-1", category="done")
    with pytest.raises(SimulatorError) as err:
        sim.jira_transition("OPS-1", category="indeterminate")
    assert err.value.status == 400
    with pytest.raises(SimulatorError) as err:
        sim.jira_comment("OPS-1", "hi", person="557058:aims-bot")
    assert err.value.status == 400


@pytest.mark.parametrize("kind", ["429", "500", "503"])
def test_jira_fault_error_kinds_answer_in_jira_shape_and_change_nothing(sim, kind):
    sim.set_faults(rate=1.0, kinds=[kind], retry_after=7, sources=["jira"])
    resp = _create(sim)
    assert resp.status_code == int(kind) and resp.json()["errorMessages"]
    if kind == "429":
        assert resp.headers["Retry-After"] == "7" and resp.headers["X-RateLimit-Remaining"] == "0"
        assert "X-RateLimit-Reset" in resp.headers
    sim.set_faults(rate=0.0)
    assert sim.jira_truth() == []
    assert sim.stats()["faults_by_source"] == {f"jira.{kind}": 1}


def test_jira_fault_lost_applies_the_write_then_answers_500(sim):
    sim.set_faults(rate=1.0, kinds=["lost"], sources=["jira"])
    resp = _create(sim)
    assert resp.status_code == 500
    sim.set_faults(rate=0.0)
    assert [i["key"] for i in sim.jira_truth()] == ["OPS-1"]


def test_jira_fault_dropped_applies_the_write_and_cuts_the_connection(sim):
    _create(sim)
    sim.set_faults(rate=1.0, kinds=["dropped"], sources=["jira"])
    with pytest.raises(requests.RequestException):
        sim_move = requests.post(
            sim.url + "/rest/api/3/issue/OPS-1/transitions",
            json={"transition": {"id": "21"}},
            auth=sim.jira_auth,
            timeout=5,
        )
        sim_move.json()
    sim.set_faults(rate=0.0)
    assert sim.jira_truth()[0]["category"] == "done"
    assert sim.stats()["faults"] == {"dropped": 1}


def test_jira_fault_slow_answers_after_client_timeout_but_applies(sim):
    sim.set_faults(rate=1.0, kinds=["slow"], slow_seconds=0.6, sources=["jira"], count=1)
    with pytest.raises(requests.Timeout):
        requests.post(
            sim.url + "/rest/api/3/issue",
            json={"fields": {"project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": "s"}},
            auth=sim.jira_auth,
            timeout=0.2,
        )
    time.sleep(0.8)
    assert len(sim.jira_truth()) == 1


def test_jira_faults_seeded_same_sequence_twice(sim):
    def run() -> list[int]:
        sim.reset("quiet", clock_start="2025-03-14T00:00:00Z", speed=0)
        sim.set_faults(rate=0.5, kinds=["500", "429"], seed=11, sources=["jira"])
        return [_search(sim, "project = OPS").status_code for _ in range(12)]

    first = run()
    assert first == run() and {200, 500, 429} <= set(first) | {200}
    assert set(first) != {200}


@pytest.mark.parametrize("edit", [{"priority": "Urgent!"}, {"labels": ["a b"]}, {"summary": ""}, {}])
def test_jira_person_edit_invalid_is_400_and_issue_still_readable(sim, edit):
    _create(sim)
    with pytest.raises(SimulatorError) as err:
        sim.jira_edit("OPS-1", **edit)
    assert err.value.status == 400
    assert _issue(sim, "OPS-1")["fields"]["priority"]["name"] == "Medium"
    assert [w["what"] for w in sim.jira_truth()[0]["writes"]] == ["create"]


def test_jira_edit_by_api_account_changes_fields_and_refuses_bad_ones(sim):
    key = _create(sim).json()["key"]
    url = sim.url + f"/rest/api/3/issue/{key}"

    edited = requests.put(
        url, json={"fields": {"summary": "Orders late", "priority": {"name": "High"}}}, auth=sim.jira_auth, timeout=5
    )
    refused = requests.put(url, json={"fields": {"summary": ""}}, auth=sim.jira_auth, timeout=5)
    anonymous = requests.put(url, json={"fields": {"summary": "x"}}, timeout=5)

    assert edited.status_code == 204
    fields = _issue(sim, key)["fields"]
    assert fields["summary"] == "Orders late" and fields["priority"]["name"] == "High"
    assert refused.status_code == 400 and "summary" in refused.json()["errors"]
    assert anonymous.status_code == 401
    writes = next(issue for issue in sim.jira_truth() if issue["key"] == key)["writes"]
    assert writes[-1]["who"] == "api" and writes[-1]["what"] == "field"
