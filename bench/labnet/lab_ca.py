"""The lab's certificate authority: a forged certificate for any name the machine asks for.

The front door presents, for each server name (or address) a machine connects
to, a certificate made on the spot and signed by this lab CA. A machine that
validates certificates against its maker's roots refuses it; one that accepts
any certificate talks to the bench in plaintext. Keys are P-256 (fast to make);
everything lives in a private folder of the lab, removed with it.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

VALID_DAYS = 30
MAX_CONTEXTS = 256  # a device naming endless hosts cannot make endless certificates


class LabCA:
    """Makes and caches one server ``SSLContext`` per name, signed by a fresh CA."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self._key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "brewbench lab CA")])
        self._name = name
        self.certificate = (self._builder(name, self._key.public_key())
                            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                            .sign(self._key, hashes.SHA256()))
        self.ca_file = root / "lab-ca.pem"
        self.ca_file.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._files: dict[str, tuple[Path, Path]] = {}
        self._lock = threading.RLock()

    def context_for(self, name: str) -> ssl.SSLContext:
        """A shared server context presenting a lab certificate for ``name`` (a host or address)."""
        key = name.lower()[:253] or "unnamed"
        with self._lock:
            if key not in self._files and len(self._files) >= MAX_CONTEXTS:
                key = "overflow.brewbench.invalid"
            if key not in self._contexts:
                self._contexts[key] = self.fresh_context(key)
            return self._contexts[key]

    def fresh_context(self, name: str) -> ssl.SSLContext:
        """A new server context of its own for ``name``: a connection may set its SNI callback."""
        with self._lock:
            files = self._files.get(name) or self._files.setdefault(name, self._make(name))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*files)
        return context

    def _make(self, name: str) -> tuple[Path, Path]:
        key = ec.generate_private_key(ec.SECP256R1())
        try:
            alt: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(name))
        except ValueError:
            alt = x509.DNSName(name)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name[:64])])
        leaf = (self._builder(subject, key.public_key())
                .add_extension(x509.SubjectAlternativeName([alt]), critical=False)
                .sign(self._key, hashes.SHA256()))
        stem = self.root / f"leaf-{len(self._files)}"
        chain, key_file = stem.with_suffix(".pem"), stem.with_suffix(".key")
        chain.write_bytes(leaf.public_bytes(serialization.Encoding.PEM)
                          + self.certificate.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        return chain, key_file

    def _builder(self, subject: x509.Name, public_key: ec.EllipticCurvePublicKey
                 ) -> x509.CertificateBuilder:
        now = datetime.datetime.now(datetime.UTC)
        return (x509.CertificateBuilder().subject_name(subject).issuer_name(self._name)
                .public_key(public_key).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(hours=1))
                .not_valid_after(now + datetime.timedelta(days=VALID_DAYS)))


__all__ = ["LabCA"]
