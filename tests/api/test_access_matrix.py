"""Generated from api/openapi.yaml: every operation, called by a key of every scope (and one with none) held by a user
of every role (and one with no role), answers exactly as its `x-aims-scope` and `x-aims-permissions` say: without the
scope 403 `scope_missing`, with a role lacking every permission 403 `role_forbidden`, otherwise never 401 or 403.
Without a key, or with a revoked or expired one, it is 401. Operations added later are walked without an edit here."""

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from aimsweb.roles import Role
from aimsweb.services import user_set_role
from api.models import ApiKey
from api.scopes import SCOPES
from api.services.keys import api_key_create
from tests.api.world import World, world_seed

DOCUMENT = yaml.safe_load((Path(settings.BASE_DIR) / "api" / "openapi.yaml").read_text())
METHODS = ("get", "post", "put", "patch", "delete")
OPERATIONS = [
    pytest.param(path, method, operation, id=f"{method.upper()} {path}")
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
    if method in METHODS
]
UNSAFE_OPERATIONS = [param for param in OPERATIONS if param.values[1] != "get"]
ROLES: list[Role | None] = [Role.VIEWER, Role.RESPONDER, Role.ADMIN, None]
SCOPE_SETS: list[list[str]] = [[scope] for scope in SCOPES] + [[]]
ANY_SCOPE = "*"  # an operation every key may call (api.views.me)


@pytest.fixture
def world(db, settings) -> World:
    settings.AIMS_API_RATE_PER_MINUTE = 1_000_000  # this test calls far more often than a person would
    return world_seed()


@pytest.fixture
def minted(make_user):
    """mint(user, scopes) -> the plaintext of a key of `user` holding exactly `scopes`, whatever their role: a key kept
    after its user lost a role holds scopes beyond it, and an operation must still refuse it."""
    minter = make_user("key-minter", Role.ADMIN)

    def mint(user, scopes: list[str], **changes: Any) -> str:
        key, plaintext = api_key_create(user=minter, name="matrix", scopes=list(SCOPES), created_by=minter)
        ApiKey.objects.filter(pk=key.pk).update(user=user, scopes=scopes, **changes)
        return plaintext

    return mint


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = DOCUMENT["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _minimal(schema: dict, world: World) -> Any:
    """A value of `schema` with only what it requires: enough to get past parsing to the permission check and often
    to the end."""
    schema = _resolve(schema)
    for combined in ("oneOf", "anyOf", "allOf"):
        if combined in schema:
            return _minimal(schema[combined][0], world)
    if "enum" in schema:
        return next((value for value in schema["enum"] if value is not None), None)
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: _minimal(properties.get(name, {}), world) for name in schema.get("required", [])}
    if kind == "array":
        return [_minimal(schema.get("items", {}), world) for _ in range(schema.get("minItems", 0))]
    if kind == "integer":
        return world.incident.pk
    if kind == "number":
        return 1
    if kind == "boolean":
        return False
    if schema.get("format") == "date-time":
        return (timezone.now() + timedelta(hours=1)).isoformat()
    if schema.get("format") == "uri":
        return "https://jira.example/browse/OPS-99"
    return "matrix"


def _call(client: Client, path: str, method: str, operation: dict, world: World, **headers: str):
    url = path
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            url = url.replace("{" + parameter["name"] + "}", str(world.path_value(path, parameter["name"])))
    kwargs: dict[str, Any] = {}
    if method != "get":
        content = operation.get("requestBody", {}).get("content", {}).get("application/json")
        body = _minimal(content["schema"], world) if content else {}
        kwargs = {"data": body, "content_type": "application/json"}
        headers.setdefault("Idempotency-Key", uuid.uuid4().hex)
        if method in {"patch", "put"}:
            headers.setdefault("If-Match", "*")
    return getattr(client, method)(url, headers=headers, **kwargs)


def _granted(role: Role | None) -> set[str]:
    """The permissions the role's group holds, read from the groups themselves (not through the code under test)."""
    if role is None:
        return set()
    permissions = Group.objects.get(name=role.value).permissions.select_related("content_type")
    return {f"{p.content_type.app_label}.{p.codename}" for p in permissions}


def _expected(operation: dict, granted: set[str], scopes: list[str]) -> str:
    """`scope_missing`, `role_forbidden` or `allowed`."""
    scope = operation["x-aims-scope"]
    if scope != ANY_SCOPE and scope not in scopes:
        return "scope_missing"
    permissions = set(operation.get("x-aims-permissions") or [])
    if permissions and not permissions & granted:
        return "role_forbidden"
    return "allowed"


