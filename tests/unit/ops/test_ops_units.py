"""Pure parts of ops: masking by role, the ops configuration file, percentiles, SVG charts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from syncline.errors import ConfigurationError
from syncline.ledger import TokenRole
from syncline.ops import OpsSettings, load_ops_settings, mask_for_role
from syncline.ops.auth import Principal, hash_token, new_token, token_id_of
from syncline.ops.console import charts
from syncline.ops.readmodel.stats import bucket_index, percentile

DOCUMENT = {
    "email": "maria.schmidt@example.com",
    "phone": "+49 30 1234567",
    "tax_registrations": [{"scheme": "vat", "vat_number": "DE811569869"}],
    "card_number": "4242 4242 4242 4242",
    "note": "card 4000056655665556 failed, ask maria@example.com; IBAN DE89370400440532013000",
    "total": {"amount": "6469.38", "currency": "EUR"},
}


def test_viewers_see_personal_data_masked_and_nobody_sees_payment_data() -> None:
    viewer = mask_for_role(DOCUMENT, TokenRole.VIEWER)
    operator = mask_for_role(DOCUMENT, TokenRole.OPERATOR)

    assert viewer["email"] == "m***@example.com"
    assert viewer["phone"].endswith("4567") and "1234567" not in viewer["phone"]
    assert viewer["tax_registrations"][0]["vat_number"].endswith("9869")
    assert "DE811569869" not in str(viewer["tax_registrations"]) and "DE811569869" not in str(operator)
    assert "maria@example.com" not in viewer["note"] and "m***@example.com" in viewer["note"]
    assert operator["email"] == DOCUMENT["email"] and operator["phone"] == DOCUMENT["phone"]
    assert "maria@example.com" in operator["note"]
    admin = mask_for_role(DOCUMENT, TokenRole.ADMIN)
    assert admin["tax_registrations"] == DOCUMENT["tax_registrations"]
    for masked in (viewer, operator, admin):
        assert masked["card_number"].endswith("4242") and "4242 4242" not in masked["card_number"]
        assert "4000056655665556" not in masked["note"] and "5556" in masked["note"]
        assert "DE89370400440532013000" not in masked["note"]
        assert masked["total"] == DOCUMENT["total"]


def test_roles_are_ordered() -> None:
    operator = Principal("ana", TokenRole.OPERATOR, "t1")
    assert operator.can(TokenRole.VIEWER) and operator.can(TokenRole.OPERATOR)
    assert not operator.can(TokenRole.ADMIN)


def test_tokens_carry_their_id_and_are_stored_as_sha256() -> None:
    token_id, token = new_token()
    assert token_id_of(token) == token_id and len(token) > 50
    assert hash_token(token) != hash_token(token + "x") and len(hash_token(token)) == 64
    assert token_id_of("any-bootstrap-secret") == "bootstrap"


def test_ops_configuration_is_read_from_its_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "ops.yaml"
    path.write_text(
        "alert_webhook_url: http://alerts.local/hook\n"
        "slas:\n"
        "  - {name: order_booking_p95, flow: order_booking, threshold: PT15M}\n"
        "  - {name: invoice_sync, flow: invoice_status, objective: max_duration, threshold: 3600}\n"
    )
    settings = load_ops_settings(path)
    assert settings.alert_webhook_url == "http://alerts.local/hook"
    assert [(s.name, s.threshold) for s in settings.slas] == [
        ("order_booking_p95", timedelta(minutes=15)),
        ("invoice_sync", timedelta(hours=1)),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("slas: [{name: Bad Name, flow: f, threshold: 60}]", "lower_snake_case"),
        ("slas: [{name: a_b, flow: f, threshold: -5}]", "positive duration"),
        ("slas: [{name: a_b, flow: f, threshold: 5}, {name: a_b, flow: g, threshold: 5}]", "repeated: a_b"),
        ("surprise: 1", "surprise"),
        ("- just a list", "must be a mapping"),
        ("slas: [", "not valid YAML"),
    ],
)
def test_bad_ops_configuration_is_refused_naming_the_problem(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "ops.yaml"
    path.write_text(content)
    with pytest.raises(ConfigurationError, match=message):
        load_ops_settings(path)


def test_missing_file_is_an_error_but_no_file_at_all_means_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_ops_settings(tmp_path / "absent.yaml")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SYNCLINE_OPS_CONFIG", raising=False)
    assert load_ops_settings() == OpsSettings()


def test_percentiles_are_nearest_rank_and_buckets_cover_the_window() -> None:
    assert percentile([], 0.95) is None
    assert percentile([5.0], 0.5) == 5.0
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.95)) == (50.0, 95.0)
    from datetime import UTC, datetime

    start = datetime(2026, 1, 1, tzinfo=UTC)
    end = start + timedelta(hours=12)
    assert bucket_index(start, start, end, 12) == 0
    assert bucket_index(end, start, end, 12) == 11
    assert bucket_index(start + timedelta(hours=5, minutes=59), start, end, 12) == 5
    assert bucket_index(start - timedelta(seconds=1), start, end, 12) is None


def test_charts_draw_one_mark_per_datum_and_say_when_empty() -> None:
    bars = charts.bar_chart("x", [("order", 3.0), ("invoice", 1.0), ("zero", 0.0)])
    assert bars.count('class="mark"') == 2 and 'data-chart="x"' in bars
    stacked = charts.stacked_bars(
        "s", {"order": {"completed": 9, "exception": 1}, "invoice": {"completed": 3}}
    )
    assert stacked.count('class="mark"') == 3
    line = charts.line_chart("l", ["a", "b", "c"], [("p50", [1.0, None, 2.0]), ("p95", [None, None, None])])
    assert line.count('class="mark"') == 2
    columns = charts.column_chart("c", ["a", "b"], [0, 4])
    assert columns.count('class="mark"') == 1
    assert "no data yet" in charts.bar_chart("e", []) and 'class="mark"' not in charts.line_chart(
        "e", ["a"], []
    )
    assert "&lt;script&gt;" in charts.bar_chart("x", [("<script>", 1.0)])
