"""Live pages: one websocket consumer per page scope. Each authenticates, joins the groups its page needs, sends
the page's `live` partial at once (so a reconnect after a dropped socket catches up without a reload) and again
after every announced change: at once after a quiet spell, then at most every `push_interval` seconds however many
changes arrive; the htmx ws extension swaps the parts in by id. Consumers never write."""

import asyncio
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.contrib.auth.context_processors import PermWrapper
from django.http import QueryDict
from django.template.loader import render_to_string

from incidents.realtime import DASHBOARD_GROUP, INCIDENT_LIST_GROUP, incident_group
from incidents.selectors import incident_get, incident_list_page
from incidents.views.incidents import detail_context

CLOSE_FORBIDDEN = 4403  # application close codes (4000-4999) mirror the HTTP statuses
CLOSE_NOT_FOUND = 4404


class LivePageConsumer(AsyncWebsocketConsumer):
    """Base of the live pages: subclasses name the permission, the groups and how to render."""

    permission = "incidents.view_incident"
    push_interval = 0.2

    async def connect(self) -> None:
        self.user = self.scope.get("user")
        self.joined: list[str] = []
        self._dirty = False
        self._flusher: asyncio.Task | None = None
        self._pushed_at = float("-inf")  # when the last push began (the event loop's clock)
        allowed = self.user is not None and await database_sync_to_async(self.user.has_perm)(self.permission)
        if not allowed:
            await self.close(code=CLOSE_FORBIDDEN)  # before accept: the handshake is refused with HTTP 403
            return
        if not await database_sync_to_async(self.prepare)():
            await self.close(code=CLOSE_NOT_FOUND)
            return
        for group in self.groups_to_join():
            await self.channel_layer.group_add(group, self.channel_name)
            self.joined.append(group)
        await self.accept()
        await self.push()

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)
        if getattr(self, "_flusher", None) is not None:
            self._flusher.cancel()

    async def aims_event(self, message: dict) -> None:
        """Mark the page stale; one flusher re-renders it, at once or push_interval after the last push began, and
        again as long as events keep arriving meanwhile."""
        self._dirty = True
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.ensure_future(self._flush())

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        while self._dirty:
            wait = self._pushed_at + self.push_interval - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            self._dirty = False  # before rendering: what is announced during the render gets a push of its own
            await self.push()

    async def push(self) -> None:
        self._pushed_at = asyncio.get_running_loop().time()
        await self.send(text_data=await database_sync_to_async(self.render)())

    @property
    def params(self) -> QueryDict:
        query = self.scope.get("query_string", b"").decode("utf-8", errors="replace")
        params = QueryDict(mutable=True)
        for key, values in parse_qs(query, keep_blank_values=True).items():
            params.setlist(key, values)
        return params

    def prepare(self) -> bool:
        """Load what the page is about (False: it does not exist)."""
        return True

    def groups_to_join(self) -> list[str]:
        raise NotImplementedError

    def render(self) -> str:
        raise NotImplementedError


class IncidentListConsumer(LivePageConsumer):
    """The incident list's rows and counts, for the filters, sort and page in the websocket URL's query string (the
    page's own)."""

    def groups_to_join(self) -> list[str]:
        return [INCIDENT_LIST_GROUP]

    def render(self) -> str:
        context = {**incident_list_page(params=self.params, user=self.user), "oob": True}
        return render_to_string("incidents/incident_list.html#live", context)


class IncidentPageConsumer(LivePageConsumer):
    """One incident's page: its state, actions (for the user's role), runs, retries, timeline, notifications."""

    def prepare(self) -> bool:
        self.incident_id = int(self.scope["url_route"]["kwargs"]["incident_id"])
        return incident_get(incident_id=self.incident_id) is not None

    def groups_to_join(self) -> list[str]:
        return [incident_group(self.incident_id)]

    def render(self) -> str:
        incident = incident_get(incident_id=self.incident_id)
        context = {**detail_context(incident), "perms": PermWrapper(self.user), "user": self.user, "oob": True}
        return render_to_string("incidents/incident_detail.html#live", context)


class DashboardConsumer(LivePageConsumer):
    """The dashboard's open incidents, KPIs and charts for the window the page shows."""

    def groups_to_join(self) -> list[str]:
        return [DASHBOARD_GROUP]

    def render(self) -> str:
        from incidents.selectors.dashboard import dashboard_context

        context = {**dashboard_context(window=self.params.get("window", "24h")), "oob": True, "user": self.user}
        return render_to_string("incidents/dashboard.html#live", context)