def test_access_matrix_document_has_operations_with_rules():
    assert len(OPERATIONS) >= 10
    for param in OPERATIONS:
        operation = param.values[2]
        assert operation["x-aims-scope"] in {*SCOPES, ANY_SCOPE}, param.id
        assert all("." in permission for permission in operation["x-aims-permissions"]), param.id


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS)
def test_access_matrix_every_role_and_scope_gets_what_rules_say(world, make_user, minted, path, method, operation):
    outcomes = []
    for role in ROLES:
        user = make_user(f"matrix-{role.value.lower() if role else 'none'}", role)
        granted = _granted(role)
        for scopes in SCOPE_SETS:
            client = Client(HTTP_AUTHORIZATION=f"Bearer {minted(user, scopes)}")
            response = _call(client, path, method, operation, world)
            expected = _expected(operation, granted, scopes)
            code = response.json().get("code") if response.status_code in {401, 403} else None
            actual = code if response.status_code == 403 else ("allowed" if response.status_code != 401 else "401")
            outcomes.append((role.value if role else "no role", ",".join(scopes) or "no scope", expected, actual))
            assert response.status_code < 500, (role, scopes, response.status_code, response.content[:300])
    wrong = [outcome for outcome in outcomes if outcome[2] != outcome[3]]
    assert not wrong, f"{method.upper()} {path}: (role, scopes, expected, got): {wrong}"


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS)
def test_access_matrix_without_valid_key_is_401(world, make_user, minted, path, method, operation):
    admin = make_user("matrix-admin", Role.ADMIN)
    revoked = minted(admin, list(SCOPES), revoked_at=timezone.now())
    expired = minted(admin, list(SCOPES), expires_at=timezone.now() - timedelta(seconds=1))
    callers = {
        "no key": Client(),
        "revoked key": Client(HTTP_AUTHORIZATION=f"Bearer {revoked}"),
        "expired key": Client(HTTP_AUTHORIZATION=f"Bearer {expired}"),
        "unknown key": Client(HTTP_AUTHORIZATION="Bearer aims_00000000_" + "x" * 40),
        "other scheme": Client(HTTP_AUTHORIZATION="Basic YWRhOnBhc3N3b3Jk"),
    }

    statuses = {name: _call(client, path, method, operation, world) for name, client in callers.items()}

    assert {name: response.status_code for name, response in statuses.items()} == dict.fromkeys(callers, 401)
    assert all(r.headers["Content-Type"] == "application/problem+json" for r in statuses.values())


def test_access_matrix_key_of_user_made_inactive_is_401(world, make_user, minted):
    user = make_user("leaver", Role.ADMIN)
    plaintext = minted(user, list(SCOPES))
    user.is_active = False
    user.save(update_fields=["is_active"])

    assert Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}").get("/api/v1/me").status_code == 401


def test_access_matrix_key_follows_role_change(world, make_user, minted):
    user = make_user("mover", Role.ADMIN)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {minted(user, ['admin:read'])}")
    before = client.get("/api/v1/connections")

    user_set_role(user=user, role=Role.VIEWER)
    after = Client(HTTP_AUTHORIZATION=client.defaults["HTTP_AUTHORIZATION"]).get("/api/v1/connections")

    assert before.status_code == 200
    assert after.status_code == 403 and after.json()["code"] == "role_forbidden"


def _session(user) -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/")  # a page with a form: the CSRF cookie is set
    return client, client.cookies["csrftoken"].value


@pytest.mark.parametrize(("path", "method", "operation"), [p for p in OPERATIONS if p.values[1] == "get"])
def test_access_matrix_session_reads_without_csrf(world, admin_user, path, method, operation):
    client, _ = _session(admin_user)

    response = _call(client, path, method, operation, world)

    assert response.status_code not in {401, 403}, response.content[:300]


@pytest.mark.parametrize(("path", "method", "operation"), UNSAFE_OPERATIONS)
def test_access_matrix_session_writes_need_csrf(world, admin_user, path, method, operation):
    client, token = _session(admin_user)

    refused = _call(client, path, method, operation, world)
    accepted = _call(client, path, method, operation, world, **{"X-CSRFToken": token})

    assert refused.status_code == 403 and refused.headers["Content-Type"] == "application/problem+json"
    assert "CSRF" in refused.json()["detail"]
    assert accepted.status_code not in {401, 403}, accepted.content[:300]
