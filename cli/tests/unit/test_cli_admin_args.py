"""The CLI's endpoint/key resolution and table output (no server needed)."""

from __future__ import annotations

import io
from pathlib import Path

from tollgate_cli.client import ApiError, resolve_api_key, resolve_base_url
from tollgate_cli.output import show


def test_base_url_from_flag_env_or_default() -> None:
    assert resolve_base_url(None, {}) == "http://127.0.0.1:8080"
    assert resolve_base_url(None, {"TOLLGATE_BASE_URL": "http://gw:9000/v1/"}) == "http://gw:9000"
    assert resolve_base_url("https://x.example", {"TOLLGATE_BASE_URL": "http://gw"}) == (
        "https://x.example"
    )


def test_api_key_from_flag_env_or_the_local_bootstrap_file(tmp_path: Path) -> None:
    assert resolve_api_key("tg_flag", {"TOLLGATE_API_KEY": "tg_env"}) == "tg_flag"
    assert resolve_api_key(None, {"TOLLGATE_API_KEY": "tg_env"}) == "tg_env"
    (tmp_path / "bootstrap-key").write_text("tg_file\n")
    assert resolve_api_key(None, {"TOLLGATE_DATA_DIR": str(tmp_path)}) == "tg_file"
    assert resolve_api_key(None, {"TOLLGATE_DATA_DIR": str(tmp_path / "none")}) is None


def test_table_output() -> None:
    out = io.StringIO()
    rows = [{"id": "prj_1", "name": "web", "createdAt": None}, {"id": "prj_22", "name": "api"}]
    show(rows, ("id", "name", "createdAt"), "table", out)
    assert out.getvalue().splitlines() == [
        "ID      NAME  CREATEDAT",
        "prj_1   web   -",
        "prj_22  api   -",
    ]


def test_errors_read_like_the_envelope() -> None:
    error = ApiError(400, "`slug` is bad", "invalid_request_error", "", "slug")
    assert str(error) == "HTTP 400: `slug` is bad (type: invalid_request_error, param: slug)"
