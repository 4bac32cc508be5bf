"""Terminal escape codes out of what was stored before they were stripped at ingestion and signing.

A coloured error signed before had a signature of its own: its analyses are signed again from the (now clean) run,
their signature statistics merge into the clean signature's, and incidents grouped by the old signature take the
fingerprint the clean one gives (an open incident only when no other open incident has it already: the partial
unique index allows one, and the other then counts later failures). Texts shown on pages (titles, timeline,
notification headlines, analyses) are stripped. Idempotent: clean rows are left as they are.
"""

import hashlib

from django.db import migrations
from django.db.models import F

from aimsweb.redact import redact
from aimsweb.stored_rows import stored_rows_rewrite
from aimsweb.terminal import strip_terminal_escapes, strip_terminal_escapes_values
from incidents.analysis.signature import signature_of

TEXT_FIELDS = {
    "Incident": ("title",),
    "IncidentEvent": ("message", "details"),
    "Notification": ("headline",),
    "FailureAnalysis": ("summary", "root_cause", "recommended_actions"),
}
COUNTERS = ("failures", "retries", "retry_successes")
BATCH = 500


def _fingerprint(connection_id, pipeline_id, signature: str) -> str:
    # incidents.services.incidents.incident_fingerprint as it stands when this migration was written
    return hashlib.sha256(f"signature:{connection_id}:{pipeline_id}:{signature}".encode()).hexdigest()


def _merge_stats(SignatureStats, old: str, new: str, text: str) -> None:
    stale = SignatureStats.objects.filter(signature=old).first()
    if stale is None:
        return
    clean = SignatureStats.objects.filter(signature=new).first()
    if clean is None:
        stale.signature, stale.signature_text = new, text
        stale.save(update_fields=["signature", "signature_text"])
        return
    SignatureStats.objects.filter(pk=clean.pk).update(**{name: F(name) + getattr(stale, name) for name in COUNTERS})
    if stale.last_seen_at and (clean.last_seen_at is None or stale.last_seen_at > clean.last_seen_at):
        SignatureStats.objects.filter(pk=clean.pk).update(last_seen_at=stale.last_seen_at)
    stale.delete()


def _refingerprint(Incident, analysis, old: str) -> None:
    run = analysis.run
    if analysis.incident_id is None:
        return
    incident = Incident.objects.get(pk=analysis.incident_id)
    if incident.fingerprint != _fingerprint(run.connection_id, run.pipeline_id, old):
        return  # grouped by error class, or already moved
    fingerprint = _fingerprint(run.connection_id, run.pipeline_id, analysis.signature)
    if incident.status != "resolved":
        taken = Incident.objects.filter(fingerprint=fingerprint).exclude(status="resolved").exclude(pk=incident.pk)
        if taken.exists():
            return
    Incident.objects.filter(pk=incident.pk).update(fingerprint=fingerprint)


def strip_stored_escapes(apps, schema_editor):
    for model_name, fields in TEXT_FIELDS.items():
        stored_rows_rewrite(apps.get_model("incidents", model_name), fields, strip_terminal_escapes_values)
    FailureAnalysis = apps.get_model("incidents", "FailureAnalysis")
    SignatureStats = apps.get_model("incidents", "SignatureStats")
    Incident = apps.get_model("incidents", "Incident")
    coloured = FailureAnalysis.objects.filter(signature_text__contains="\x1b").select_related("run")
    for analysis in coloured.iterator(chunk_size=BATCH):
        old = analysis.signature
        signature = signature_of(strip_terminal_escapes(analysis.run.error_message), error_code=analysis.run.error_code)
        analysis.signature, analysis.signature_text = signature.hash, redact(signature.text)
        analysis.save(update_fields=["signature", "signature_text"])
        _merge_stats(SignatureStats, old, signature.hash, analysis.signature_text)
        _refingerprint(Incident, analysis, old)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0007_redact_stored_errors"), ("monitors", "0009_strip_terminal_escapes")]

    operations = [migrations.RunPython(strip_stored_escapes, migrations.RunPython.noop, elidable=True)]
