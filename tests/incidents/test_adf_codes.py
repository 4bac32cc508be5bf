"""The ADF error-code table (knowledge/taxonomy/adf_codes.yaml): it loads, every entry is well formed, a message that
carries only a documented code gets that code's class, and the copy activity's outer 2200 never decides."""

import re

import pytest
import yaml

from aimsweb.choices import ErrorCategory
from incidents.analysis.offline import offline_classifier
from incidents.analysis.taxonomy import TAXONOMY_DIR, taxonomy

# Copy activity failures as ADF reports them: activity code 2200 around the connector's ErrorCode=... chain (shape of
# the samples in MicrosoftDocs/azure-docs articles/data-factory/connector-troubleshoot-*.md).
COPY_FAILURE = (
    "Failure happened on 'Sink' side. ErrorCode={code},'Type=Microsoft.DataTransfer.Common.Shared."
    "HybridDeliveryException,Message=The operation did not complete.,Source=Microsoft.DataTransfer.ClientLibrary,'"
)


class _UniqueKeyLoader(yaml.SafeLoader):
    """safe_load keeps the last of two equal keys silently; the table must not list a code twice."""

    def construct_mapping(self, node, deep=False):
        keys = [self.construct_object(key, deep=deep) for key, _ in node.value]
        duplicates = {key for key in keys if keys.count(key) > 1}
        if duplicates:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate keys {sorted(map(str, duplicates))}")
        return super().construct_mapping(node, deep=deep)


def analyze(message: str, error_code: str = ""):
    return offline_classifier().analyze(message, error_code=error_code, source_system="adf")


# ------------------------------------------------------------------------------------------------------ the table
def test_adf_code_table_loads_with_every_documented_code():
    raw = yaml.load((TAXONOMY_DIR / "adf_codes.yaml").read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)["codes"]

    assert len(raw) >= 400
    assert len(taxonomy().adf_codes) == len(raw)


def test_adf_code_table_entries_name_a_valid_class_a_cause_and_a_guide():
    raw = yaml.safe_load((TAXONOMY_DIR / "adf_codes.yaml").read_text(encoding="utf-8"))["codes"]
    categories = {category.value for category in ErrorCategory}

    malformed = {
        code: entry
        for code, entry in raw.items()
        if not (
            isinstance(entry, list)
            and len(entry) == 3
            and entry[0] in categories
            and isinstance(entry[1], str)
            and entry[1].strip()
            and re.fullmatch(r"[a-z0-9-]+", str(entry[2]))
            and ("troubleshoot" in entry[2] or entry[2].endswith("-faq"))  # a guide's file stem
        )
    }

    assert malformed == {}


# ------------------------------------------------------------------------------------ one code, the table's class
@pytest.mark.parametrize(
    ("message", "error_code", "category", "retry"),
    [
        # connector codes inside a copy failure (connector-troubleshoot-*.md)
        (COPY_FAILURE.format(code="SharePointOnlineAuthFailed"), "2200", ErrorCategory.PERMISSION, False),
        (COPY_FAILURE.format(code="DynamicsInvalidFetchXml"), "2200", ErrorCategory.CODE, False),
        (COPY_FAILURE.format(code="OrcDateTimeExceedLimit"), "2200", ErrorCategory.DATA_QUALITY, False),
        (COPY_FAILURE.format(code="NotAllowToAccessSnowflake"), "2200", ErrorCategory.PERMISSION, False),
        # integration runtime codes (ssis-integration-runtime-*.md), stated without the copy chain
        ("Provisioning stopped. Error code: CatalogCapacityLimitError", "", ErrorCategory.RESOURCE, False),
        ("Provisioning stopped. Error code: CatalogDbBelongsToAnotherIR", "", ErrorCategory.CONFIGURATION, False),
        ("Test connection stopped. Error code: PSPingExecutionTimeout", "", ErrorCategory.TRANSIENT, True),
        # a data flow status (data-flow-troubleshoot-guide.md), spelt in another case than the guide
        (
            '{"StatusCode":"DF-SAPODP-INSUFFICIENTRESOURCE","Message":"Job failed due to reason: stopped"}',
            "",
            ErrorCategory.RESOURCE,
            False,
        ),
        # an activity code given only as the run's error code (data-factory-troubleshoot-guide.md)
        ("The activity did not complete.", "2306", ErrorCategory.CONFIGURATION, False),
    ],
)
def test_message_with_only_a_documented_code_gets_the_tables_class(message, error_code, category, retry):
    result = analyze(message, error_code)

    assert (result.category, result.should_retry) == (category, retry)


def test_bare_numbers_and_longer_codes_are_not_read_as_activity_codes():
    tables = taxonomy()

    assert not [v for v in tables.verdicts("Copied 2306 rows before the sink stopped.") if v.layer.startswith("adf")]
    assert not [v for v in tables.verdicts("Error code: 23060 from the driver") if v.layer.startswith("adf")]


# --------------------------------------------------------------------------------- the wrapper never decides alone
def test_outer_2200_gives_no_verdict_of_its_own():
    tables = taxonomy()
    message = '{"errorCode": "2200", "message": "Failure happened on \'Sink\' side."}'

    assert [v for v in tables.verdicts(message, ["2200"]) if v.layer.startswith("adf")] == []
    assert analyze(message, "2200").category == ErrorCategory.UNKNOWN


@pytest.mark.parametrize(
    ("inner_code", "category"),
    [("CatalogCapacityLimitError", ErrorCategory.RESOURCE), ("SharePointOnlineAuthFailed", ErrorCategory.PERMISSION)],
)
def test_inner_error_code_decides_over_the_outer_activity_code(inner_code, category):
    wrapped = '{"errorCode": "%s", "message": "%s", "failureType": "UserError"}'
    inner = COPY_FAILURE.format(code=inner_code).replace("'", "\\u0027")

    for outer in ("2200", "2306"):  # the copy wrapper, and an activity code documented with another class
        result = analyze(wrapped % (outer, inner), outer)

        assert result.category == category, outer
        assert result.should_retry is False
