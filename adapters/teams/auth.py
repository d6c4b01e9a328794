"""Bot Framework authentication: inbound JWT validation and cached outbound credentials."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    PasswordServiceClientCredentialFactory,
    ServiceClientCredentialsFactory,
    UserTokenClient,
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


class CachingBotFrameworkAuthentication(ConfigurationBotFrameworkAuthentication):  # type: ignore[misc]
    """Reuses one connector client per (app id, service URL, audience).

    For every proactive send (`continue_conversation`, `create_conversation`) the SDK builds a
    new ConnectorClient and UserTokenClient: about 5 ms of CPU for their msrest pipelines, and a
    new `requests.Session` each, so every message to the Bot Connector opened a new TCP and TLS
    connection. A kept client keeps its connection pool. Clients are looked up per call, so a
    cached one is as good as a new one; only the token needs refreshing, which `warm` does off
    the loop before every use.
    """

    def __init__(self, *args: Any, trust_env: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connector_clients: dict[tuple[str, str, str], ConnectorClient] = {}
        self.trust_env = trust_env
        self._user_token_clients: dict[str, UserTokenClient] = {}

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return _CachedConnectorFactory(
            super().create_connector_factory(claims_identity),
            app_id=_app_id_of(claims_identity),
            clients=self.connector_clients,
            trust_env=self.trust_env,
        )

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        app_id = _app_id_of(claims_identity)
        if app_id not in self._user_token_clients:
            client = await super().create_user_token_client(claims_identity)
            self._user_token_clients[app_id] = client
        return self._user_token_clients[app_id]

    async def close(self) -> None:
        """Close every kept connection pool."""
        clients, self.connector_clients = list(self.connector_clients.values()), {}
        for client in clients:
            await client.__aexit__(None, None, None)


class _CachedConnectorFactory(ConnectorFactory):  # type: ignore[misc]
    """The SDK's factory for one claims identity, answering from a shared cache of clients."""

    def __init__(
        self,
        inner: ConnectorFactory,
        *,
        app_id: str,
        clients: dict[tuple[str, str, str], ConnectorClient],
        trust_env: bool,
    ) -> None:
        self._inner = inner
        self._app_id = app_id
        self._clients = clients
        self._trust_env = trust_env

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        key = (self._app_id, service_url, audience or "")
        client = self._clients.pop(key, None)
        if client is not None:
            self._clients[key] = client  # the most recently used last
            await CachingCredentialsFactory.warm(client.config.credentials)
            return client
        client = await self._inner.create(service_url, audience)
        # msrest has `requests` read the proxy variables and ~/.netrc for every call unless
        # told not to (CHATOPS_HTTP_TRUST_ENV turns it back on, for a proxy).
        client.config.proxies.use_env_settings = self._trust_env
        if len(self._clients) >= MAX_CONNECTOR_CLIENTS:
            # The least recently used; not closed, as a send may still be using it (its
            # connections close when it is garbage-collected).
            self._clients.pop(next(iter(self._clients)))
        self._clients[key] = client
        return client


def _app_id_of(claims_identity: ClaimsIdentity) -> str:
    """The bot's app id as the SDK reads it from a claims identity (audience, else appid)."""
    for claim in (AuthenticationConstants.AUDIENCE_CLAIM, AuthenticationConstants.APP_ID_CLAIM):
        value = claims_identity.get_claim_value(claim)
        if value:
            return str(value)
    return ""


# Teams uses a handful of service URLs (one per region); the bound only guards against growth.
MAX_CONNECTOR_CLIENTS = 64


def build_authentication(
    credentials: TeamsCredentials,
    *,
    credentials_factory: ServiceClientCredentialsFactory | None = None,
    trust_env: bool = False,
) -> CachingBotFrameworkAuthentication:
    """The SDK's authentication for this registration, with cached outbound credentials and
    connector clients."""
    openid.install()
    factory = credentials_factory or CachingCredentialsFactory(
        PasswordServiceClientCredentialFactory(
            credentials.app_id, credentials.app_password, credentials.tenant_id
        )
    )
    return CachingBotFrameworkAuthentication(
        _SdkConfiguration(credentials), credentials_factory=factory, trust_env=trust_env
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
    if not _expires(result.claims_identity):
        return None
    return result


def _expires(identity: ClaimsIdentity | None) -> bool:
    """True unless a validated token carries no expiry.

    The SDK has PyJWT check `exp` only when the claim is present, so a token without one
    would be valid for ever. Anonymous identities (authentication off) have no token at all.
    """
    if (
        identity is None
        or identity.authentication_type == AuthenticationConstants.ANONYMOUS_AUTH_TYPE
    ):
        return True
    expiry = identity.claims.get("exp")
    return isinstance(expiry, int | float) and not isinstance(expiry, bool)
