"""The Microsoft Teams app package: ``manifest.json`` plus two icons, zipped, ready to upload.

``manifest.template.json`` holds everything that does not vary per deployment. The fields
that do (app id, domain, version and the URLs built from the domain) are set here by key
path on the parsed JSON, never by replacing text, and a build fails if any ``{{...}}``
placeholder is left over.

The Teams app ``id`` is the bot's Microsoft App ID. Teams identifies an app by ``id`` across
uploads: a new id each build would install a second copy of the app instead of updating it,
so the id must be stable, and reusing the bot's id gives that with nothing extra to configure
or store. One Teams app per bot is all this service ships; a deployment wanting several
Teams apps for one bot would need a separate id per app.

The package builds offline against schema v1.30, the newest released schema bundled in
``@microsoft/app-manifest`` (``tests/node/validate-manifest.mjs`` validates it).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from importlib import metadata, resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "MANIFEST_VERSION",
    "ManifestError",
    "build_app_package",
    "check_app_id",
    "check_domain",
    "check_version",
    "default_version",
    "render_manifest",
]

MANIFEST_VERSION = "1.30"
DISTRIBUTION = "chatops-sla-bot"
TEMPLATE = "manifest.template.json"
ICONS = ("color.png", "outline.png")

# Where the developer links point on the bot's own host; the web server should serve them.
WEBSITE_PATH = "/"
PRIVACY_PATH = "/privacy"
TERMS_PATH = "/terms"

# The earliest time a zip can record: fixed so that the same input gives the same bytes.
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)

_GUID = re.compile(r"[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}")
_NIL_GUID = "00000000-0000-0000-0000-000000000000"
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
# Teams takes MAJOR.MINOR.PATCH only: no pre-release or PEP 440 suffixes such as .dev1.
_VERSION = re.compile(r"(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)")
_PLACEHOLDER = re.compile(r"\{\{[A-Z_]+\}\}")

Json = Any  # parsed JSON: dicts, lists, strings, numbers, booleans and None
JsonPath = tuple[str | int, ...]


class ManifestError(ValueError):
    """An input the Teams app package cannot be built from; the message says why."""


def default_version() -> str:
    """The installed package's version, the manifest's default ``version``."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        raise ManifestError(
            f"the {DISTRIBUTION} distribution is not installed, so it has no version to "
            "use: install it (pip install -e .) or pass the version explicitly"
        ) from None


def render_manifest(*, app_id: str, domain: str, version: str) -> dict[str, object]:
    """The Teams manifest for this deployment, as a JSON-ready dict.

    ``app_id`` is the bot's Microsoft App ID (a GUID; it is also used as the Teams app id),
    ``domain`` the bare public host name the bot is served from (``bot.example.com``) and
    ``version`` the app version, MAJOR.MINOR.PATCH. Raises `ManifestError` naming the
    problem if any of them is unusable.
    """
    app_id = check_app_id(app_id)
    domain = check_domain(domain)
    version = check_version(version)
    manifest = _load_template()
    fields: dict[JsonPath, Json] = {
        ("id",): app_id,
        ("version",): version,
        ("bots", 0, "botId"): app_id,
        ("validDomains",): [domain],
        ("developer", "websiteUrl"): f"https://{domain}{WEBSITE_PATH}",
        ("developer", "privacyUrl"): f"https://{domain}{PRIVACY_PATH}",
        ("developer", "termsOfUseUrl"): f"https://{domain}{TERMS_PATH}",
    }
    for path, value in fields.items():
        _set(manifest, path, value)
    _ensure_filled(manifest, ())
    return manifest


def build_app_package(
    *, app_id: str, domain: str, output: Path, version: str | None = None
) -> Path:
    """Write the Teams app package (a zip to upload to Teams) to ``output`` and return it.

    The zip holds ``manifest.json``, ``color.png`` and ``outline.png`` at its root. The same
    arguments always give byte-identical files. ``version`` defaults to the installed
    package's version. Parent directories are created; an existing file is replaced only
    once the new one is complete. Raises `ManifestError` for unusable arguments (see
    `render_manifest`) or when ``output`` is a directory.
    """
    if output.is_dir():
        raise ManifestError(
            f"output {output} is a directory: give a file path such as {output / 'manifest.zip'}"
        )
    manifest = render_manifest(
        app_id=app_id,
        domain=domain,
        version=default_version() if version is None else version,
    )
    files = {"manifest.json": _manifest_bytes(manifest)}
    files.update((name, _asset(name).read_bytes()) for name in ICONS)
    _write_replacing(output, _zip(files))
    return output


def check_app_id(app_id: str) -> str:
    """The app id, trimmed and lower-cased, if it is a usable GUID; else `ManifestError`."""
    candidate = app_id.strip().lower()
    if not _GUID.fullmatch(candidate):
        raise ManifestError(
            f"app id {app_id!r} is not a GUID (8-4-4-4-12 hexadecimal digits, no braces): "
            "use the bot's Microsoft App ID from its Azure Bot registration"
        )
    if candidate == _NIL_GUID:
        raise ManifestError(
            "app id is the all-zero GUID, which is a placeholder, not a registered bot: "
            "use the bot's Microsoft App ID from its Azure Bot registration"
        )
    return candidate


