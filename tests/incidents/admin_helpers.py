"""What the notification admin's tests share: the channel admin's address, a valid channel form, a saved channel,
and the errors of the form an admin page answered with."""

from incidents.models import NotificationChannel

CHANNEL_URL = "/admin/incidents/notificationchannel/"

TEAMS_HOOK = "https://prod-42.westeurope.logic.azure.com:443/workflows/5e1f0c9d/triggers/manual/paths/invoke?sig=Zk9Qx7"
WEBHOOK_SECRET = "whsec-0123456789abcdef"

VALID_CHANNEL = {
    "name": "data-oncall",
    "kind": "teams",
    "enabled": "on",
    "url": TEAMS_HOOK,
    "signing_secret": "",
    "recipients": "",
    "rate_limit_count": "20",
    "rate_limit_minutes": "60",
}


def form_errors(response) -> dict:
    return response.context["adminform"].form.errors


def make_channel(name: str = "ops-teams", kind: str = "teams", url: str = TEAMS_HOOK, **fields) -> NotificationChannel:
    channel = NotificationChannel(name=name, kind=kind, **fields)
    if kind != "email":
        channel.set_url(url)
    if kind == "webhook":
        channel.set_signing_secret(WEBHOOK_SECRET)
    channel.save()
    return channel
