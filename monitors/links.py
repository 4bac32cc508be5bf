"""Where a run lives on its platform: its page in ADF Monitor or in the Databricks workspace, built from the
connection. One function per platform; every part taken from a row is quoted, and a connection whose host is not an
http(s) URL gives no link."""

from urllib.parse import quote, urlsplit

ADF_MONITOR = "https://adf.azure.com/en/monitoring/pipelineruns/"


def _part(value: str) -> str:
    return quote(str(value), safe="")


def adf_run_url(*, subscription_id: str, resource_group: str, factory_name: str, run_id: str) -> str | None:
    """The run's page in ADF Monitor (adf.azure.com), or None when the connection does not name its factory."""
    if not (subscription_id and resource_group and factory_name and run_id):
        return None
    factory = (
        f"/subscriptions/{_part(subscription_id)}/resourceGroups/{_part(resource_group)}"
        f"/providers/Microsoft.DataFactory/factories/{_part(factory_name)}"
    )
    return f"{ADF_MONITOR}{_part(run_id)}?factory={factory}"


def databricks_run_url(*, host: str, job_id: str, run_id: str) -> str | None:
    """The run's page in the Databricks workspace (`<host>/jobs/<job_id>/runs/<run_id>`), or None when the host is
    not an http(s) URL."""
    if not (host and job_id and run_id):
        return None
    try:
        parts = urlsplit(host.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    # Host and port only: no user information, query or fragment from the stored URL reaches the link.
    name = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    path = quote(parts.path.rstrip("/"), safe="/")
    base = f"{parts.scheme}://{name}{f':{port}' if port else ''}{path}"
    return f"{base}/jobs/{_part(job_id)}/runs/{_part(run_id)}"
