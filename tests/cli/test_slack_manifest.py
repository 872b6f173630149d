"""``nextcaller-ops slack-manifest [--http URL]``: the packaged manifest, and its HTTP-mode form."""

from __future__ import annotations

import json
import sys

import pytest
import yaml

from nextcaller_ops.cli.commands.manifest import http_manifest, packaged_manifest
from nextcaller_ops.cli.main import main
from tests.support.common import ROOT, SHARED

SCHEMA = SHARED / "reference" / "slack-app-manifest.schema.1.0.0.json"
URL = "https://bot.example.com/slack/events"


def _printed(capsys, *args: str) -> str:
    assert main(["slack-manifest", *args]) == 0
    out = capsys.readouterr()
    assert out.err == ""
    return out.out


def _urls(manifest: dict) -> list[str]:
    """Every place Slack posts to, in the manifest's order."""
    return [
        *(command.get("url") for command in manifest["features"]["slash_commands"]),
        manifest["settings"]["interactivity"].get("request_url"),
        manifest["settings"]["event_subscriptions"].get("request_url"),
    ]


def test_the_packaged_manifest_is_the_top_level_file():
    # bot/manifest.yml is a symlink the wheel turns into a copy; the installed one is checked in test_install.py
    assert (ROOT / "bot" / "manifest.yml").resolve() == (ROOT / "manifest.yml").resolve()
    assert packaged_manifest() == (ROOT / "manifest.yml").read_text(encoding="utf-8")


def test_without_options_it_prints_the_socket_mode_manifest(capsys):
    printed = _printed(capsys)
    assert printed == (ROOT / "manifest.yml").read_text(encoding="utf-8").rstrip("\n") + "\n"
    assert yaml.safe_load(printed)["settings"]["socket_mode_enabled"] is True


def test_http_sets_each_request_url_and_turns_socket_mode_off(capsys):
    original = yaml.safe_load((ROOT / "manifest.yml").read_text())
    printed = yaml.safe_load(_printed(capsys, "--http", URL))
    assert _urls(printed) == [URL] * (len(original["features"]["slash_commands"]) + 2)
    assert printed["settings"]["socket_mode_enabled"] is False
    # Nothing else changed: put the four edits back and it is the shipped manifest.
    for command in printed["features"]["slash_commands"]:
        del command["url"]
    del printed["settings"]["interactivity"]["request_url"]
    del printed["settings"]["event_subscriptions"]["request_url"]
    printed["settings"]["socket_mode_enabled"] = True
    assert printed == original


@pytest.mark.parametrize(
    "given,url",
    [
        ("https://bot.example.com", "https://bot.example.com/slack/events"),
        ("https://bot.example.com/", "https://bot.example.com/slack/events"),
        ("HTTPS://bot.example.com:8443/nc/slack/events", "https://bot.example.com:8443/nc/slack/events"),
    ],
)
def test_the_url_is_completed(given, url, capsys):
    printed = yaml.safe_load(_printed(capsys, "--http", given))
    assert set(_urls(printed)) == {url}


def test_a_url_with_yaml_characters_stays_one_string():
    url = "https://bot.example.com/slack/events?a=b: c&d='e'\"f\"&g=[h]{i}"
    printed = yaml.safe_load(http_manifest(packaged_manifest(), url))
    assert set(_urls(printed)) == {url}


@pytest.mark.parametrize(
    "given,needle",
    [
        ("http://bot.example.com/slack/events", "only to an https:// URL"),
        ("bot.example.com", "only to an https:// URL"),
        ("https:///slack/events", "only to an https:// URL"),
        ("https://bot.example.com/slack events", "is not a URL"),
        ("https://bot.example.com/slack/events#x", "no #fragment"),
        ("", "is not a URL"),
    ],
)
def test_a_url_slack_would_not_post_to_is_refused_in_one_line(given, needle, capsys):
    assert main(["slack-manifest", "--http", given]) == 2
    out = capsys.readouterr()
    assert out.out == "" and needle in out.err and len(out.err.strip().splitlines()) == 1


def test_http_needs_no_pyyaml(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "yaml", None)  # as on an install without the dev extra
    printed = _printed(capsys, "--http", URL)
    monkeypatch.undo()
    assert set(_urls(yaml.safe_load(printed))) == {URL}


def test_a_manifest_of_another_shape_is_refused_not_half_edited():
    shipped = packaged_manifest()
    with pytest.raises(RuntimeError, match="shape"):
        http_manifest(shipped.replace("socket_mode_enabled: true", "socket_mode_enabled: false"), URL)
    with pytest.raises(RuntimeError, match="already names request URLs"):
        http_manifest(http_manifest(shipped, URL), URL)


def test_the_http_manifest_is_valid_against_slacks_schema(capsys):
    if not SCHEMA.exists():
        pytest.skip("../shared is not here (a user's clone): Slack's schema is not available")
    import jsonschema

    printed = yaml.safe_load(_printed(capsys, "--http", "https://bot.example.com"))
    jsonschema.validate(printed, json.loads(SCHEMA.read_text()))
    assert _urls(printed) == [URL] * 3
