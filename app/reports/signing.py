"""The city's report-signing certificate and the PDF signature (PAdES baseline B-B, pyHanko).

Production configures a certificate issued by a real CA (``REPORT_SIGNING_CERT``, ``REPORT_SIGNING_KEY``,
``REPORT_SIGNING_KEY_PASSWORD``, ``REPORT_SIGNING_CHAIN``). Without them, a first look makes its own city CA and a
signing certificate under ``KEYS_DIR/reports/`` and says so in the log: a reader then trusts that CA
(``/verify/report-ca.pem``) to see the signature as trusted, and without trusting it still sees it as intact.

The certificate has its own validity window, apart from the JOSE keys of app/security: outside it no report is
signed (a report signed by an expired certificate would be refused by every PDF reader).
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import Flask, current_app

from app.errors import ApiError

logger = logging.getLogger(__name__)

DEMO_CA_YEARS = 10
DEMO_SIGNER_DAYS = 825  # the longest leaf lifetime browsers and PDF readers still accept without complaint
SIGNATURE_FIELD = "CityReportSignature"

SIGNING_UNAVAILABLE = ("report_signing_unavailable", "信用报告签章证书不在有效期内，暂时无法出具信用报告，请稍后再试。")


@dataclass(frozen=True)
class SigningMaterial:
    cert_path: Path
    key_path: Path
    chain_paths: tuple[Path, ...]
    key_password: bytes | None
    demo: bool


def _private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _name(city: str, common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"{city}市信用中心"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_usage(*, sign_certs: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=not sign_certs, content_commitment=not sign_certs,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=sign_certs, crl_sign=sign_certs, encipher_only=False, decipher_only=False)


def make_demo_pki(directory: Path, city: str, now: datetime | None = None) -> None:
    """A city CA (10 years) and a report-signing certificate it issued (825 days), EC P-256, as PEM files."""
    now = now or datetime.now(UTC)
    directory.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(city, f"{city}市信用报告根证书（演示）")
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=365 * DEMO_CA_YEARS))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(_key_usage(sign_certs=True), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name(city, f"{city}市个人信用报告签章"))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=DEMO_SIGNER_DAYS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(sign_certs=False), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    no_password = serialization.NoEncryption()
    _private(directory / "ca-key.pem", ca_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, no_password))
    _private(directory / "signing-key.pem", key.private_bytes(pem, serialization.PrivateFormat.PKCS8, no_password))
    (directory / "ca.pem").write_bytes(ca.public_bytes(pem))
    (directory / "signing-cert.pem").write_bytes(cert.public_bytes(pem))


def material(app: Flask) -> SigningMaterial:
    config = app.config
    password = config.get("REPORT_SIGNING_KEY_PASSWORD")
    if config.get("REPORT_SIGNING_CERT") and config.get("REPORT_SIGNING_KEY"):
        chain = tuple(Path(p.strip()) for p in (config.get("REPORT_SIGNING_CHAIN") or "").split(",") if p.strip())
        return SigningMaterial(Path(config["REPORT_SIGNING_CERT"]), Path(config["REPORT_SIGNING_KEY"]), chain,
                               password.encode() if password else None, demo=False)
    directory = Path(config["KEYS_DIR"]) / "reports"
    if not (directory / "signing-cert.pem").exists():
        # Made aside and renamed into place: of two workers starting at once, one set wins and both use it.
        directory.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".reports-", dir=directory.parent))
        make_demo_pki(staging, config["CITY_NAME"])
        try:
            staging.rename(directory)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
        else:
            logger.warning("generated a demo city CA and report-signing certificate under %s; set "
                           "REPORT_SIGNING_CERT and REPORT_SIGNING_KEY for production", directory)
    return SigningMaterial(directory / "signing-cert.pem", directory / "signing-key.pem", (directory / "ca.pem",),
                           None, demo=True)


class ReportSigner:
    """Loaded once per app: the pyHanko signer with the certificate chain it embeds in every signature."""

    def __init__(self, found: SigningMaterial) -> None:
        from pyhanko.sign import signers

        self.material = found
        self.signer = signers.SimpleSigner.load(str(found.key_path), str(found.cert_path),
                                                ca_chain_files=tuple(str(p) for p in found.chain_paths),
                                                key_passphrase=found.key_password)
        if self.signer is None:
            raise RuntimeError(f"cannot load the report-signing key or certificate ({found.cert_path})")
        self.certificate = x509.load_der_x509_certificate(self.signer.signing_cert.dump())

    @property
    def not_before(self) -> datetime:
        return self.certificate.not_valid_before_utc

    @property
    def not_after(self) -> datetime:
        return self.certificate.not_valid_after_utc

    def check_window(self, now: datetime) -> None:
        if not self.not_before <= now < self.not_after:
            raise ApiError(503, *SIGNING_UNAVAILABLE)

    def sign(self, pdf: bytes, *, city: str, now: datetime) -> bytes:
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import fields, signers

        self.check_window(now)
        meta = signers.PdfSignatureMetadata(
            field_name=SIGNATURE_FIELD, subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256",
            reason="个人信用报告", location=f"{city}市", name=f"{city}市信用中心")
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        pdf_signer = signers.PdfSigner(meta, signer=self.signer)
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return pdf_signer.sign_pdf(writer).getvalue()
        # pyHanko's sign_pdf calls asyncio.run, which refuses inside a running event loop (an async worker, or a
        # thread that drives one): sign on a thread of its own then.
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(lambda: pdf_signer.sign_pdf(writer).getvalue()).result()

    def root_pem(self) -> bytes | None:
        """The last certificate of the configured chain (the root a reader trusts), as PEM."""
        if not self.material.chain_paths:
            return None
        data = self.material.chain_paths[-1].read_bytes()
        if b"-----BEGIN" in data:
            return data
        return x509.load_der_x509_certificate(data).public_bytes(serialization.Encoding.PEM)


def signer() -> ReportSigner:
    app = current_app._get_current_object()
    found = app.extensions.get("report_signer")
    if found is None:
        found = app.extensions["report_signer"] = ReportSigner(material(app))
    return found
