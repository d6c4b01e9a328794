"""The Teams app package: what an admin uploading it, and Teams validating it, will see."""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
import zipfile
import zlib
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from manifest import (
    MANIFEST_VERSION,
    ManifestError,
    build_app_package,
    render_manifest,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
VALIDATOR = REPO_ROOT / "tests" / "node" / "validate-manifest.mjs"
APP_MANIFEST_PACKAGE = REPO_ROOT / "node_modules" / "@microsoft" / "app-manifest" / "package.json"

APP_ID = "6f1c2b7e-3d4a-4b5c-9e8f-0a1b2c3d4e5f"
DOMAIN = "sla.example.com"
VERSION = "1.2.3"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

Validator = Callable[[Path], subprocess.CompletedProcess[str]]
Change = Callable[[dict[str, Any], dict[str, bytes]], None]  # edits a manifest and its files


# --- helpers ------------------------------------------------------------------------------


def build(output: Path, **overrides: str) -> Path:
    arguments = {"app_id": APP_ID, "domain": DOMAIN, "version": VERSION, **overrides}
    return build_app_package(output=output, **arguments)


def read_zip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def manifest_of(path: Path) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads(read_zip(path)["manifest.json"])
    return manifest


def png_chunks(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    assert data[:8] == PNG_SIGNATURE, "not a PNG file"
    position = 8
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        yield data[position + 4 : position + 8], data[position + 8 : position + 8 + length]
        position += 12 + length


def png_size(data: bytes) -> tuple[int, int]:
    kind, header = next(png_chunks(data))
    assert kind == b"IHDR"
    width, height = struct.unpack(">II", header[:8])
    return width, height


def paeth(left: int, up: int, up_left: int) -> int:
    estimate = left + up - up_left
    distances = [abs(estimate - left), abs(estimate - up), abs(estimate - up_left)]
    return [left, up, up_left][distances.index(min(distances))]


def unfilter(kind: int, line: bytes, previous: bytes, channels: int) -> bytes:
    """Undo one PNG scanline filter (RFC 2083, section 6)."""
    out = bytearray(len(line))
    for i, value in enumerate(line):
        left = out[i - channels] if i >= channels else 0
        up = previous[i]
        up_left = previous[i - channels] if i >= channels else 0
        predictor = [0, left, up, (left + up) // 2, paeth(left, up, up_left)][kind]
        out[i] = (value + predictor) & 0xFF
    return bytes(out)


def png_pixels(data: bytes) -> list[tuple[int, ...]]:
    """Every pixel of an 8-bit, non-interlaced RGB or RGBA PNG, as RGBA tuples."""
    chunks = list(png_chunks(data))
    width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, interlace) == (8, 0), "only 8-bit, non-interlaced PNGs are decoded here"
    assert colour_type in (2, 6), "only RGB and RGBA PNGs are decoded here"
    channels = 3 if colour_type == 2 else 4
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = width * channels
    pixels: list[tuple[int, ...]] = []
    previous = bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        previous = unfilter(raw[start], raw[start + 1 : start + 1 + stride], previous, channels)
        for x in range(0, stride, channels):
            pixel = tuple(previous[x : x + channels])
            pixels.append(pixel if channels == 4 else (*pixel, 255))
    return pixels


def rezip(source: Path, target: Path, change: Change) -> Path:
    """A copy of a package with ``change`` applied to its manifest and files, deflated.

    Deflating (the package itself is stored) also exercises the validator's inflate path.
    """
    files = read_zip(source)
    manifest: dict[str, Any] = json.loads(files["manifest.json"])
    change(manifest, files)
    files["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return target


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture
def package(tmp_path: Path) -> Path:
    return build(tmp_path / "manifest.zip")


@pytest.fixture
def validator() -> Validator:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH, so the Teams schema validator cannot run")
    if not APP_MANIFEST_PACKAGE.exists():
        pytest.skip("node_modules/@microsoft/app-manifest is missing: run `npm ci`")

    def run(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [node, str(VALIDATOR), str(path)],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    return run


# --- the package's contents ---------------------------------------------------------------


def test_package_holds_manifest_and_icons_at_its_root(package: Path) -> None:
    assert sorted(read_zip(package)) == ["color.png", "manifest.json", "outline.png"]


def test_manifest_names_the_bot_and_the_app_by_the_app_id(package: Path) -> None:
    manifest = manifest_of(package)

    assert manifest["id"] == APP_ID
    assert [bot["botId"] for bot in manifest["bots"]] == [APP_ID]
    assert manifest["version"] == VERSION
    assert manifest["manifestVersion"] == MANIFEST_VERSION
    assert f"/v{MANIFEST_VERSION}/" in manifest["$schema"]
    assert manifest["name"]["short"] == "SLA Desk"


def test_bot_converses_and_takes_files_in_every_scope(package: Path) -> None:
    (bot,) = manifest_of(package)["bots"]

    assert set(bot["scopes"]) == {"personal", "team", "groupChat"}
    assert bot["supportsFiles"] is True
    assert bot["isNotificationOnly"] is False


def test_every_scope_lists_its_commands_within_teams_limits(package: Path) -> None:
    (bot,) = manifest_of(package)["bots"]
    lists = {scope: entry["commands"] for entry in bot["commandLists"] for scope in entry["scopes"]}

    assert sorted(lists) == sorted(bot["scopes"])
    for scope, commands in lists.items():
        titles = [command["title"] for command in commands]
        assert "help" in titles, scope
        assert len(titles) == len(set(titles)) <= 10, scope  # Teams shows at most 10
        for command in commands:
            # The schema allows more, but Teams' documented limits are 32 and 128 characters.
            assert 0 < len(command["title"]) <= 32, command
            assert 0 < len(command["description"]) <= 128, command


def test_domain_is_valid_and_hosts_the_developer_pages(package: Path) -> None:
    manifest = manifest_of(package)

    assert manifest["validDomains"] == [DOMAIN]
    developer = manifest["developer"]
    for key in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
        assert developer[key].startswith(f"https://{DOMAIN}/"), key


def test_inputs_are_normalised(tmp_path: Path) -> None:
    path = build(tmp_path / "p.zip", app_id=f" {APP_ID.upper()} ", domain="SLA.Example.COM")
    manifest = manifest_of(path)

    assert manifest["id"] == APP_ID
    assert manifest["validDomains"] == [DOMAIN]


def test_version_defaults_to_the_installed_package(tmp_path: Path) -> None:
    path = build_app_package(app_id=APP_ID, domain=DOMAIN, output=tmp_path / "p.zip")

    assert manifest_of(path)["version"] == metadata.version("chatops-sla-bot")


def test_render_manifest_matches_the_packaged_manifest(package: Path) -> None:
    rendered = render_manifest(app_id=APP_ID, domain=DOMAIN, version=VERSION)

    assert rendered == manifest_of(package)


# --- icons --------------------------------------------------------------------------------


def test_icons_have_the_sizes_teams_requires(package: Path) -> None:
    files = read_zip(package)

    assert png_size(files["color.png"]) == (192, 192)
    assert png_size(files["outline.png"]) == (32, 32)


def test_color_icon_is_opaque_on_the_accent_colour(package: Path) -> None:
    pixels = png_pixels(read_zip(package)["color.png"])
    accent = manifest_of(package)["accentColor"]

    assert all(alpha == 255 for *_, alpha in pixels)
    red, green, blue, _ = pixels[0]  # the corner is background
    assert f"#{red:02X}{green:02X}{blue:02X}" == accent.upper()
    assert len(set(pixels)) > 2, "the icon should show a glyph, not a flat colour"


def test_outline_icon_is_white_on_transparent(package: Path) -> None:
    pixels = png_pixels(read_zip(package)["outline.png"])

    offenders = [p for p in pixels if p[3] != 0 and p[:3] != (255, 255, 255)]
    assert offenders == []
    assert any(p[3] == 0 for p in pixels), "the background must be transparent"
    assert sum(p[3] == 255 for p in pixels) > 50, "the glyph must be visible"


# --- determinism and output handling ------------------------------------------------------


def test_same_input_gives_the_same_bytes(tmp_path: Path) -> None:
    first = build(tmp_path / "a" / "manifest.zip").read_bytes()
    second = build(tmp_path / "b" / "manifest.zip").read_bytes()

    assert first == second
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {entry.date_time for entry in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_rebuild_replaces_the_previous_package(tmp_path: Path) -> None:
    output = tmp_path / "manifest.zip"
    build(output, version="1.0.0")
    build(output, version="1.0.1")

    assert manifest_of(output)["version"] == "1.0.1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.zip"]


def test_output_that_is_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="is a directory"):
        build(tmp_path)


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("app_id", "reason"),
    [
        ("", "not a GUID"),
        ("my-bot", "not a GUID"),
        (APP_ID.replace("-", ""), "not a GUID"),
        (f"{{{APP_ID}}}", "not a GUID"),
        (APP_ID[:-1] + "g", "not a GUID"),
        ("00000000-0000-0000-0000-000000000000", "placeholder"),
    ],
)
def test_bad_app_id_is_refused_with_the_reason(tmp_path: Path, app_id: str, reason: str) -> None:
    with pytest.raises(ManifestError, match=reason):
        build(tmp_path / "manifest.zip", app_id=app_id)
    assert not (tmp_path / "manifest.zip").exists()


@pytest.mark.parametrize(
    ("domain", "reason"),
    [
        ("", "is empty"),
        (f"https://{DOMAIN}", f"not a bare host name.*'{DOMAIN}'"),
        (f"{DOMAIN}/api/messages", f"not a bare host name.*'{DOMAIN}'"),
        (f"{DOMAIN}:3978", "has a port"),
        ("*.example.com", "wildcard"),
        ("localhost", "not a public domain name"),
        ("10.0.0.7", "IP address"),
        (f"{DOMAIN}.", "trailing dot"),
        ("sla_desk.example.com", "not a valid host name"),
        ("-sla.example.com", "not a valid host name"),
        ("bücher.example", "punycode"),
        ("sla desk.example.com", "not a valid host name"),
    ],
)
def test_bad_domain_is_refused_with_the_reason(domain: str, reason: str) -> None:
    with pytest.raises(ManifestError, match=reason):
        render_manifest(app_id=APP_ID, domain=domain, version=VERSION)


@pytest.mark.parametrize("version", ["1.2", "0.1.0.dev1", "1.0.0-beta", "01.2.3", ""])
def test_version_teams_rejects_is_refused(version: str) -> None:
    with pytest.raises(ManifestError, match=r"not MAJOR\.MINOR\.PATCH"):
        render_manifest(app_id=APP_ID, domain=DOMAIN, version=version)


def test_manifest_error_is_a_value_error() -> None:
    assert issubclass(ManifestError, ValueError)


# --- the Teams schema (node, offline) -----------------------------------------------------


def test_package_passes_the_teams_schema(package: Path, validator: Validator) -> None:
    result = validator(package)

    assert result.returncode == 0, result.stderr
    assert f"valid Teams manifest v{MANIFEST_VERSION}" in result.stdout


def test_extracted_manifest_passes_the_teams_schema(
    package: Path, validator: Validator, tmp_path: Path
) -> None:
    extracted = tmp_path / "extracted"
    with zipfile.ZipFile(package) as archive:
        archive.extractall(extracted)

    result = validator(extracted / "manifest.json")

    assert result.returncode == 0, result.stderr


def _bad_bot_id(manifest: dict[str, Any], files: dict[str, bytes]) -> None:
    manifest["bots"][0]["botId"] = "my-bot"


def _no_developer(manifest: dict[str, Any], files: dict[str, bytes]) -> None:
    del manifest["developer"]


def _long_short_name(manifest: dict[str, Any], files: dict[str, bytes]) -> None:
    manifest["name"]["short"] = "SLA Desk for cloud telephony support"


def _unknown_field(manifest: dict[str, Any], files: dict[str, bytes]) -> None:
    manifest["bots"][0]["supportsFaxes"] = True


def _small_color_icon(manifest: dict[str, Any], files: dict[str, bytes]) -> None:
    files["color.png"] = files["outline.png"]


def _missing_outline_icon(manifest: dict[str, Any], files: dict[str, bytes]) -> None:
    del files["outline.png"]


def _unbundled_schema(manifest: dict[str, Any], files: dict[str, bytes]) -> None:
    # v1.18 was never bundled: the validator must fail rather than download it.
    manifest["$schema"] = manifest["$schema"].replace(f"v{MANIFEST_VERSION}", "v1.18")
    manifest["manifestVersion"] = "1.18"


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (_bad_bot_id, "/bots/0/botId must match pattern"),
        (_no_developer, "must have required property 'developer'"),
        (_long_short_name, "/name/short must NOT have more than 30 characters"),
        (_unknown_field, "must NOT have additional properties"),
        (_small_color_icon, "/icons/color: color.png is 32x32, Teams needs 192x192"),
        (_missing_outline_icon, "/icons/outline: outline.png is not in the package"),
        (_unbundled_schema, "network access is disabled"),
    ],
)
def test_validator_rejects_a_broken_package(
    package: Path,
    validator: Validator,
    tmp_path: Path,
    change: Change,
    complaint: str,
) -> None:
    broken = rezip(package, tmp_path / "broken.zip", change)

    result = validator(broken)

    assert result.returncode == 1, result.stdout
    assert complaint in result.stderr


def test_every_suggested_command_is_one_the_bot_understands() -> None:
    from dialogs.catalog import default_commands

    known = {word for c in default_commands() for word in (c.name, *c.aliases)}
    template = json.loads((REPO_ROOT / "manifest" / "manifest.template.json").read_text("utf-8"))
    suggested = {
        command["title"]
        for command_list in template["bots"][0]["commandLists"]
        for command in command_list["commands"]
    }
    assert suggested <= known
