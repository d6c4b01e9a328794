"""An offline Bot Framework: real inbound JWT validation and outbound replies without Azure.

What the botbuilder 4.17.1 SDK needs, and what this module gives it:

- Inbound: the SDK fetches the OpenID metadata document and the JWKS with a *blocking*
  `requests.get` on the event loop, so `OfflineBotFramework` serves them from a plain HTTP
  server in another thread (one on the test loop would deadlock) and points every metadata
  URL the SDK may use at it. Tokens are signed here with RSA keys made by `cryptography`.
- Outbound: `StubCredentialsFactory` keeps the SDK's own app-id checks (inbound audience
  validation goes through it) but hands out credentials that add a fixed bearer token
  without talking to Azure AD. `RecordingConnector` plays the Bot Connector the answers are
  posted to (an aiohttp app the tests serve on a free port of the test loop).
- Guard: while `offline_bot_framework()` is active, `requests` may only reach loopback
  addresses; anything else fails and is recorded, so a test cannot silently use the network.
"""

from __future__ import annotations

import base64
import functools
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import jwt
import requests
from botframework.connector.auth import (
    AuthenticationConstants,
    ChannelValidation,
    GovernmentConstants,
    PasswordServiceClientCredentialFactory,
)
from botframework.connector.auth.app_credentials import AppCredentials
from botframework.connector.auth.government_channel_validation import (
    GovernmentChannelValidation,
)
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor
from cryptography.hazmat.primitives.asymmetric import rsa
from requests.adapters import HTTPAdapter

BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
TEAMS_CHANNEL_ID = "msteams"
STUB_OUTBOUND_TOKEN = "stub-outbound-token"
CHANNEL_METADATA_PATH = "/channel/.well-known/openidconfiguration"
CHANNEL_KEYS_PATH = "/channel/keys"
# The emulator / skill path validates AAD-issued tokens; offline it gets a key set without keys.
EMULATOR_METADATA_PATH = "/emulator/.well-known/openid-configuration"
EMULATOR_KEYS_PATH = "/emulator/keys"
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


# --- keys and tokens -----------------------------------------------------------------------


@dataclass(frozen=True)
class SigningKey:
    """An RSA key pair and the `kid` it is published under."""

    kid: str
    private_key: rsa.RSAPrivateKey

    def jwk(self, *, endorsements: Sequence[str] = (TEAMS_CHANNEL_ID,)) -> dict[str, Any]:
        """The public key as the Bot Framework JWKS lists it (with channel endorsements)."""
        numbers = self.private_key.public_key().public_numbers()
        return {
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "n": _b64url_uint(numbers.n),
            "e": _b64url_uint(numbers.e),
            "endorsements": list(endorsements),
        }


@functools.cache
def signing_key(kid: str) -> SigningKey:
    """A 2048-bit RSA key, made once per kid and test session (key generation is slow)."""
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return SigningKey(kid=kid, private_key=private_key)


class Omit(Enum):
    """Leave a claim or header out of the token."""

    OMIT = "omit"


OMIT = Omit.OMIT


def sign_token(
    key: SigningKey,
    *,
    audience: str | Omit,
    service_url: str | Omit,
    issuer: str | Omit = BOT_FRAMEWORK_ISSUER,
    expires_in: timedelta | Omit = timedelta(hours=1),
    not_before: timedelta | Omit = timedelta(minutes=-5),
    kid: str | Omit | None = None,
    algorithm: str = "RS256",
    extra_claims: Mapping[str, object] | None = None,
    now: datetime | None = None,
) -> str:
    """A token as the Bot Framework channel service signs it, with knobs to break each part.

    `audience` is the bot's app id and `service_url` the activity's serviceUrl. Times are
    relative to `now`: a negative `expires_in` makes an expired token, a positive
    `not_before` one that is not valid yet. `kid=None` publishes the signing key's own kid;
    any other string claims a different key; `OMIT` drops the header. `OMIT` for a claim
    leaves it out.
    """
    issued_at = now or datetime.now(UTC)
    claims: dict[str, object] = {"iat": int(issued_at.timestamp())}
    optional: dict[str, object | Omit] = {
        "iss": issuer,
        "aud": audience,
        "serviceurl": service_url,
        "exp": _epoch(issued_at, expires_in),
        "nbf": _epoch(issued_at, not_before),
    }
    claims.update({name: value for name, value in optional.items() if value is not OMIT})
    claims.update(extra_claims or {})
    headers: dict[str, Any] = {}
    if kid is not OMIT:
        headers["kid"] = key.kid if kid is None else kid
    signing_material: Any = None if algorithm == "none" else key.private_key
    return jwt.encode(claims, signing_material, algorithm=algorithm, headers=headers)


def _epoch(base: datetime, offset: timedelta | Omit) -> int | Omit:
    return offset if isinstance(offset, Omit) else int((base + offset).timestamp())


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


# --- the metadata server (another thread) ----------------------------------------------------


