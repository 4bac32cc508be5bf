import pytest

from contracts.models import DataContract
from contracts.services import BreakingChangeNotConfirmed, contract_save
from tests.admin_forms import admin_post_data

ODCS_YAML = """\
apiVersion: v3.1.0
kind: DataContract
id: orders
version: 1.0.0
status: active
schema:
  - name: orders
    properties:
      - {name: order_id, logicalType: integer, physicalType: bigint, required: true}
      - {name: amount, logicalType: number, physicalType: 'decimal(10,2)'}
"""
NARROWED = ODCS_YAML.replace("physicalType: bigint", "physicalType: int")
WIDENED = ODCS_YAML.replace("decimal(10,2)", "decimal(14,2)")


def _published() -> DataContract:
    return contract_save(contract=DataContract(name="orders", owner="sales-data", yaml_text=ODCS_YAML))


@pytest.mark.django_db
def test_contract_save_safe_change_recorded_not_breaking():
    contract = _published()
    contract.yaml_text = WIDENED

    contract_save(contract=contract, note="more room")

    version = contract.versions.get(number=2)
    assert version.breaking is False and version.publish_note == "more room"
    assert version.changes == [
        {
            "path": "schema[orders].properties[amount].physicalType",
            "kind": "type_widened",
            "level": "info",
            "before": "decimal(10,2)",
            "after": "decimal(14,2)",
        }
    ]


@pytest.mark.django_db
def test_contract_save_breaking_unconfirmed_refused_nothing_saved():
    contract = _published()
    contract.yaml_text = NARROWED

    with pytest.raises(BreakingChangeNotConfirmed) as refused:
        contract_save(contract=contract)

    assert [change.path for change in refused.value.changes] == ["schema[orders].properties[order_id].physicalType"]
    contract.refresh_from_db()
    assert contract.yaml_text == ODCS_YAML and contract.versions.count() == 1


@pytest.mark.django_db
def test_contract_admin_breaking_save_refused_then_confirmed_with_reason(admin_client_, admin_user):
    contract = _published()
    url = f"/admin/contracts/datacontract/{contract.pk}/change/"

    refused = admin_client_.post(url, admin_post_data(admin_client_.get(url), yaml_text=NARROWED))
    no_reason = admin_client_.post(
        url, admin_post_data(admin_client_.get(url), yaml_text=NARROWED, confirm_breaking=True)
    )
    accepted = admin_client_.post(
        url,
        admin_post_data(
            admin_client_.get(url), yaml_text=NARROWED, confirm_breaking=True, reason="ids fit in int; agreed"
        ),
    )

    assert refused.status_code == 200
    errors = refused.context["adminform"].form.non_field_errors()
    assert any("schema[orders].properties[order_id].physicalType: type narrowed" in error for error in errors)
    assert no_reason.status_code == 200 and no_reason.context["adminform"].form.errors["reason"]
    assert accepted.status_code == 302
    contract.refresh_from_db()
    version = contract.active_version
    assert (version.number, version.breaking, version.publish_note) == (2, True, "ids fit in int; agreed")
    assert version.published_by == admin_user
    assert version.changes[0]["kind"] == "type_narrowed" and version.changes[0]["level"] == "breaking"


@pytest.mark.django_db
def test_contract_version_admin_page_shows_changes_and_note(admin_client_):
    contract = _published()
    contract.yaml_text = NARROWED
    contract_save(contract=contract, note="agreed with finance", confirm_breaking=True)

    response = admin_client_.get(f"/admin/contracts/contractversion/{contract.active_version.pk}/change/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "schema[orders].properties[order_id].physicalType" in page and "type_narrowed" in page
    assert "agreed with finance" in page


@pytest.mark.django_db
def test_contract_admin_version_changed_meanwhile_refused_without_error(admin_client_, monkeypatch):
    contract = _published()
    url = f"/admin/contracts/datacontract/{contract.pk}/change/"
    form = admin_post_data(admin_client_.get(url), yaml_text=NARROWED)
    # Another publish lands between the form's check and the save: the form saw nothing breaking.
    monkeypatch.setattr("contracts.admin.contract_changes_against_active", lambda **kwargs: [])

    response = admin_client_.post(url, form, follow=True)

    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert any("Not saved" in m and "order_id" in m for m in shown)
    contract.refresh_from_db()
    assert contract.active_version.number == 1 and contract.versions.count() == 1
