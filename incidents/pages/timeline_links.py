"""Timeline entries in words with links to the read-only pages of the settings they cite (retry policies,
notification channels and routes, maintenance windows), by the id an entry stores or, for older entries, by name.
The pages are reached by URL name: they sit in a higher layer (settings_pages)."""

from collections.abc import Iterable
from typing import Any

from django.urls import reverse

from incidents.models import IncidentEvent, NotificationChannel, NotificationRoute
from incidents.timeline import event_html
from monitors.models import MaintenanceWindow
from remediation.models import RetryPolicy

LOOKUP_LIMIT = 2000  # settings rows read per kind to link by name: far more than any installation has

PAGES = {"policy": "policies", "channel": "channels", "route": "routes", "maintenance": "maintenance"}


class SettingLinks:
    """Resolves a cited setting to its page's URL; reads each kind's ids and names once, when first cited."""

    def __init__(self) -> None:
        self._known: dict[str, tuple[set[int], dict[str, int]]] = {}

    def _load(self, kind: str) -> tuple[set[int], dict[str, int]]:
        if kind not in self._known:
            names: dict[str, int] = {}
            if kind == "policy":
                rows = list(RetryPolicy.objects.values_list("pk", "name")[:LOOKUP_LIMIT])
                names = {name: pk for pk, name in rows}
            elif kind == "route":
                rows = list(NotificationRoute.objects.values_list("pk", "name")[:LOOKUP_LIMIT])
                names = {name: pk for pk, name in rows}
            elif kind == "channel":
                channels = list(NotificationChannel.objects.only("pk", "name", "kind")[:LOOKUP_LIMIT])
                rows = [(channel.pk, channel.name) for channel in channels]
                # Entries name a channel as str(channel), "name (kind)"; older ones too.
                names = {**{str(channel): channel.pk for channel in channels}, **{n: pk for pk, n in rows}}
            else:
                rows = list(MaintenanceWindow.objects.order_by("-starts_at").values_list("pk", "name")[:LOOKUP_LIMIT])
                counts: dict[str, int] = {}
                for _, name in rows:
                    counts[name] = counts.get(name, 0) + 1
                names = {name: pk for pk, name in rows if counts[name] == 1}  # a name alone says which only if unique
            self._known[kind] = ({pk for pk, _ in rows}, names)
        return self._known[kind]

    def __call__(self, kind: str, name: str, ident: Any) -> str:
        if kind not in PAGES:
            return ""
        ids, names = self._load(kind)
        pk = ident if isinstance(ident, int) and ident in ids else names.get(name)
        return reverse(f"settings_pages:{PAGES[kind]}-detail", args=[pk]) if pk is not None else ""


def events_linked(events: Iterable[IncidentEvent]) -> None:
    """Give each entry `words_html`: its words, escaped, with the settings it cites linked (at most one read per
    kind of setting, whatever the number of entries)."""
    links = SettingLinks()
    for event in events:
        event.words_html = event_html(  # type: ignore[attr-defined]
            kind=event.kind, params=event.params, note="", at=event.created_at, link=links
        )
