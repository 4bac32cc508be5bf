"""The one result every analyzer produces (stored as incidents.models.FailureAnalysis)."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from aimsweb.choices import ErrorCategory, Severity


class AnalysisResult(BaseModel):
    """What kind of failure, why, what to do, and whether an automatic retry is right."""

    model_config = ConfigDict(extra="forbid")

    category: ErrorCategory
    severity: Severity
    should_retry: bool
    retry_delay_minutes: Annotated[int, Field(ge=0, le=1440)]
    confidence: Annotated[int, Field(ge=0, le=100)]
    summary: Annotated[str, Field(min_length=1, max_length=500)]
    root_cause: Annotated[str, Field(max_length=2000)]
    recommended_actions: Annotated[list[Annotated[str, Field(max_length=500)]], Field(max_length=10)]
    manual_intervention_required: bool
