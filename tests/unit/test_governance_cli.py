"""`syncline governance check/show` through the real typer app."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from syncline.cli import app

runner = CliRunner()


def test_check_accepts_the_shipped_rules() -> None:
    result = runner.invoke(app, ["governance", "check"])
    assert result.exit_code == 0, result.output
    assert "every field has one owner" in result.output


def test_check_names_the_broken_key(tmp_path: Path) -> None:
    path = tmp_path / "own.yaml"
    path.write_text(
        "version: 1\nsystems: [salesforce, erp]\nentities:\n  customer:\n    fields:\n"
        "      legal_name: {owner: sap, sync: read_only}\n"
    )
    result = runner.invoke(app, ["governance", "check", str(path)])
    assert result.exit_code == 1
    assert "entities.customer.fields.legal_name.owner: unknown system ['sap']" in result.output


def test_show_prints_who_owns_what() -> None:
    result = runner.invoke(app, ["governance", "show"])
    assert result.exit_code == 0, result.output
    line = next(row for row in result.output.splitlines() if "credit_limit" in row)
    assert "erp" in line and "create_request_with_approval" in line
