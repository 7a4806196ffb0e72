"""The certificates and keys a local control plane needs, and its admin kubeconfig.

ECDSA P-256 keys are used throughout: they are generated in milliseconds, where RSA keys would
add seconds to every cluster start on a slow machine.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = datetime.timedelta(days=30)
"""Long enough for any test session or `fluidpy cluster create`; short enough not to matter."""

ADMIN_USER = "localcluster-admin"
ADMIN_GROUP = "system:masters"

_API_SERVER_DNS_NAMES = (
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
)


@dataclass(frozen=True)
class PKIFiles:
    """Where each file of the PKI was written."""

    ca_cert: Path
    ca_key: Path
    apiserver_cert: Path
    apiserver_key: Path
    admin_cert: Path
    admin_key: Path
    service_account_key: Path
    service_account_public_key: Path


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey
) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
    )


def _name(common_name: str, organization: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(attributes)


def _sign(
    ca_key: ec.EllipticCurvePrivateKey,
    ca_name: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    subject: x509.Name,
    usage: x509.ObjectIdentifier,
    *,
    alt_names: list[x509.GeneralName] | None = None,
) -> x509.Certificate:
    builder = _builder(subject, ca_name, key.public_key()).add_extension(
        x509.ExtendedKeyUsage([usage]), critical=False
    )
    if alt_names:
        builder = builder.add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
    return builder.sign(ca_key, hashes.SHA256())


def issue_certificate(
    pki: PKIFiles,
    cert_path: Path,
    key_path: Path,
    *,
    common_name: str,
    organization: str | None = None,
    server: bool = False,
    dns_names: tuple[str, ...] = (),
    ip_addresses: tuple[str, ...] = (),
) -> None:
    """Write a key and a certificate signed by the cluster's CA: a client certificate for
    `common_name` in group `organization`, or with `server` a serving certificate for the names
    and addresses given."""
    ca_cert = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    ca_key = serialization.load_pem_private_key(pki.ca_key.read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    alt_names: list[x509.GeneralName] = [x509.DNSName(name) for name in dns_names]
    alt_names += [x509.IPAddress(ipaddress.ip_address(address)) for address in ip_addresses]
    key = _new_key()
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    subject = _name(common_name, organization)
    cert = _sign(ca_key, ca_cert.subject, key, subject, usage, alt_names=alt_names)
    key_path.write_bytes(_key_pem(key))
    key_path.chmod(0o600)
    cert_path.write_bytes(_cert_pem(cert))


def write_pki(directory: Path, service_cluster_ip: str = "10.0.0.1") -> PKIFiles:
    """Write a CA, the API server's serving certificate, an admin client certificate and the
    service-account signing key pair into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    files = PKIFiles(
        ca_cert=directory / "ca.crt",
        ca_key=directory / "ca.key",
        apiserver_cert=directory / "apiserver.crt",
        apiserver_key=directory / "apiserver.key",
        admin_cert=directory / "admin.crt",
        admin_key=directory / "admin.key",
        service_account_key=directory / "sa.key",
        service_account_public_key=directory / "sa.pub",
    )

    ca_key = _new_key()
    ca_name = _name("fluidpy-localcluster-ca")
    ca_cert = (
        _builder(ca_name, ca_name, ca_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )

    apiserver_key = _new_key()
    apiserver_cert = _sign(
        ca_key,
        ca_name,
        apiserver_key,
        _name("kube-apiserver"),
        ExtendedKeyUsageOID.SERVER_AUTH,
        alt_names=[x509.DNSName(name) for name in _API_SERVER_DNS_NAMES]
        + [
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address(service_cluster_ip)),
        ],
    )
    admin_key = _new_key()
    admin_cert = _sign(
        ca_key, ca_name, admin_key, _name(ADMIN_USER, ADMIN_GROUP), ExtendedKeyUsageOID.CLIENT_AUTH
    )
    service_account_key = _new_key()

    files.ca_cert.write_bytes(_cert_pem(ca_cert))
    files.ca_key.write_bytes(_key_pem(ca_key))
    files.apiserver_cert.write_bytes(_cert_pem(apiserver_cert))
    files.apiserver_key.write_bytes(_key_pem(apiserver_key))
    files.admin_cert.write_bytes(_cert_pem(admin_cert))
    files.admin_key.write_bytes(_key_pem(admin_key))
    files.service_account_key.write_bytes(_key_pem(service_account_key))
    files.service_account_public_key.write_bytes(
        service_account_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    for private in (files.ca_key, files.apiserver_key, files.admin_key, files.service_account_key):
        private.chmod(0o600)
    return files


def render_kubeconfig(server: str, pki: PKIFiles, cluster_name: str) -> dict[str, object]:
    """An admin kubeconfig with its credentials embedded, so it works wherever it is copied."""

    def b64(path: Path) -> str:
        return base64.b64encode(path.read_bytes()).decode()

    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": cluster_name,
                "cluster": {"server": server, "certificate-authority-data": b64(pki.ca_cert)},
            }
        ],
        "users": [
            {
                "name": ADMIN_USER,
                "user": {
                    "client-certificate-data": b64(pki.admin_cert),
                    "client-key-data": b64(pki.admin_key),
                },
            }
        ],
        "contexts": [
            {"name": cluster_name, "context": {"cluster": cluster_name, "user": ADMIN_USER}}
        ],
        "current-context": cluster_name,
    }


def write_kubeconfig(path: Path, server: str, pki: PKIFiles, cluster_name: str) -> Path:
    path.write_text(yaml.safe_dump(render_kubeconfig(server, pki, cluster_name), sort_keys=False))
    path.chmod(0o600)
    return path