def check_domain(domain: str) -> str:
    """The domain, trimmed and lower-cased, if it is a bare public host name.

    The same host goes into ``validDomains`` and the developer URLs, so it must be one
    concrete name Teams can reach over HTTPS: no scheme, path, port, wildcard or IP address.
    """
    host = domain.strip().lower()
    problem = _url_problem(host) or _host_problem(host)
    if problem:
        raise ManifestError(f"domain {domain!r} {problem}")
    return host


def check_version(version: str) -> str:
    """The version if Teams accepts it (MAJOR.MINOR.PATCH); else `ManifestError`."""
    if not _VERSION.fullmatch(version):
        raise ManifestError(
            f"version {version!r} is not MAJOR.MINOR.PATCH (like 1.4.0), the only form "
            "Teams accepts: pass a plain three-part version"
        )
    return version


def _url_problem(host: str) -> str | None:
    """Why ``host`` looks like a URL rather than a host name, with the likely fix."""
    if not host:
        return "is empty: give the bot's public host name, e.g. bot.example.com"
    if "://" in host or any(mark in host for mark in "/?#@"):
        hint = _hostname_in(host)
        suggestion = f", e.g. {hint!r}" if hint else ""
        return f"is not a bare host name: drop the scheme, path and credentials{suggestion}"
    if ":" in host:
        return "has a port: give the host name only (Teams reaches the bot on HTTPS, 443)"
    return None


def _is_ip_address(host: str) -> bool:
    return host.rsplit(".", 1)[-1].isdigit()


def _bad_labels(host: str) -> bool:
    return len(host) > 253 or not all(_LABEL.fullmatch(label) for label in host.split("."))


# Checked in order, so each message can assume the earlier checks passed.
_HOST_RULES: tuple[tuple[Callable[[str], bool], str], ...] = (
    (
        lambda host: "*" in host,
        "has a wildcard: it also builds the developer URLs, so give one concrete host",
    ),
    (
        lambda host: not host.isascii(),
        "is not ASCII: give the punycode form (xn--...) of an internationalised name",
    ),
    (lambda host: host.endswith("."), "ends with a dot: drop the trailing dot"),
    (
        lambda host: "." not in host,
        "is not a public domain name: Teams needs a name like bot.example.com",
    ),
    (_is_ip_address, "is an IP address: Teams needs a DNS name with a TLS certificate"),
    (
        _bad_labels,
        "is not a valid host name: use letters, digits and inner hyphens, "
        "at most 63 characters per dot-separated part",
    ),
)


def _host_problem(host: str) -> str | None:
    """Why ``host`` is not a usable public DNS name, if it is not."""
    return next((message for broken, message in _HOST_RULES if broken(host)), None)


def _hostname_in(text: str) -> str | None:
    """The host name inside a URL-like string, to suggest as the fix."""
    try:
        return urlsplit(text if "://" in text else f"//{text}").hostname
    except ValueError:
        return None


def _asset(name: str) -> Traversable:
    # importlib.resources finds the files in a wheel install and an editable one alike.
    return resources.files(__name__).joinpath(name)


def _load_template() -> dict[str, Json]:
    template = json.loads(_asset(TEMPLATE).read_text(encoding="utf-8"))
    if not isinstance(template, dict):
        raise RuntimeError(f"{TEMPLATE} must hold a JSON object")
    return template


def _set(document: Json, path: JsonPath, value: Json) -> None:
    """Replace the placeholder at ``path``; fail loudly if the template has moved on."""
    *parents, last = path
    for key in parents:
        document = document[key]
    current = document[last]
    placeholders = current if isinstance(current, list) else [current]
    if not all(isinstance(p, str) and _PLACEHOLDER.search(p) for p in placeholders):
        raise RuntimeError(f"{TEMPLATE} has no placeholder at {_pointer(path)}: {current!r}")
    document[last] = value


def _ensure_filled(document: Json, path: JsonPath) -> None:
    """Fail if a ``{{...}}`` placeholder was added to the template but is not filled here."""
    if isinstance(document, dict):
        for key, value in document.items():
            _ensure_filled(value, (*path, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            _ensure_filled(value, (*path, index))
    elif isinstance(document, str) and _PLACEHOLDER.search(document):
        raise RuntimeError(f"{TEMPLATE} placeholder left unfilled at {_pointer(path)}")


def _pointer(path: JsonPath) -> str:
    return "/" + "/".join(str(part) for part in path)


def _manifest_bytes(manifest: dict[str, object]) -> bytes:
    return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _zip(files: dict[str, bytes]) -> bytes:
    """A zip of ``files`` that depends on nothing but their names and contents.

    Entries are stored, not deflated: the PNGs are compressed already and deflate output
    can differ between zlib builds, which would break byte-for-byte reproducibility.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in files.items():
            entry = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
            entry.create_system = 3  # Unix, whatever the build host, so the bytes match
            entry.external_attr = 0o100644 << 16  # a plain rw-r--r-- file
            archive.writestr(entry, data)
    return buffer.getvalue()


def _write_replacing(output: Path, data: bytes) -> None:
    """Write via a sibling temporary file so a failed build never leaves half a zip."""
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.name}.partial")
    try:
        partial.write_bytes(data)
        partial.replace(output)
    finally:
        partial.unlink(missing_ok=True)
