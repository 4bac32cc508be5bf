"""Websocket consumers of the incidents app: they authenticate, join groups and re-render partials; never write."""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.http import QueryDict
from django.template.loader import render_to_string

from incidents.realtime import INCIDENT_LIST_GROUP
from incidents.selectors import incident_list_page

# Close codes in the application range (4000-4999), mirroring the HTTP statuses.
CLOSE_FORBIDDEN = 4403


class IncidentListConsumer(AsyncWebsocketConsumer):
    """Pushes the incident list's live part (rows and counts) to every signed-in user allowed to read incidents, for
    the filters, sort and page in the websocket URL's query string (the page's own)."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        allowed = user is not None and await database_sync_to_async(user.has_perm)("incidents.view_incident")
        if not allowed:
            # Closing before accepting rejects the handshake with HTTP 403.
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.channel_layer.group_add(INCIDENT_LIST_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(INCIDENT_LIST_GROUP, self.channel_name)

    async def aims_event(self, message: dict) -> None:
        params = QueryDict(self.scope.get("query_string", b""))
        await self.send(text_data=await database_sync_to_async(_render_live)(params, self.scope["user"]))


def _render_live(params: QueryDict, user) -> str:
    return render_to_string(
        "incidents/incident_list.html#live", {**incident_list_page(params=params, user=user), "oob": True}
    )
