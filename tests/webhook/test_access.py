"""One rule for the pages and /metrics: ACCESS_TOKEN unset refuses both; a short one is refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from commit_digest.config import load_settings
from commit_digest.errors import ConfigError

TOKEN = "a-long-enough-access-token"


@pytest.mark.parametrize("path", ["/metrics", "/reports", "/api/commits/acme/app/" + "a" * 40])
def test_without_a_token_every_guarded_path_is_closed(
    client_with: Callable[..., FlaskClient], path: str
) -> None:
    """No ACCESS_TOKEN: /metrics answers 403 like the pages (it was open to anyone)."""
    client = client_with(ACCESS_TOKEN="")
    response = client.get(path)
    assert response.status_code == 403
    assert "set ACCESS_TOKEN" in response.json["error"]


@pytest.mark.parametrize("path", ["/metrics", "/reports"])
def test_with_a_token_the_same_credentials_open_every_path(
    client_with: Callable[..., FlaskClient], path: str
) -> None:
    """The bearer header or ?token= opens the pages and /metrics alike; a wrong one is 401."""
    client = client_with(ACCESS_TOKEN=TOKEN)
    assert client.get(path).status_code == 401
    assert (
        client.get(path, headers={"Authorization": "Bearer wrong-token-0000000"}).status_code == 401
    )
    assert client.get(path, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert client.get(path, query_string={"token": TOKEN}).status_code == 200


def test_a_short_token_stops_start_up() -> None:
    """ACCESS_TOKEN under 16 characters is refused with one line saying how to make one."""
    with pytest.raises(ConfigError, match="ACCESS_TOKEN: is 6 characters; use at least 16"):
        load_settings({"GITHUB_WEBHOOK_SECRET": "s", "ACCESS_TOKEN": "secret"})
