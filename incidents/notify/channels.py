"""The channel kinds and what each is configured with, as its sender module declares it; and a channel's
configuration read from its row, for sending."""

from incidents.models import NotificationChannel
from incidents.notify import email, slack, teams, webhook
from incidents.notify.base import ChannelConfig, ChannelSpec

CHANNEL_SPECS: dict[str, ChannelSpec] = {
    spec.kind: spec for spec in (teams.CHANNEL, slack.CHANNEL, email.CHANNEL, webhook.CHANNEL)
}


def channel_spec(kind: str) -> ChannelSpec:
    """What a channel of this kind needs (NotificationChannel.Kind has one spec per value)."""
    return CHANNEL_SPECS[kind]


def channel_config(channel: NotificationChannel) -> ChannelConfig:
    """Where and how `channel` delivers, its secrets decrypted: for sending only, never for display."""
    return ChannelConfig(
        kind=channel.kind,
        name=channel.name,
        url=channel.get_url(),
        recipients=tuple(channel.recipient_list),
        signing_secret=channel.get_signing_secret(),
    )
