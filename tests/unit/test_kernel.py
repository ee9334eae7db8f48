"""The cross-cutting kernel: error tree, settings sources and secret handling, structured logs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from syncline import errors
from syncline.logs import configure_logging, correlation, get_logger
from syncline.settings import Settings, load_settings


def test_every_error_class_descends_from_the_root_and_carries_its_class() -> None:
    expected = {
        errors.TransientError: (errors.ErrorClass.TRANSIENT, True),
        errors.RateLimitedError: (errors.ErrorClass.RATE_LIMITED, True),
        errors.AuthError: (errors.ErrorClass.AUTH, False),
        errors.ContractViolation: (errors.ErrorClass.CONTRACT, False),
        errors.ConflictError: (errors.ErrorClass.CONFLICT, False),
    }
    for cls, (error_class, retryable) in expected.items():
        err = cls("boom", system="stripe")
        assert isinstance(err, errors.SynclineError)
        assert (err.error_class, err.retryable) == (error_class, retryable)
    rejection = errors.BusinessRejection("credit hold", reason_code="credit_hold", system="netsuite")
    assert rejection.error_class is errors.ErrorClass.BUSINESS
    assert str(rejection) == "[netsuite] credit_hold: credit hold"


def test_rate_limited_error_keeps_retry_after() -> None:
    assert errors.RateLimitedError("slow down", retry_after=2.5).retry_after == 2.5


def test_error_tree_is_drawn_in_the_module_docstring() -> None:
    doc = errors.__doc__ or ""
    for name in errors.__all__:
        if name != "ErrorClass":
            assert name in doc, f"{name} missing from the drawn tree"


def test_default_settings_are_embedded_mode(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.database.url == "sqlite:///.syncline/syncline.db"
    assert settings.bus.kind == "inprocess"


def test_yaml_file_then_environment_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "syncline.yaml"
    url = "postgresql+psycopg://postgres@127.0.0.1/test"
    config.write_text(f"database:\n  url: {url}\nlog:\n  level: DEBUG\n")
    monkeypatch.setenv("SYNCLINE_CONFIG", str(config))
    monkeypatch.setenv("SYNCLINE_LOG__LEVEL", "WARNING")
    settings = load_settings()
    assert settings.database.url.startswith("postgresql+psycopg://")
    assert settings.log.level == "WARNING"


def test_unknown_key_is_rejected_by_name(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "syncline.yaml"
    config.write_text("databse:\n  url: sqlite:///x.db\n")
    monkeypatch.setenv("SYNCLINE_CONFIG", str(config))
    with pytest.raises(ValidationError, match="databse"):
        load_settings()


def test_secrets_never_print() -> None:
    settings = Settings(api={"bootstrap_admin_token": "s3cr3t-token"})
    assert isinstance(settings.api.bootstrap_admin_token, SecretStr)
    assert "s3cr3t-token" not in repr(settings)
    assert "s3cr3t-token" not in settings.model_dump_json()


def test_logs_are_json_with_correlation_id_and_masked_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(json_output=True)
    with correlation("corr-123", transaction_id="tx-9"):
        get_logger("test").info("step.done", api_key="sk_live_abc", step="erp.create_order")
    get_logger("test").info("outside")
    lines = [json.loads(line) for line in capsys.readouterr().err.strip().splitlines()]
    assert lines[0]["correlation_id"] == "corr-123"
    assert lines[0]["transaction_id"] == "tx-9"
    assert lines[0]["api_key"] == "***"
    assert "correlation_id" not in lines[1]
