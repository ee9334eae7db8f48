"""`syncline netsuite`: check a NetSuite connection (integration record, certificate, role) end to end."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from syncline.connectors.netsuite import NetSuiteClient, NetSuiteConfig
from syncline.errors import SynclineError

app = typer.Typer(help="Work with the NetSuite connection.", no_args_is_help=True)


def _config(info_file: Path | None, overrides: dict[str, Any]) -> NetSuiteConfig:
    given = {k: v for k, v in overrides.items() if v is not None}
    if info_file is not None:
        return NetSuiteConfig.from_sandbox_info(json.loads(info_file.read_text()), **given)
    return NetSuiteConfig(**given)


async def _probe(config: NetSuiteConfig) -> list[str]:
    """What a working setup can do: get a token, run SuiteQL, read reference data and customers."""
    lines = []
    async with NetSuiteClient(config) as client:
        await client.tokens.token()
        lines.append(f"token: OK (client credentials, certificate {config.certificate_id[:6]}...)")
        subsidiaries = await client.suiteql_all("SELECT id, name FROM subsidiary ORDER BY id")
        lines.append("subsidiaries: " + ", ".join(f"{r['id']} {r['name']}" for r in subsidiaries))
        currencies = await client.suiteql_all("SELECT id, symbol FROM currency ORDER BY id")
        lines.append("currencies: " + ", ".join(r["symbol"] for r in currencies))
        items = await client.suiteql_page("SELECT id FROM item", limit=1)
        lines.append(f"items visible: {items.total_results}")
        customers = await client.suiteql_page("SELECT id, custentity_approval_status FROM customer", limit=1)
        lines.append(f"customers visible: {customers.total_results}")
    return lines


@app.command("check")
def check(
    info_file: Annotated[
        Path | None, typer.Option(help="sandbox info file (syncline sandbox up) instead of the options below")
    ] = None,
    account_id: Annotated[str | None, typer.Option(help="account id, e.g. 1234567_SB1")] = None,
    base_url: Annotated[str | None, typer.Option(help="https://<account>.suitetalk.api.netsuite.com")] = None,
    client_id: Annotated[str | None, typer.Option(help="consumer key of the integration record")] = None,
    certificate_id: Annotated[str | None, typer.Option(help="certificate id of the M2M mapping")] = None,
    private_key_path: Annotated[Path | None, typer.Option(help="PEM private key of the certificate")] = None,
    algorithm: Annotated[str | None, typer.Option(help="PS256 for RSA keys, ES256 for EC P-256")] = None,
    ca_cert: Annotated[Path | None, typer.Option(help="CA bundle to verify TLS (default: system)")] = None,
) -> None:
    """Get a token and run read-only queries, printing what the integration role can see."""
    overrides = {
        "account_id": account_id,
        "base_url": base_url,
        "client_id": client_id,
        "certificate_id": certificate_id,
        "private_key_path": private_key_path,
        "algorithm": algorithm,
        "ca_cert": ca_cert,
    }
    try:
        config = _config(info_file, overrides)
        for line in asyncio.run(_probe(config)):
            typer.echo(line)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        typer.echo(f"error: bad NetSuite settings: {problems}", err=True)
        raise typer.Exit(code=2) from exc
    except SynclineError as exc:
        typer.echo(f"error ({exc.error_class}): {exc}", err=True)
        raise typer.Exit(code=1) from exc
