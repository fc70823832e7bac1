"""Test certificates made at test time with the openssl command, and an HTTPS FlakyServer."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import pytest

from retrykit.testing import FlakyServer, Reply

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate")


def make_cert(directory: Path, name: str, san: str) -> tuple[Path, Path]:
    """A fresh self-signed certificate (and its key) with subjectAltName ``san``, valid for a day."""
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={name}",
         "-addext", f"subjectAltName={san}", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def tls_server(certs: tuple[Path, Path], script: list[Reply] | None = None) -> FlakyServer:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certs)
    return FlakyServer(script or [], tls=context)
