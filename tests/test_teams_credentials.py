"""Outbound Teams credentials: one token cache per scope, fetched off the event loop."""

from __future__ import annotations

import threading
from typing import Any

from botframework.connector.auth import ServiceClientCredentialsFactory
from botframework.connector.auth.microsoft_app_credentials import MicrosoftAppCredentials

from adapters.teams.auth import CachingCredentialsFactory

APP_ID = "8f0c6a3e-2d4b-4c1a-9e7f-5b6d3c2a1f00"


class CountingCredentials(MicrosoftAppCredentials):  # type: ignore[misc]
    """Real credentials class, but the token comes from a counter instead of Entra ID."""

    def __init__(self) -> None:
        super().__init__(APP_ID, "secret")
        self.token_threads: list[str] = []

    def get_access_token(self, force_refresh: bool = False) -> str:
        self.token_threads.append(threading.current_thread().name)
        return "token"


class CountingFactory(ServiceClientCredentialsFactory):  # type: ignore[misc]
    def __init__(self) -> None:
        self.created: list[tuple[str, str]] = []

    async def is_valid_app_id(self, app_id: str) -> bool:
        return app_id == APP_ID

    async def is_authentication_disabled(self) -> bool:
        return False

    async def create_credentials(self, app_id: str, scope: str, *_args: Any) -> Any:
        self.created.append((app_id, scope))
        return CountingCredentials()


async def test_credentials_are_built_once_per_scope_and_warmed_in_a_thread() -> None:
    inner = CountingFactory()
    factory = CachingCredentialsFactory(inner)
    scope = "https://api.botframework.com"

    first = await factory.create_credentials(APP_ID, scope, "https://login", True)
    second = await factory.create_credentials(APP_ID, scope, "https://login", True)
    other = await factory.create_credentials(APP_ID, "https://other", "https://login", True)

    assert first is second
    assert other is not first
    assert inner.created == [(APP_ID, scope), (APP_ID, "https://other")]
    # The token is fetched (or taken from MSAL's cache) in a worker thread, never on the loop.
    assert first.token_threads
    assert threading.main_thread().name not in first.token_threads
