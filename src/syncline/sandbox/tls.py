"""One local certificate authority for every sandbox, so clients keep TLS verification on.

Real Salesforce, NetSuite and Stripe are HTTPS-only and their clients verify certificates. The
sandboxes therefore serve HTTPS with a server certificate signed by a CA generated once per state
directory; connectors and tests trust that CA file instead of ever disabling verification.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_HOSTS = ("127.0.0.1", "localhost", "::1")
_VALIDITY = dt.timedelta(days=825)


@dataclass(frozen=True)
class SandboxTLS:
    """Paths of the CA and the server certificate every sandbox serves."""

    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path


def ensure_sandbox_tls(directory: Path, hosts: Sequence[str] = DEFAULT_HOSTS) -> SandboxTLS:
    """Create the CA and server certificate once; later calls reuse them so trust stays stable."""
    directory.mkdir(parents=True, exist_ok=True)
    tls = SandboxTLS(
        ca_cert=directory / "sandbox-ca.pem",
        ca_key=directory / "sandbox-ca.key",
        server_cert=directory / "sandbox-server.pem",
        server_key=directory / "sandbox-server.key",
    )
    if not (tls.ca_cert.exists() and tls.ca_key.exists()):
        _write_ca(tls)
    if not (tls.server_cert.exists() and _covers_hosts(tls.server_cert, hosts)):
        _write_server_cert(tls, hosts)
    return tls


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.write_bytes(pem)
    path.chmod(0o600)


def _write_ca(tls: SandboxTLS) -> None:
    key = _new_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Syncline Sandbox Local CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_key(tls.ca_key, key)
    tls.ca_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _san_entries(hosts: Sequence[str]) -> list[x509.GeneralName]:
    entries: list[x509.GeneralName] = []
    for host in hosts:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            entries.append(x509.DNSName(host))
    return entries


def _write_server_cert(tls: SandboxTLS, hosts: Sequence[str]) -> None:
    ca_key = serialization.load_pem_private_key(tls.ca_key.read_bytes(), password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{tls.ca_key} is not the sandbox CA's EC key")
    ca_cert = x509.load_pem_x509_certificate(tls.ca_cert.read_bytes())
    key = _new_key()
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.SubjectAlternativeName(_san_entries(hosts)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_key(tls.server_key, key)
    tls.server_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _covers_hosts(cert_path: Path, hosts: Sequence[str]) -> bool:
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    if cert.not_valid_after_utc < dt.datetime.now(dt.UTC) + dt.timedelta(days=1):
        return False
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    present = {str(v) for v in san.get_values_for_type(x509.IPAddress)}
    present |= set(san.get_values_for_type(x509.DNSName))
    return all(str(ipaddress.ip_address(h)) in present if _is_ip(h) else h in present for h in hosts)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


__all__ = ["DEFAULT_HOSTS", "SandboxTLS", "ensure_sandbox_tls"]
