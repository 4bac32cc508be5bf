import pytest

from contracts.models import ContractVersion, DataContract
from tests.admin_forms import admin_post_data
from tests.contracts.factories import ORDERS_YAML

ADD_URL = "/admin/contracts/datacontract/add/"


def _post(client, url, **changes):
    """Fill in the page's form as a browser would (new contracts start from the orders contract) and submit it."""
    page = client.get(url)
    defaults = {"name": "orders", "owner": "sales-data", "yaml_text": ORDERS_YAML} if url == ADD_URL else {}
    return client.post(url, admin_post_data(page, **{**defaults, **changes}))


@pytest.mark.django_db
def test_contract_admin_valid_yaml_published_as_active_version(admin_client_, admin_user):
    response = _post(admin_client_, ADD_URL)

    assert response.status_code == 302
    contract = DataContract.objects.get()
    assert contract.active_version.number == 1
    assert contract.active_version.spec["schema"][0]["physicalName"] == "sales.orders"
    assert contract.active_version.published_by == admin_user


@pytest.mark.django_db
def test_contract_admin_changed_yaml_new_version_unchanged_none(admin_client_):
    _post(admin_client_, ADD_URL)
    contract = DataContract.objects.get()
    change_url = f"/admin/contracts/datacontract/{contract.pk}/change/"

    _post(admin_client_, change_url, owner="finance")  # same YAML
    _post(
        admin_client_, change_url, yaml_text=ORDERS_YAML.replace("minimum: 0", "minimum: -1")
    )  # relaxed: not breaking

    contract.refresh_from_db()
    assert contract.owner == "finance"
    assert list(contract.versions.values_list("number", flat=True)) == [2, 1]
    assert contract.active_version.number == 2


@pytest.mark.django_db
def test_contract_admin_bad_yaml_shows_each_error_at_its_line_saves_nothing(admin_client_):
    text = ORDERS_YAML.replace("unique: true", "unique: perhaps").replace("GreaterThan: 0", "GreaterThen: 0")

    response = _post(admin_client_, ADD_URL, yaml_text=text)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["yaml_text"]
    assert errors == [
        "line 25, schema[orders].properties[order_id].unique: expected true or false, got 'perhaps'",
        "line 37, schema[orders].quality[orders_row_count].mustBeGreaterThen: unknown field mustBeGreaterThen"
        " (did you mean mustBeGreaterThan?)",
    ]
    assert "line 25, schema[orders].properties[order_id].unique" in response.content.decode()
    assert not DataContract.objects.exists() and not ContractVersion.objects.exists()


@pytest.mark.django_db
def test_contract_admin_bad_edit_keeps_active_version(admin_client_):
    _post(admin_client_, ADD_URL)
    contract = DataContract.objects.get()
    saved_text = contract.yaml_text

    response = _post(admin_client_, f"/admin/contracts/datacontract/{contract.pk}/change/", yaml_text="table: [")

    assert response.status_code == 200
    contract.refresh_from_db()
    assert contract.yaml_text == saved_text
    assert contract.versions.count() == 1
