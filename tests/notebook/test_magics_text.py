"""The magics refuse text that is not valid Unicode at the edge (issue 11, item 9)."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from tests.support.common import SEINFELD_ID


@pytest.fixture
def ip(api_env):
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "nextcaller_ops")
    yield shell
    shell.run_line_magic("unload_ext", "nextcaller_ops")
    InteractiveShell.clear_instance()


@pytest.mark.parametrize("value", ["Jos\udce9", "\ud800"], ids=["latin-1-byte", "json-escape"])
def test_update_with_a_lone_surrogate_is_one_line_and_sends_nothing(ip, api_env, value):
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("nextcaller_update", f"{SEINFELD_ID} first_name={value}")
    message = str(info.value)
    assert "not valid Unicode text" in message and "\n" not in message
    assert api_env.httpd.request_count == 0
    assert api_env.store.corrections(SEINFELD_ID) == []


def test_any_magic_line_with_a_lone_surrogate_is_refused_before_anything_runs(ip, api_env, file_keyring):
    with pytest.raises(UsageError, match="not valid Unicode text"):
        ip.run_line_magic("nextcaller_login", "--consumer-key EG2D\udce9")  # before asking for the secret
    assert file_keyring.get_password("nextcaller-ops", "default:consumer_key") is None
