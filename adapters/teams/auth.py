"""Bot Framework authentication: inbound JWT validation and cached outbound credentials."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botframework.connector.auth import (
    AuthenticateRequestResult,
    BotFrameworkAuthentication,
    PasswordServiceClientCredentialFactory,
    ServiceClientCredentialsFactory,
)
from botframework.connector.auth.microsoft_app_credentials import MicrosoftAppCredentials

from adapters.teams import openid

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TeamsCredentials:
    """The bot's Azure registration. `app_id` empty means authentication is off (dev only)."""

    app_id: str
    app_password: str
    app_type: str = "SingleTenant"
    tenant_id: str = ""


class _SdkConfiguration:
    """The attribute names `ConfigurationBotFrameworkAuthentication` reads."""

    def __init__(self, credentials: TeamsCredentials) -> None:
        self.APP_ID = credentials.app_id
        self.APP_PASSWORD = credentials.app_password
        self.APP_TYPE = credentials.app_type
        self.APP_TENANTID = credentials.tenant_id


class CachingCredentialsFactory(ServiceClientCredentialsFactory):  # type: ignore[misc]
    """Reuses one credentials object (and so one MSAL token cache) per scope.

    The SDK builds new credentials, a new MSAL app and an empty token cache on every turn,
    then fetches a token synchronously on the event loop. Caching the object keeps the token;
    `warm` fetches or refreshes it in a worker thread so the loop never waits on the network.
    """

    def __init__(self, inner: ServiceClientCredentialsFactory) -> None:
        self._inner = inner
        self._cache: dict[tuple[str, str, str, bool], Any] = {}

    async def is_valid_app_id(self, app_id: str) -> bool:
        return bool(await self._inner.is_valid_app_id(app_id))

    async def is_authentication_disabled(self) -> bool:
        return bool(await self._inner.is_authentication_disabled())

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> Any:
        key = (app_id, oauth_scope or "", login_endpoint or "", validate_authority)
        if key not in self._cache:
            self._cache[key] = await self._inner.create_credentials(
                app_id, oauth_scope, login_endpoint, validate_authority
            )
        credentials = self._cache[key]
        await self.warm(credentials)
        return credentials

    @staticmethod
    async def warm(credentials: Any) -> None:
        """Fetch or refresh the token off the loop (a cached valid token returns at once)."""
        if isinstance(credentials, MicrosoftAppCredentials) and credentials.microsoft_app_id:
            await asyncio.to_thread(credentials.get_access_token)


def build_authentication(
    credentials: TeamsCredentials,
    *,
    credentials_factory: ServiceClientCredentialsFactory | None = None,
) -> BotFrameworkAuthentication:
    """The SDK's authentication for this registration, with cached outbound credentials."""
    openid.install()
    factory = credentials_factory or CachingCredentialsFactory(
        PasswordServiceClientCredentialFactory(
            credentials.app_id, credentials.app_password, credentials.tenant_id
        )
    )
    return ConfigurationBotFrameworkAuthentication(
        _SdkConfiguration(credentials), credentials_factory=factory
    )


async def authenticate(
    authentication: BotFrameworkAuthentication, activity: Any, auth_header: str
) -> AuthenticateRequestResult | None:
    """The validated identity behind a request, or None when the token is not acceptable.

    The SDK signals a bad token in many ways (PermissionError, jwt errors, KeyError for an
    unknown key id, ValueError for garbage); every one of them means 401, never 500.
    """
    try:
        result: AuthenticateRequestResult = await authentication.authenticate_request(
            activity, auth_header
        )
    except Exception:
        return None
    return result
