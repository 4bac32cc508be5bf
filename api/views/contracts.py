"""/api/v1/contracts and /api/v1/violations: data contracts with their last check, and the violations checks found."""

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, mixins, viewsets

from api.conventions import ConventionsMixin
from api.filters import AllViolationsFilterSet, ContractFilterSet, ViolationFilterSet
from api.links import FIRST_ROW_ID, ROW_ID, LinkedAutoSchema, link
from api.pagination import KeysetPagination
from api.permissions import Access
from api.serializers.contracts import ContractSerializer, ViolationSerializer
from contracts.models import CheckRun, DataContract, Violation
from contracts.selectors import COMPLETED, ContractFilters, contract_get, contract_list

READ = Access("contracts:read", ("contracts.view_datacontract",))
VIOLATION_SORT_KEYS = {"-id": ("-id",), "id": ("id",)}


def violations_queryset() -> QuerySet[Violation]:
    """Violations with their check and contract, each marked open (no later completed check of its contract) or
    not, in one query."""
    later_check = CheckRun.objects.filter(contract=OuterRef("check_run__contract"), status__in=COMPLETED).filter(
        Q(started_at__gt=OuterRef("check_run__started_at"))
        | Q(started_at=OuterRef("check_run__started_at"), pk__gt=OuterRef("check_run_id"))
    )
    return (
        Violation.objects.select_related("check_run__contract")
        .defer(
            "sample",
            "check_run__results",
            "check_run__metrics",
            "check_run__observed_schema",
            "check_run__contract__yaml_text",
            "check_run__contract__description",
        )
        .annotate(is_open=~Exists(later_check))
    )


@extend_schema(tags=["contracts"])
@extend_schema_view(
    list=extend_schema(
        summary="List data contracts",
        description="Contracts with their current version, tables, last check status and open violations.",
    ),
    retrieve=extend_schema(summary="Get a data contract", description="One contract, as in the list."),
)
class ContractViewSet(ConventionsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Data contracts: promises about warehouse tables, checked after producing runs and on a schedule."""

    serializer_class = ContractSerializer
    pagination_class = KeysetPagination
    filterset_class = ContractFilterSet
    access_by_action = {"list": READ, "retrieve": READ}
    schema = LinkedAutoSchema()
    openapi_links = {
        "list": {
            "GetContract": link("contracts_retrieve", "The first contract.", id=FIRST_ROW_ID),
            "ListViolations": link("contracts_violations_list", "Its violations.", contract_id=FIRST_ROW_ID),
        },
        "retrieve": {"ListViolations": link("contracts_violations_list", "Its violations.", contract_id=ROW_ID)},
    }
    sort_keys = {"name": ("name", "id"), "-name": ("-name", "-id"), "id": ("id",), "-id": ("-id",)}

    def get_queryset(self) -> QuerySet[DataContract]:
        return contract_list(filters=ContractFilters())


@extend_schema(
    tags=["contracts"],
    summary="List a contract's violations",
    description="The broken rules and schema changes the contract's checks found, newest first; open or resolved.",
)
class ContractViolationListView(ConventionsMixin, generics.ListAPIView):
    serializer_class = ViolationSerializer
    pagination_class = KeysetPagination
    filterset_class = ViolationFilterSet
    access = {"GET": READ}
    sort_keys = VIOLATION_SORT_KEYS

    def get_queryset(self) -> QuerySet[Violation]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator, without a request
            return Violation.objects.none()
        contract = contract_get(contract_id=self.kwargs["contract_id"])
        if contract is None:
            raise Http404("No such contract.")
        return violations_queryset().filter(check_run__contract=contract)


@extend_schema(
    tags=["contracts"],
    summary="List violations",
    description="The violations of every contract, newest first; filter by contract, table, state and check time.",
)
class ViolationListView(ConventionsMixin, generics.ListAPIView):
    serializer_class = ViolationSerializer
    pagination_class = KeysetPagination
    filterset_class = AllViolationsFilterSet
    access = {"GET": READ}
    schema = LinkedAutoSchema()
    openapi_links = {
        "GET": {
            "GetContract": link(
                "contracts_retrieve", "The first violation's contract.", id="$response.body#/results/0/contract/id"
            )
        }
    }
    sort_keys = VIOLATION_SORT_KEYS

    def get_queryset(self) -> QuerySet[Violation]:
        return violations_queryset()
