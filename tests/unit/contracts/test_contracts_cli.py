"""`syncline contracts export|check` against the committed catalog and against tampered copies."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from syncline.cli import app
from syncline.contracts import EVENT_TYPES, SCHEMAS_DIR, generate_catalog

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "events"

runner = CliRunner()


@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    """A private copy of the committed catalog, safe to tamper with."""
    target = tmp_path / "schemas"
    shutil.copytree(SCHEMAS_DIR, target)
    return target


def _edit(path: Path, change: Callable[[dict[str, Any]], Any]) -> None:
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")


def test_check_passes_on_the_committed_catalog() -> None:
    result = runner.invoke(app, ["contracts", "check", "--strict"])
    assert result.exit_code == 0, result.output
    assert "contracts OK" in result.output


def test_installed_console_script_checks_the_packaged_catalog() -> None:
    script = Path(sys.executable).parent / "syncline"
    completed = subprocess.run(
        [str(script), "contracts", "check"], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert "contracts OK" in completed.stdout


def test_check_fails_naming_each_break_on_a_tampered_copy(catalog_copy: Path) -> None:
    # The committed schema knew a field and an enum value the models no longer have: both are breaks.
    def widen(document: dict[str, Any]) -> None:
        document["properties"]["legacy_code"] = {"type": "string"}
        document["$defs"]["OrderStatus"]["enum"].append("on_backorder")

    _edit(catalog_copy / "syncline.order.booked.v1.json", widen)
    result = runner.invoke(app, ["contracts", "check", "--schemas-dir", str(catalog_copy)])
    assert result.exit_code == 1
    assert "BREAK: syncline.order.booked.v1: field_removed at legacy_code" in result.output
    assert "BREAK: syncline.order.booked.v1: enum_value_removed at status" in result.output
    assert "2 incompatible change(s)" in result.output


def test_check_fails_when_a_committed_field_was_optional_and_is_now_required(catalog_copy: Path) -> None:
    _edit(catalog_copy / "syncline.payment.applied.v1.json", lambda d: d["required"].remove("method"))
    result = runner.invoke(app, ["contracts", "check", "--schemas-dir", str(catalog_copy)])
    assert result.exit_code == 1
    assert "required_added at method" in result.output


def test_stale_but_compatible_catalog_passes_with_a_notice_or_fails_when_strict(catalog_copy: Path) -> None:
    # Committed schema lacks an optional field the model now has: a compatible addition not yet exported.
    _edit(catalog_copy / "syncline.customer.created.v1.json", lambda d: d["properties"].pop("web_domain"))
    (catalog_copy / "syncline.order.accepted.v1.json").unlink()
    result = runner.invoke(app, ["contracts", "check", "--schemas-dir", str(catalog_copy)])
    assert result.exit_code == 0, result.output
    assert "stale" in result.output
    assert "syncline.customer.created.v1.json" in result.output
    assert "syncline.order.accepted.v1.json" in result.output
    assert "syncline contracts export" in result.output
    strict = runner.invoke(app, ["contracts", "check", "--strict", "--schemas-dir", str(catalog_copy)])
    assert strict.exit_code == 3


def test_check_fails_without_a_committed_catalog(tmp_path: Path) -> None:
    result = runner.invoke(app, ["contracts", "check", "--schemas-dir", str(tmp_path / "nothing")])
    assert result.exit_code == 1
    assert "no committed catalog" in result.output


def test_check_fails_on_a_corrupt_schema_file(catalog_copy: Path) -> None:
    (catalog_copy / "syncline.invoice.posted.v1.json").write_text("{ truncated")
    result = runner.invoke(app, ["contracts", "check", "--schemas-dir", str(catalog_copy)])
    assert result.exit_code == 1
    assert "syncline.invoice.posted.v1.json is not valid JSON" in result.output


def test_export_writes_the_catalog_and_is_idempotent(tmp_path: Path) -> None:
    target = tmp_path / "out"
    first = runner.invoke(app, ["contracts", "export", "--schemas-dir", str(target)])
    assert first.exit_code == 0, first.output
    written = {p.name: p.read_bytes() for p in target.iterdir()}
    assert written == generate_catalog()
    second = runner.invoke(app, ["contracts", "export", "--schemas-dir", str(target)])
    assert second.exit_code == 0
    assert "already up to date" in second.output
    assert {p.name: p.read_bytes() for p in target.iterdir()} == written


def test_export_refreshes_stale_files_and_removes_orphans(catalog_copy: Path) -> None:
    _edit(catalog_copy / "syncline.customer.created.v1.json", lambda d: d["properties"].pop("web_domain"))
    (catalog_copy / "syncline.customer.retired.v1.json").write_text("{}\n")
    result = runner.invoke(app, ["contracts", "export", "--force", "--schemas-dir", str(catalog_copy)])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and "removed" in result.output
    assert {p.name: p.read_bytes() for p in catalog_copy.iterdir()} == generate_catalog()


def test_export_refuses_to_overwrite_a_breaking_change_unless_forced(catalog_copy: Path) -> None:
    target = catalog_copy / "syncline.order.booked.v1.json"
    _edit(target, lambda d: d["properties"].update({"legacy_code": {"type": "string"}}))
    tampered = target.read_bytes()
    refused = runner.invoke(app, ["contracts", "export", "--schemas-dir", str(catalog_copy)])
    assert refused.exit_code == 1
    assert "refusing to export" in refused.output
    assert target.read_bytes() == tampered
    forced = runner.invoke(app, ["contracts", "export", "--force", "--schemas-dir", str(catalog_copy)])
    assert forced.exit_code == 0
    assert target.read_bytes() == generate_catalog()[target.name]


def test_contracts_group_is_on_the_main_help() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "contracts" in result.output
    for command in ("export", "check"):
        sub = runner.invoke(app, ["contracts", command, "--help"])
        assert sub.exit_code == 0 and "--schemas-dir" in sub.output


def _git(repo: Path, *args: str) -> None:
    identity = ["-c", "user.name=Test", "-c", "user.email=test@example.com"]
    subprocess.run(["git", *identity, *args], cwd=repo, check=True, capture_output=True)


def test_check_against_a_git_ref_catches_a_break_exported_over_the_baseline(tmp_path: Path) -> None:
    # Baseline commit knows a field the models no longer have; the working tree was re-exported since.
    repo = tmp_path / "repo"
    schemas = repo / "schemas"
    shutil.copytree(SCHEMAS_DIR, schemas)
    _edit(schemas / "syncline.quote.approved.v1.json", lambda d: d["properties"].update({"legacy": {}}))
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "baseline")
    assert (
        runner.invoke(app, ["contracts", "export", "--force", "--schemas-dir", str(schemas)]).exit_code == 0
    )
    assert (
        runner.invoke(app, ["contracts", "check", "--strict", "--schemas-dir", str(schemas)]).exit_code == 0
    )
    result = runner.invoke(app, ["contracts", "check", "--against", "HEAD", "--schemas-dir", str(schemas)])
    assert result.exit_code == 1
    assert "BREAK: syncline.quote.approved.v1: field_removed at legacy" in result.output


def test_check_against_a_git_ref_passes_when_compatible_and_fails_on_a_bad_ref(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(SCHEMAS_DIR, repo / "schemas")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "baseline")
    ok = runner.invoke(
        app, ["contracts", "check", "--against", "HEAD", "--schemas-dir", str(repo / "schemas")]
    )
    assert ok.exit_code == 0, ok.output
    assert "compatible with HEAD" in ok.output
    bad = runner.invoke(
        app, ["contracts", "check", "--against", "no-such-ref", "--schemas-dir", str(repo / "schemas")]
    )
    assert bad.exit_code == 1
    assert "no-such-ref" in bad.output


def test_validate_accepts_the_shipped_examples() -> None:
    files = sorted(str(p) for p in EXAMPLES.glob("*.json"))
    result = runner.invoke(app, ["contracts", "validate", *files])
    assert result.exit_code == 0, result.output
    assert f"{len(files)} valid, 0 invalid" in result.output
    assert "syncline.order.booked.v1 subject=ord_c41d07" in result.output


def test_validate_names_each_problem_of_the_invalid_example() -> None:
    files = [
        str(EXAMPLES / "quote.approved.json"),
        str(EXAMPLES / "invalid" / "order.booked.float-money.json"),
    ]
    result = runner.invoke(app, ["contracts", "validate", *files])
    assert result.exit_code == 1
    assert "1 valid, 1 invalid" in result.output
    assert "data.lines.0.unit_price.amount: got a float (89.1)" in result.output
    assert "data.booked_at:" in result.output


def test_list_shows_every_catalog_type() -> None:
    result = runner.invoke(app, ["contracts", "list"])
    assert result.exit_code == 0
    rows = result.output.strip().splitlines()
    assert len(rows) == len(EVENT_TYPES)
    assert any(row.startswith("syncline.order.booked.v1") and " Order " in row for row in rows)
