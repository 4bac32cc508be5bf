"""Failure analyses and signature statistics, read-only, and a run's analysis shown on the run's own page."""

from typing import TYPE_CHECKING

from django.contrib import admin

from aimsweb.admin_base import ReadOnlyAdmin, ReadOnlyInline
from incidents.models import FailureAnalysis, SignatureStats
from monitors.models import PipelineRun


@admin.register(FailureAnalysis)
class FailureAnalysisAdmin(ReadOnlyAdmin):
    list_display = ["run", "category", "severity", "should_retry", "confidence", "analyzer", "cache_hit", "created_at"]
    list_filter = ["category", "severity", "should_retry", "analyzer", "cache_hit"]
    search_fields = ["signature", "summary", "root_cause", "run__external_run_id", "run__pipeline__name"]
    list_select_related = ["run__pipeline"]


@admin.register(SignatureStats)
class SignatureStatsAdmin(ReadOnlyAdmin):
    list_display = ["signature", "failures", "retries", "retry_successes", "last_seen_at", "llm_analyzed_at"]
    list_filter = ["last_seen_at", "llm_analyzed_at"]
    search_fields = ["signature", "signature_text"]


class FailureAnalysisInline(ReadOnlyInline):
    model = FailureAnalysis
    fields = ["category", "severity", "should_retry", "confidence", "summary", "analyzer", "cache_hit", "learned"]
    can_delete = False


# A run's admin page shows its analysis first; monitors cannot name analyses (a lower layer), so the run's admin is
# registered again from here, extending the one registered by then (monitors', and the layers' in between that add
# their own inlines: their admin modules load first, in INSTALLED_APPS order).
if TYPE_CHECKING:  # known only at run time; statically, an admin of runs
    RegisteredPipelineRunAdmin = admin.ModelAdmin
else:
    RegisteredPipelineRunAdmin = type(admin.site.get_model_admin(PipelineRun))
admin.site.unregister(PipelineRun)


@admin.register(PipelineRun)
class PipelineRunWithAnalysisAdmin(RegisteredPipelineRunAdmin):
    inlines = [FailureAnalysisInline, *RegisteredPipelineRunAdmin.inlines]
