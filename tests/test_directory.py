"""The directory file: the shipped example, and clear problems for a broken one."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from storage.directory import Directory, Role, load_directory, parse_duration
from storage.errors import ConfigurationError


def test_the_example_describes_ccsb_with_snaz(directory: Directory) -> None:
    contract = directory.contracts["CCSB"]
    snaz = directory.service_times[contract.service_time]

    assert (contract.name, contract.version, contract.reaction_time()) == (
        "Cloud Collaboration Support Basic",
        "3.0",
        timedelta(hours=4),
    )
    assert contract.warnings == (50, 75, 90)
    assert snaz.timezone == "Europe/Vienna"
    assert sorted(snaz.windows) == ["fri", "mon", "thu", "tue", "wed"]
    assert {str(w) for spans in snaz.windows.values() for w in spans} == {"08:00-17:00"}
    assert [(d.month, d.day, d.year, d.name) for d in snaz.closed_days] == [
        (12, 24, None, "Christmas Eve"),
        (12, 31, None, "New Year's Eve"),
    ]
    assert snaz.holidays is not None and snaz.holidays.country == "AT"


def test_the_example_has_a_customer_an_engineer_and_a_manager(directory: Directory) -> None:
    assert directory.customers[0].contract == "CCSB"
    roles = {role for person in directory.staff for role in person.roles}
    assert roles == {Role.ENGINEER, Role.MANAGER}


def test_every_problem_is_reported_with_its_field_path(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text(
        """
[service_times.SNAZ]
timezone = "Europe/Wien"
windows = { mon = ["17:00-08:00"], funday = ["08:00-12:00"] }

[contracts.CCSB]
name = "CCSB"
service_time = "SNAZ"
reaction = "four hours"

[[customers]]
key = "acme"
name = "ACME"
contract = "NOPE"

[[staff]]
name = "Eve"
email = "not-an-address"
roles = ["janitor"]
""",
        encoding="utf-8",
    )
    with pytest.raises(ConfigurationError) as caught:
        load_directory(broken)
    report = "\n".join(caught.value.problems)

    assert "service_times.SNAZ.timezone" in report and "Europe/Wien" in report
    assert "service_times.SNAZ.windows" in report
    assert "contracts.CCSB.reaction" in report and "four hours" in report
    assert "staff.0.email" in report
    assert "staff.0.roles.0" in report


def test_dangling_references_name_the_field(tmp_path: Path) -> None:
    text = Path("chatops.example.toml").read_text(encoding="utf-8")
    broken = tmp_path / "dangling.toml"
    broken.write_text(text.replace('contract = "CCSB"', 'contract = "GOLD"'), encoding="utf-8")

    with pytest.raises(ConfigurationError) as caught:
        load_directory(broken)

    assert any("customers.0.contract: unknown contract 'GOLD'" in p for p in caught.value.problems)


def test_invalid_toml_and_missing_files_are_explained(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[contracts\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="not valid TOML"):
        load_directory(bad)
    with pytest.raises(ConfigurationError, match="not found"):
        load_directory(tmp_path / "absent.toml")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("4h", timedelta(hours=4)), ("90m", timedelta(minutes=90)), ("1h30m", timedelta(minutes=90))],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "4", "h", "0h", "4 days", "-1h"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)
