from __future__ import annotations

import logging
import os
import stat
import time

import keyring
import keyring.backend
import pytest

from nextcaller_ops import credentials as cr
from nextcaller_ops.config import load_settings, save_profile_settings
from nextcaller_ops.errors import CredentialsError, KeyringUnavailableError, UsageError


def test_store_load_delete_in_a_file_keyring(file_keyring):
    cr.store_credentials("work", "KEY-ABCDEFGH1234", "s3cret-value-123")
    creds = cr.load_credentials("work", env={})
    assert (creds.consumer_key, creds.consumer_secret, creds.source) == (
        "KEY-ABCDEFGH1234",
        "s3cret-value-123",
        "keyring",
    )
    assert keyring.get_password("nextcaller-ops", "work:consumer_secret") == "s3cret-value-123"
    assert cr.delete_credentials("work") is True
    with pytest.raises(CredentialsError):
        cr.load_credentials("work", env={})
    assert cr.delete_credentials("work") is False


def test_profiles_are_separate(file_keyring):
    cr.store_credentials("a", "KEYAAAAAAAAAA", "secret-aaaaaaa")
    cr.store_credentials("b", "KEYBBBBBBBBBB", "secret-bbbbbbb")
    assert cr.load_credentials("a", env={}).consumer_key == "KEYAAAAAAAAAA"
    assert cr.load_credentials("b", env={}).consumer_key == "KEYBBBBBBBBBB"


def test_env_overrides_keyring(file_keyring):
    cr.store_credentials("default", "KEYFROMRING00", "secret-ring-000")
    creds = cr.load_credentials(
        "default", env={"NEXTCALLER_CONSUMER_KEY": "ENVKEY", "NEXTCALLER_CONSUMER_SECRET": "envsecret"}
    )
    assert (creds.consumer_key, creds.source) == ("ENVKEY", "env")


def test_half_set_env_is_a_clear_error(file_keyring):
    with pytest.raises(CredentialsError) as info:
        cr.load_credentials("default", env={"NEXTCALLER_CONSUMER_KEY": "ENVKEY"})
    assert "NEXTCALLER_CONSUMER_SECRET" in str(info.value)


class _BrokenKeyring(keyring.backend.KeyringBackend):
    priority = 1

    def get_password(self, service, username):
        raise RuntimeError("dbus exploded with secret-value-in-message")

    def set_password(self, service, username, password):
        raise RuntimeError("dbus exploded")

    def delete_password(self, service, username):
        raise RuntimeError("dbus exploded")


class _HangingKeyring(_BrokenKeyring):
    def get_password(self, service, username):
        time.sleep(3)


def test_broken_keyring_is_one_sentence():
    previous = keyring.get_keyring()
    keyring.set_keyring(_BrokenKeyring())
    try:
        with pytest.raises(KeyringUnavailableError) as info:
            cr.load_credentials("default", env={})
    finally:
        keyring.set_keyring(previous)
    text = str(info.value)
    assert "keyring failed" in text and "NEXTCALLER_CONSUMER_KEY" in text
    assert "secret-value-in-message" not in text
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_no_keyring_backend_is_one_sentence():
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        with pytest.raises(KeyringUnavailableError) as info:
            cr.load_credentials("default", env={})
    finally:
        keyring.set_keyring(previous)
    assert "no OS keyring" in str(info.value)


def test_hanging_keyring_does_not_hang(monkeypatch):
    monkeypatch.setattr(cr, "KEYRING_TIMEOUT", 0.3)
    previous = keyring.get_keyring()
    keyring.set_keyring(_HangingKeyring())
    try:
        with pytest.raises(KeyringUnavailableError) as info:
            cr.get_secret("default", "consumer_key")
    finally:
        keyring.set_keyring(previous)
    assert "did not answer" in str(info.value)


def test_credentials_repr_and_logs_hide_the_secret(caplog):
    from nextcaller_ops.redact import RedactingFilter

    creds = cr.Credentials("EG2D22B98D2232253SE3", "very-secret-value-42")
    assert "very-secret-value-42" not in repr(creds) and "EG2D…3SE3" in repr(creds)
    logger = logging.getLogger("test.redact")
    logger.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO):
        logger.info("oops %s", creds.consumer_secret)
    assert "very-secret-value-42" not in caplog.text and "[redacted]" in caplog.text


# -- config --------------------------------------------------------------------------


def test_settings_precedence(isolated_env, monkeypatch):
    save_profile_settings("staging", base_url="https://staging.example:9000", timeout=3)
    assert load_settings("staging").base_url == "https://staging.example:9000"
    assert load_settings("staging").timeout == 3.0
    monkeypatch.setenv("NEXTCALLER_BASE_URL", "https://env.example/")
    assert load_settings("staging").base_url == "https://env.example"
    assert load_settings("staging", base_url="https://arg.example").base_url == "https://arg.example"
    assert load_settings("other").timeout == 10.0


def test_config_file_is_private_and_has_no_secret(isolated_env, file_keyring):
    path = save_profile_settings("default", base_url="https://x.example")
    cr.store_credentials("default", "KEYCFGCFGCFG", "secret-not-in-config")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert "secret-not-in-config" not in path.read_text()


def test_broken_config_is_a_usage_error(isolated_env):
    from nextcaller_ops.config import config_path

    config_path().parent.mkdir(parents=True)
    config_path().write_text("profile = [unclosed")
    with pytest.raises(UsageError) as info:
        load_settings()
    assert "config.toml" in str(info.value)


def test_bad_base_url_is_refused(monkeypatch):
    monkeypatch.setenv("NEXTCALLER_BASE_URL", "ftp://nope")
    with pytest.raises(UsageError):
        load_settings()
