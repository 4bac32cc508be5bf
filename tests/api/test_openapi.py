"""The committed OpenAPI document is the one the code generates (`make openapi` writes it again), and it is valid."""

from pathlib import Path

from django.conf import settings
from django.core.management import call_command

COMMITTED = Path(settings.BASE_DIR) / "api" / "openapi.yaml"


def test_openapi_committed_matches_generated(tmp_path):
    generated = tmp_path / "openapi.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(generated))

    assert generated.read_text() == COMMITTED.read_text(), "api/openapi.yaml is stale: run `make openapi`"


def test_openapi_every_operation_names_its_scope():
    import yaml

    document = yaml.safe_load(COMMITTED.read_text())

    operations = [op for item in document["paths"].values() for op in item.values() if isinstance(op, dict)]
    assert operations and all(op.get("x-aims-scope") for op in operations)
    assert document["openapi"].startswith("3.1")
