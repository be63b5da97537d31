"""Fixtures for credit reports: the rights fixtures' city (a bound citizen 王丽 with records from a department),
and helpers to request a report, fetch its PDF and read it with poppler's tools (not our code)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.app.rights.conftest import Rights, rights, seeded_calendar  # noqa: F401  (fixtures)

POPPLER = shutil.which("pdftotext") and shutil.which("pdftoppm") and shutil.which("pdfsig")
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils (pdftotext, pdftoppm, pdfsig) not installed; "
                                                        ".ci/run installs it")


def request_report(client, headers: dict, scope: str = "level", purpose: str = "credit_loan", **extra) -> dict:
    response = client.post("/mp/v1/me/reports", headers=headers, json={"purpose": purpose, "scope": scope, **extra})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def fetch_pdf(client, headers: dict, report: dict) -> bytes:
    response = client.get(report["pdf_url"], headers=headers)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return response.data


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def tampered(pdf: bytes) -> bytes:
    """One byte changed inside the signed page content (a digit of the MediaBox), the file otherwise the same."""
    index = pdf.index(b"/MediaBox [") + len(b"/MediaBox [")
    while pdf[index:index + 1] == b" ":
        index += 1
    data = bytearray(pdf)
    data[index] = ord("1") if data[index] != ord("1") else ord("2")
    return bytes(data)
