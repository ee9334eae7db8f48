"""`syncline netsuite check` against the sandbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from syncline.cli import app


def write_info(info: dict[str, Any], tmp_path: Path) -> Path:
    path = tmp_path / "info.json"
    path.write_text(json.dumps(info))
    return path


def test_check_reports_what_the_role_can_see(info: dict[str, Any], tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["netsuite", "check", "--info-file", str(write_info(info, tmp_path))])
    assert result.exit_code == 0, result.output
    assert "token: OK" in result.output
    assert "1 Syncline Inc., 2 Syncline UK Ltd, 3 Syncline GmbH" in result.output
    assert "currencies: USD, GBP, CAD, EUR" in result.output
    assert "items visible: 27" in result.output  # 30 catalog SKUs minus the 3 deliberate gaps


def test_check_names_an_auth_failure(info: dict[str, Any], tmp_path: Path) -> None:
    args = [
        "netsuite",
        "check",
        "--info-file",
        str(write_info(info, tmp_path)),
        "--certificate-id",
        "revoked",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert "error (auth)" in result.output and "kid" in result.output


def test_check_refuses_bad_settings_by_name(tmp_path: Path) -> None:
    args = [
        "netsuite",
        "check",
        "--account-id",
        "1",
        "--base-url",
        "http://1.example",
        "--client-id",
        "c",
        "--certificate-id",
        "k",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "base_url" in result.output and "https://" in result.output
