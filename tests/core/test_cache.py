"""The persistent lookup cache."""

from __future__ import annotations

import os
import stat


def test_persistent_cache_is_private_shared_and_clearable(api_env, tmp_path, capsys):
    from nextcaller_ops.cli.main import main

    path = tmp_path / "cache" / "lookups.sqlite3"
    os.environ["NEXTCALLER_CACHE_PATH"] = str(path)
    try:
        assert main(["lookup", "2125558383"]) == 0
        assert main(["lookup", "2125558383"]) == 0  # a second CLI run: served from the file
        assert api_env.httpd.request_count == 1
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert main(["cache", "clear"]) == 0
        assert "Cleared 1" in capsys.readouterr().out
        assert main(["lookup", "2125558383"]) == 0
        assert api_env.httpd.request_count == 2
    finally:
        del os.environ["NEXTCALLER_CACHE_PATH"]
