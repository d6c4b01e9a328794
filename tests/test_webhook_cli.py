"""`chatops webhook add|list|remove` run as an operator would, and the receiver addresses the
bot refuses (plain http, loopback and private addresses) unless told it is a local test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook

from bot.webhooks import WebhookUrlRejected, check_url

CHATOPS = str(Path(sys.executable).parent / "chatops")


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CHATOPS, "webhook", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "CHATOPS_DATA_DIR": str(tmp_path / "var"),
    }


def test_add_prints_the_secret_last_list_never_shows_it_remove_forgets(
    env: dict[str, str],
) -> None:
    added = run(
        "add",
        "https://93.184.215.14/hooks/chatops",
        "--events",
        "ticket.created,sla.breached,ticket.created",
        "--customer",
        "demo",
        env=env,
    )
    assert added.returncode == 0, added.stderr
    secret = added.stdout.splitlines()[-1]
    assert secret.startswith("whsec_")
    Webhook(secret)  # the verifier accepts it as a key

    listed = run("list", env=env)
    assert listed.stdout.split("\t") == [
        "1",
        "active",
        "demo",
        "https://93.184.215.14/hooks/chatops",
        "sla.breached,ticket.created\n",
    ]
    assert secret not in listed.stdout

    assert run("remove", "1", env=env).returncode == 0
    assert run("list", env=env).stdout == "no webhook subscriptions\n"
    gone = run("remove", "1", env=env)
    assert (gone.returncode, gone.stderr) == (2, "chatops webhook remove: no subscription 1\n")


def test_add_refuses_what_it_cannot_deliver_and_stores_nothing(env: dict[str, str]) -> None:
    for url, events, reason in [
        ("http://psa.example.com/hook", "ticket.created", "https://"),
        ("https://127.0.0.1:8443/hook", "ticket.created", "not a public address"),
        (
            "https://psa.example.com/hook",
            "ticket.exploded",
            "unknown event type(s) ticket.exploded",
        ),
    ]:
        refused = run("add", url, "--events", events, env=env)
        assert (refused.returncode, refused.stdout) == (2, ""), url
        assert reason in refused.stderr
    assert run("list", env=env).stdout == "no webhook subscriptions\n"


@pytest.mark.parametrize(
    "url",
    [
        "http://psa.example.com/hook",
        "https://localhost/hook",  # resolves to a loopback address
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://user:pass@psa.example.com/hook",
        "ftp://psa.example.com/hook",
    ],
)
async def test_a_receiver_must_be_public_and_https(url: str) -> None:
    with pytest.raises(WebhookUrlRejected):
        await check_url(url, allow_insecure=False)


async def test_a_local_test_may_use_http_and_loopback() -> None:
    checked = await check_url("http://127.0.0.1:8080/hook", allow_insecure=True)
    assert checked.port == 8080
