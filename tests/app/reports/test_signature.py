"""The report's PDF signature checked by verifiers that are not our code: poppler's ``pdfsig`` (trusting the demo
city CA through an NSS database made with ``certutil``) and pyHanko's validator. Both accept the issued PDF and
reject a copy with one byte changed."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from tests.app.reports.conftest import fetch_pdf, needs_poppler, request_report, tampered

pytestmark = needs_poppler


def _ca_path(app) -> Path:
    return Path(app.config["KEYS_DIR"]) / "reports" / "ca.pem"


def _pdfsig(pdf: Path, nss_dir: Path | None) -> str:
    command = ["pdfsig", *(["-nssdir", f"sql:{nss_dir}"] if nss_dir else []), str(pdf)]
    return subprocess.run(command, capture_output=True, text=True).stdout


@pytest.fixture
def issued(rights, client, tmp_path) -> bytes:
    report = request_report(client, rights.citizen, scope="level_score")
    return fetch_pdf(client, rights.citizen, report)


def test_pyhanko_validator_accepts_the_signature_and_rejects_a_changed_byte(app, client, issued):
    ca = client.get("/verify/report-ca.pem")
    assert ca.status_code == 200 and ca.data == _ca_path(app).read_bytes()
    context = ValidationContext(trust_roots=[load_cert_from_pemder(str(_ca_path(app)))])

    signature = PdfFileReader(io.BytesIO(issued)).embedded_signatures[0]
    status = validate_pdf_signature(signature, context)
    assert status.intact and status.valid and status.trusted and status.bottom_line
    assert status.coverage.name == "ENTIRE_FILE"
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    assert "绍兴市个人信用报告签章" in status.signing_cert.subject.human_friendly

    changed = PdfFileReader(io.BytesIO(tampered(issued))).embedded_signatures[0]
    broken = validate_pdf_signature(changed, context)
    assert not broken.intact and not broken.bottom_line

    untrusting = validate_pdf_signature(PdfFileReader(io.BytesIO(issued)).embedded_signatures[0],
                                        ValidationContext(trust_roots=[]))
    assert untrusting.intact and not untrusting.trusted


@pytest.mark.skipif(not shutil.which("certutil"), reason="certutil (libnss3-tools) not installed; .ci/run installs it")
def test_pdfsig_accepts_the_signature_and_rejects_a_changed_byte(app, issued, tmp_path):
    nss = tmp_path / "nss"
    nss.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True, capture_output=True)
    subprocess.run(["certutil", "-A", "-d", f"sql:{nss}", "-n", "city-report-ca", "-t", "CT,C,C",
                    "-i", str(_ca_path(app))], check=True, capture_output=True)
    good, bad = tmp_path / "report.pdf", tmp_path / "changed.pdf"
    good.write_bytes(issued)
    bad.write_bytes(tampered(issued))

    accepted = _pdfsig(good, nss)
    assert "Signature Validation: Signature is Valid." in accepted
    assert "Certificate Validation: Certificate is Trusted." in accepted
    assert "Total document signed" in accepted and "ETSI.CAdES.detached" in accepted
    assert "Signature is Valid." in _pdfsig(good, None)  # intact even for a reader who does not trust the CA

    refused = _pdfsig(bad, nss)
    assert "Signature is Valid." not in refused
    assert "Digest Mismatch" in refused or "Signature is Invalid" in refused
