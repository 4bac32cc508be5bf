"""Live pages: one websocket consumer per page scope. Each authenticates, joins the groups its page needs, sends
the page's `live` partial at once (so a reconnect after a dropped socket catches up without a reload) and again
after every announced change: at once after a quiet spell, then at most every `push_interval` seconds however many
changes arrive; the htmx ws extension swaps the parts in by id. Consumers never write.

A consumer also joins its user's group: when the user logs out or loses access (aimsweb.live_access), it checks its
own session and permission again and closes the socket if they no longer hold. It checks them before a push too, at
most every `access_check_interval` seconds, for changes no signal announces."""

import asyncio
from importlib import import_module
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.auth import get_user
from django.contrib.auth.context_processors import PermWrapper
from django.http import HttpRequest, QueryDict
from django.template.loader import render_to_string

from aimsweb.live_access import ACCESS_CHANGED_EVENT, user_group
from incidents.pages.dashboard import dashboard_page
from incidents.pages.incident_detail import incident_detail_page
from incidents.pages.incident_list import incident_list_page
from incidents.realtime import DASHBOARD_GROUP, INCIDENT_LIST_GROUP, incident_group
from incidents.selectors import incident_get

CLOSE_UNAUTHENTICATED = 4401  # application close codes (4000-4999) mirror the HTTP statuses
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404


class LivePageConsumer(AsyncWebsocketConsumer):
    """Base of the live pages: subclasses name the permission, the groups and how to render."""

    permission = "incidents.view_incident"
    push_interval = 0.2
    access_check_interval = 10.0

    async def connect(self) -> None:
        self.user = self.scope.get("user")
        self.joined: list[str] = []
        self._dirty = False
        self._flusher: asyncio.Task | None = None
        self._pushed_at = float("-inf")  # when the last push began (the event loop's clock)
        self._access_checked_at = asyncio.get_running_loop().time()
        self._closed = False
        allowed = self.user is not None and await database_sync_to_async(self.user.has_perm)(self.permission)
        if not allowed:
            await self.close(code=CLOSE_FORBIDDEN)  # before accept: the handshake is refused with HTTP 403
            return
        if not await database_sync_to_async(self.prepare)():
            await self.close(code=CLOSE_NOT_FOUND)
            return
        for group in [user_group(self.user.pk), *self.groups_to_join()]:
            await self.channel_layer.group_add(group, self.channel_name)
            self.joined.append(group)
        await self.accept()
        await self.push()

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)
        flusher = getattr(self, "_flusher", None)
        if flusher is not None:
            flusher.cancel()

    async def aims_event(self, message: dict) -> None:
        """Mark the page stale; one flusher re-renders it, at once or push_interval after the last push began, and
        again as long as events keep arriving meanwhile. A change of the user's access is checked at once."""
        if message["event"] == ACCESS_CHANGED_EVENT:
            await self.access_enforce()
            return
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
        loop = asyncio.get_running_loop()
        if loop.time() - self._access_checked_at >= self.access_check_interval and not await self.access_enforce():
            return
        if self._closed:
            return
        self._pushed_at = loop.time()
        await self.send(text_data=await database_sync_to_async(self.render)())

    async def access_enforce(self) -> bool:
        """Check the session and permission again; close the socket (for good) when they no longer hold."""
        if self._closed:
            return False
        self._access_checked_at = asyncio.get_running_loop().time()
        code = await database_sync_to_async(self.access_refusal)()
        if code is None:
            return True
        self._closed = True
        self._dirty = False
        await self.close(code=code)
        return False

    def access_refusal(self) -> int | None:
        """The close code if the socket's session has ended (logout, password change, deactivation, deletion) or its
        user lost the page's permission; None while both hold. Loads both afresh: the scope's are from the handshake."""
        session_key = self.scope["session"].session_key
        session = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)
        request = HttpRequest()  # get_user reads only its session
        request.session = session
        user = get_user(request)
        if not user.is_authenticated or user.pk != self.user.pk:
            return CLOSE_UNAUTHENTICATED
        if not user.has_perm(self.permission):
            return CLOSE_FORBIDDEN
        self.user = user  # what the page renders (the actions offered) follows the current permissions
        return None

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
        assert incident is not None  # prepare found it, and incidents are never deleted
        context = {**incident_detail_page(incident), "perms": PermWrapper(self.user), "user": self.user, "oob": True}
        return render_to_string("incidents/incident_detail.html#live", context)


class DashboardConsumer(LivePageConsumer):
    """The dashboard's open incidents, KPIs and charts for the window the page shows."""

    def groups_to_join(self) -> list[str]:
        return [DASHBOARD_GROUP]

    def render(self) -> str:
        context = {**dashboard_page(window=self.params.get("window", "24h")), "oob": True, "user": self.user}
        return render_to_string("incidents/dashboard.html#live", context)
