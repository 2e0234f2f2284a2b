"""A posted `next` may send the browser back into this site only (no open redirect)."""

import pytest
from django.test import RequestFactory

from renzhi.core.redirects import local_next

FOREIGN = [
    "https://evil.example/",
    "//evil.example/x",
    "http://evil.example",
    "javascript:alert(1)",
]


@pytest.mark.parametrize("target", FOREIGN)
def test_a_next_outside_the_site_falls_back_to_the_default(target):
    request = RequestFactory().post("/x/", {"next": target})
    assert local_next(request, "/home/") == "/home/"


def test_a_next_inside_the_site_is_followed():
    request = RequestFactory().post("/x/", {"next": "/warnings/signals/?day=2026-12-01"})
    assert local_next(request, "/home/") == "/warnings/signals/?day=2026-12-01"


def test_a_route_name_is_the_default(db):
    request = RequestFactory().post("/x/")
    assert local_next(request, "warning:signals").startswith("/")


def test_the_signal_page_does_not_send_staff_to_another_site(world, client):
    client.force_login(world.alice)
    response = client.post(
        "/warnings/signals/999999/dismiss/", {"reason": "误报", "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert "evil.example" not in response["Location"]
