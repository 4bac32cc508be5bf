"""Live contract pages: the list and each contract's page re-render their `live` partial when a check finishes or
a version is published (contracts.realtime), through the incidents app's live-page consumer."""

from django.contrib.auth.context_processors import PermWrapper
from django.template.loader import render_to_string

from aimsweb.querystring import positive_int
from contracts.pages.contract_detail import contract_detail_page
from contracts.pages.contract_list import contract_list_page
from contracts.realtime import CONTRACT_LIST_GROUP, contract_group
from contracts.selectors import contract_get
from incidents.live import LivePageConsumer

VIEW_PERMISSION = "contracts.view_datacontract"


class ContractListConsumer(LivePageConsumer):
    """The contract list's rows, for the filters and page in the websocket URL's query string (the page's own)."""

    permission = VIEW_PERMISSION

    def groups_to_join(self) -> list[str]:
        return [CONTRACT_LIST_GROUP]

    def render(self) -> str:
        context = {**contract_list_page(params=self.params), "oob": True}
        return render_to_string("contracts/contract_list.html#live", context)


class ContractPageConsumer(LivePageConsumer):
    """One contract's page: last check, open violations, check history (the page of it the URL names), observed
    schema, versions and the actions the user's role allows."""

    permission = VIEW_PERMISSION

    def prepare(self) -> bool:
        self.contract_id = int(self.scope["url_route"]["kwargs"]["contract_id"])
        return contract_get(contract_id=self.contract_id) is not None

    def groups_to_join(self) -> list[str]:
        return [contract_group(self.contract_id)]

    def render(self) -> str:
        contract = contract_get(contract_id=self.contract_id)
        if contract is None:  # deleted since: the page keeps what it shows
            return ""
        page = contract_detail_page(
            contract=contract, user=self.user, check_page=positive_int(self.params.get("checks")) or 1
        )
        context = {**page, "perms": PermWrapper(self.user), "user": self.user, "oob": True}
        return render_to_string("contracts/contract_detail.html#live", context)
