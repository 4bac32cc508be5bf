"""What an API key may be allowed to do. A scope narrows its user's role: a request needs both the scope on the key
and the permission on the user's role. Session requests (the browser) have every scope and only their role."""

SCOPES: dict[str, str] = {
    "incidents:read": "Read incidents, their timeline, runs, analyses, retry attempts and ticket links.",
    "incidents:write": "Update, acknowledge, resolve, reopen, silence, merge and comment on incidents; retry runs.",
    "tickets:write": "Link and unlink tickets on incidents.",
    "pipelines:read": "Read pipelines, their runs and their health.",
    "contracts:read": "Read data contracts and their violations.",
    "admin:read": "Read connections (never their secrets).",
}


def scope_problems(scopes: list[str]) -> list[str]:
    """The unknown names in `scopes`, for a clear error."""
    return [scope for scope in scopes if scope not in SCOPES]


# A user may hold a scope when their role has at least one of these permissions (what the scope's operations need).
SCOPE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "incidents:read": ("incidents.view_incident",),
    "incidents:write": (
        "incidents.acknowledge_incident",
        "incidents.resolve_incident",
        "incidents.assign_incident",
        "incidents.comment_incident",
        "incidents.silence_incident",
        "monitors.retry_pipelinerun",
    ),
    "tickets:write": ("incidents.link_ticket_incident",),
    "pipelines:read": ("monitors.view_pipeline",),
    "contracts:read": ("contracts.view_datacontract",),
    "admin:read": ("monitors.change_connection",),
}
