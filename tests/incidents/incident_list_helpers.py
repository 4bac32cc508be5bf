"""What the incident list's tests share: its address, the htmx request header, and reading which incidents a page
lists."""

import re
from datetime import timedelta

from django.test import Client
from django.utils import timezone

URL = "/incidents/"
HTMX = {"HX-Request": "true"}


def row_ids(html: str) -> list[int]:
    """The incidents listed, in order."""
    return [int(pk) for pk in re.findall(r'<tr id="incident-(\d+)"', html)]


def page(client: Client, query: str = "", **headers) -> str:
    response = client.get(f"{URL}?{query}" if query else URL, headers=headers)
    assert response.status_code == 200
    return response.content.decode()


def ago(minutes: int):
    return timezone.now() - timedelta(minutes=minutes)
