"""Signed "acknowledge" links carried by notifications: bound to one incident, its generation (the episode that
paged) and the person paged (or nobody, for a channel's audience), expiring after ACK_LINK_MAX_AGE. The link does not
act by itself: the page it opens asks the signed-in Responder to press Acknowledge (see views/ack_links.py)."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "incidents.ack-link"
ACK_LINK_MAX_AGE = timedelta(hours=24)


class AckLinkError(Exception):
    """The link is unusable; `expired` tells an old link from a forged or damaged one."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


@dataclass(frozen=True)
class AckClaim:
    incident_id: int
    generation: int
    user_id: int | None


def ack_token(*, incident_id: int, generation: int, user_id: int | None) -> str:
    return signing.dumps({"i": incident_id, "g": generation, "u": user_id}, salt=SALT)


def ack_url(*, incident_id: int, generation: int, user_id: int | None) -> str:
    """The absolute link a notification carries."""
    token = ack_token(incident_id=incident_id, generation=generation, user_id=user_id)
    return settings.AIMS_BASE_URL + reverse("incidents:ack-link", args=[incident_id, token])


def ack_claim_read(token: str) -> AckClaim:
    """What a link's token says, if AIMS signed it within ACK_LINK_MAX_AGE; else AckLinkError."""
    try:
        data = signing.loads(token, salt=SALT, max_age=ACK_LINK_MAX_AGE)
    except signing.SignatureExpired:
        raise AckLinkError("This acknowledge link has expired; open the incident instead.", expired=True) from None
    except signing.BadSignature:
        raise AckLinkError("This acknowledge link is not valid (it was changed or cut short).") from None
    try:
        user_id = data["u"]
        return AckClaim(
            incident_id=int(data["i"]), generation=int(data["g"]), user_id=int(user_id) if user_id else None
        )
    except (KeyError, TypeError, ValueError):
        raise AckLinkError("This acknowledge link is not valid.") from None