class MetadataServer:
    """Serves the OpenID metadata documents and key sets from a background thread."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self._channel_keys: list[dict[str, Any]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name="bot-framework-metadata",
            daemon=True,
        )

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:<port>`."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def channel_metadata_url(self) -> str:
        """Where the SDK reads the channel service's OpenID configuration."""
        return self.base_url + CHANNEL_METADATA_PATH

    @property
    def emulator_metadata_url(self) -> str:
        """Where the SDK reads the emulator / skill (AAD) OpenID configuration."""
        return self.base_url + EMULATOR_METADATA_PATH

    def publish(self, keys: Sequence[dict[str, Any]]) -> None:
        """Replace the channel JWKS (the SDK caches it: see `clear_metadata_cache`)."""
        with self._lock:
            self._channel_keys = list(keys)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _document(self, path: str) -> dict[str, Any] | None:
        with self._lock:
            self.requests.append(path)
            if path == CHANNEL_METADATA_PATH:
                return _openid_configuration(
                    BOT_FRAMEWORK_ISSUER, self.base_url + CHANNEL_KEYS_PATH
                )
            if path == CHANNEL_KEYS_PATH:
                return {"keys": list(self._channel_keys)}
            if path == EMULATOR_METADATA_PATH:
                return _openid_configuration(
                    "https://login.microsoftonline.com/botframework.com/v2.0",
                    self.base_url + EMULATOR_KEYS_PATH,
                )
            if path == EMULATOR_KEYS_PATH:
                return {"keys": []}
        return None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                document = server._document(urlsplit(self.path).path)
                body = json.dumps(document if document is not None else {}).encode()
                self.send_response(200 if document is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: pytest shows no access log."""

        return Handler


def _openid_configuration(issuer: str, jwks_uri: str) -> dict[str, Any]:
    return {
        "issuer": issuer,
        "authorization_endpoint": "https://invalid.example/authorize",
        "jwks_uri": jwks_uri,
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
    }


# --- pointing the SDK at it -----------------------------------------------------------------


@dataclass
class OfflineBotFramework:
    """The running metadata server and the keys it publishes."""

    metadata: MetadataServer
    trusted_key: SigningKey
    network_violations: list[str]

    def publish(self, *keys: SigningKey, endorsements: Sequence[str] = (TEAMS_CHANNEL_ID,)) -> None:
        """Publish these keys (and only these) in the channel JWKS; forget the SDK's copy."""
        self.metadata.publish([key.jwk(endorsements=endorsements) for key in keys])
        clear_metadata_cache()

    def token(self, **options: Any) -> str:
        """`sign_token` with the trusted key (options override any part of the token)."""
        key = options.pop("key", self.trusted_key)
        return sign_token(key, **options)


def clear_metadata_cache() -> None:
    """The SDK keeps fetched key sets per metadata URL in a class-level dict; empty it."""
    JwtTokenExtractor.metadataCache.clear()


# (owner, attribute, local URL) for every OpenID metadata URL the SDK may fetch; see
# botframework/connector/auth/{channel,government_channel,emulator,skill}_validation.py.
def _metadata_url_targets(metadata: MetadataServer) -> list[tuple[type[Any], str, str]]:
    channel, emulator = metadata.channel_metadata_url, metadata.emulator_metadata_url
    return [
        (ChannelValidation, "open_id_metadata_endpoint", channel),
        (AuthenticationConstants, "TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL", channel),
        (AuthenticationConstants, "TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL", emulator),
        (GovernmentChannelValidation, "OPEN_ID_METADATA_ENDPOINT", channel),
        (GovernmentConstants, "TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL", channel),
        (GovernmentConstants, "TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL", emulator),
    ]


@contextmanager
def offline_bot_framework(trusted_key: SigningKey | None = None) -> Iterator[OfflineBotFramework]:
    """Run the metadata server and point the SDK at it; restore everything on exit."""
    key = trusted_key or signing_key("offline-channel-key-1")
    metadata = MetadataServer()
    violations: list[str] = []
    with ExitStack() as stack:
        metadata.start()
        stack.callback(metadata.stop)
        for owner, name, url in _metadata_url_targets(metadata):
            stack.callback(setattr, owner, name, getattr(owner, name))
            setattr(owner, name, url)
        saved_cache = dict(JwtTokenExtractor.metadataCache)
        stack.callback(JwtTokenExtractor.metadataCache.update, saved_cache)
        stack.callback(clear_metadata_cache)
        stack.enter_context(_loopback_only(violations))
        offline = OfflineBotFramework(
            metadata=metadata, trusted_key=key, network_violations=violations
        )
        offline.publish(key)
        yield offline


@contextmanager
def _loopback_only(violations: list[str]) -> Iterator[None]:
    """Make `requests` (used by the SDK, msrest and MSAL) refuse anything but loopback."""
    original = HTTPAdapter.send

    @functools.wraps(original)
    def send(adapter: HTTPAdapter, request: Any, *args: Any, **kw: Any) -> Any:
        host = urlsplit(str(request.url)).hostname or ""
        if host not in _LOOPBACK_HOSTS:
            violations.append(str(request.url))
            raise requests.ConnectionError(f"tests must not use the network: {request.url}")
        return original(adapter, request, *args, **kw)

    patched: Any = send
    HTTPAdapter.send = patched  # type: ignore[method-assign]
    try:
        yield
    finally:
        HTTPAdapter.send = original  # type: ignore[method-assign]


# --- outbound: stub credentials and a recording Bot Connector ------------------------------


class StubAppCredentials(AppCredentials):  # type: ignore[misc]
    """Credentials that sign connector requests with a fixed token, never calling Azure AD."""

    def get_access_token(self, force_refresh: bool = False) -> str:
        return STUB_OUTBOUND_TOKEN


class StubCredentialsFactory(PasswordServiceClientCredentialFactory):  # type: ignore[misc]
    """The SDK's password factory (its app-id checks validate inbound audiences) with stub
    outbound credentials; records the OAuth scopes it was asked for."""

    def __init__(self, app_id: str) -> None:
        super().__init__(app_id, "not-used-offline", None)
        self.scopes: list[str] = []

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> StubAppCredentials:
        if not await self.is_valid_app_id(app_id):
            raise PermissionError(f"credentials asked for a foreign app id {app_id!r}")
        self.scopes.append(oauth_scope)
        return StubAppCredentials(app_id, None, oauth_scope)
