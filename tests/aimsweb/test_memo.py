"""Settings read once per batch: inside a memo scope a reader queries once, outside it every time."""

from datetime import timedelta

import pytest
from django.utils import timezone

from aimsweb.memo import memo_scope, memo_started
from monitors.maintenance import maintenance_window_active
from monitors.models import MaintenanceWindow
from remediation.services import retry_policy_match
from tests.monitors.factories import make_retry_policy


def _match():
    return retry_policy_match(connection_id=1, pipeline_name="pl_orders", category="transient")


@pytest.mark.django_db
def test_policies_read_once_in_a_scope_and_afresh_after_it(django_assert_num_queries):
    make_retry_policy(name="first", priority=10)
    with memo_scope(), django_assert_num_queries(1):
        assert [_match().name for _ in range(5)] == ["first"] * 5
    make_retry_policy(name="earlier", priority=1)

    with django_assert_num_queries(2):
        assert _match().name == "earlier"
        assert _match().name == "earlier"


@pytest.mark.django_db
def test_window_starting_during_a_batch_applies_from_its_start(django_assert_num_queries):
    now = timezone.now()
    MaintenanceWindow.objects.create(
        name="deploy", starts_at=now + timedelta(minutes=5), ends_at=now + timedelta(hours=1), suppress_retries=True
    )

    def active(at):
        return maintenance_window_active(connection_id=None, pipeline_name="pl", suppresses="retries", at=at)

    with memo_scope(), django_assert_num_queries(1):
        began = memo_started()
        assert active(began) is None
        assert active(began + timedelta(minutes=6)).name == "deploy"
        assert active(began + timedelta(minutes=61)) is None
    assert memo_started() is None


def test_nested_scope_shares_the_outer_one():
    with memo_scope():
        outer = memo_started()
        with memo_scope():
            assert memo_started() == outer
        assert memo_started() == outer
