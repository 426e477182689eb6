"""Certificates and keys for the local control plane, laid out as kubeadm lays out /etc/kubernetes/pki.

Three certificate authorities, as kubeadm makes them (cmd/kubeadm/app/phases/certs):
`ca` signs the apiserver's serving certificate and every client certificate that logs in
to the apiserver; `etcd/ca` signs etcd's serving certificate and its clients'; `front-proxy-ca`
signs the aggregation layer's client. `sa.key`/`sa.pub` sign and check service-account tokens.
Everything is generated here with `cryptography`, written with mode 0600, and never printed.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALID_DAYS = 365
SERVER, CLIENT = ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH

# The apiserver's serving names: loopback plus the in-cluster names and the first Service IP
# of kind's service subnet 10.96.0.0/16 (kubeadm's apiserver certificate has the same list).
APISERVER_NAMES = [
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
    "127.0.0.1",
    "10.96.0.1",
]


@dataclass(frozen=True)
class Pair:
    cert: Path
    key: Path


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return path


def _key_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _name(cn: str, orgs: tuple[str, ...] = ()) -> x509.Name:
    return x509.Name(
        [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs] + [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    )


def _sans(names: Iterable[str]) -> x509.SubjectAlternativeName:
    out: list[x509.GeneralName] = []
    for n in names:
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(n)))
        except ValueError:
            out.append(x509.DNSName(n))
    return x509.SubjectAlternativeName(out)


def _key_usage(cert_sign: bool) -> x509.KeyUsage:
    """Signing and key encipherment, plus certificate signing for a CA (as kubeadm's certificates)."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=True,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)


def make_ca(folder: Path, stem: str, cn: str) -> Pair:
    """A self-signed CA (key and certificate), written to ``folder``/``stem``.crt and .key."""
    key = _key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now())
        .not_valid_after(_now() + dt.timedelta(days=10 * VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Pair(
        _write(folder / f"{stem}.crt", cert.public_bytes(serialization.Encoding.PEM)),
        _write(folder / f"{stem}.key", _key_pem(key)),
    )


def make_cert(
    ca: Pair,
    folder: Path,
    stem: str,
    cn: str,
    *,
    orgs: tuple[str, ...] = (),
    usages: Sequence[x509.ObjectIdentifier] = (CLIENT,),
    names: Sequence[str] = (),
) -> Pair:
    """A key and a certificate signed by ``ca`` for ``cn``, written to ``folder``/``stem``.crt and .key."""
    ca_cert = x509.load_pem_x509_certificate(ca.cert.read_bytes())
    ca_key = serialization.load_pem_private_key(ca.key.read_bytes(), password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise TypeError(f"{ca.key}: a CA key must be an EC or RSA private key, not {type(ca_key).__name__}")
    key = _key()
    b = (
        x509.CertificateBuilder()
        .subject_name(_name(cn, orgs))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now())
        .not_valid_after(_now() + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage(list(usages)), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    if names:
        b = b.add_extension(_sans(names), critical=False)
    cert = b.sign(ca_key, hashes.SHA256())
    return Pair(
        _write(folder / f"{stem}.crt", cert.public_bytes(serialization.Encoding.PEM)),
        _write(folder / f"{stem}.key", _key_pem(key)),
    )


def make_service_account_keys(folder: Path) -> Pair:
    """sa.key (signs tokens, kube-controller-manager and kube-apiserver) and sa.pub (checks them)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pub = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return Pair(_write(folder / "sa.pub", pub), _write(folder / "sa.key", _key_pem(key)))


def generate(folder: Path) -> dict[str, Pair]:
    """Every certificate and key the local control plane uses, by kubeadm's file names."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    ca = make_ca(folder, "ca", "kubernetes")
    etcd_ca = make_ca(folder / "etcd", "ca", "etcd-ca")
    fp_ca = make_ca(folder, "front-proxy-ca", "front-proxy-ca")
    loop = ("localhost", "127.0.0.1")
    out = {
        "ca": ca,
        "etcd-ca": etcd_ca,
        "front-proxy-ca": fp_ca,
        "etcd-server": make_cert(
            etcd_ca, folder / "etcd", "server", "k8slearn-local", usages=(SERVER, CLIENT), names=loop
        ),
        "etcd-peer": make_cert(etcd_ca, folder / "etcd", "peer", "k8slearn-local", usages=(SERVER, CLIENT), names=loop),
        "etcd-healthcheck-client": make_cert(
            etcd_ca, folder / "etcd", "healthcheck-client", "kube-etcd-healthcheck-client"
        ),
        "apiserver-etcd-client": make_cert(etcd_ca, folder, "apiserver-etcd-client", "kube-apiserver-etcd-client"),
        "apiserver": make_cert(ca, folder, "apiserver", "kube-apiserver", usages=(SERVER,), names=APISERVER_NAMES),
        "apiserver-kubelet-client": make_cert(
            ca, folder, "apiserver-kubelet-client", "kube-apiserver-kubelet-client", orgs=("kubeadm:cluster-admins",)
        ),
        "front-proxy-client": make_cert(fp_ca, folder, "front-proxy-client", "front-proxy-client"),
        # Logins, one per kubeconfig as kubeadm writes them. The learner's admin login is in
        # system:masters (kubeadm's super-admin.conf): no kubeadm runs here to create the
        # kubeadm:cluster-admins binding that admin.conf relies on.
        "admin": make_cert(ca, folder, "admin", "kubernetes-admin", orgs=("system:masters",)),
        "controller-manager": make_cert(ca, folder, "controller-manager", "system:kube-controller-manager"),
        "scheduler": make_cert(ca, folder, "scheduler", "system:kube-scheduler"),
        # kwok plays the kubelet of every fake node; it needs to write Nodes, Leases and Pod status
        "kwok": make_cert(ca, folder, "kwok", "kwok-controller", orgs=("system:masters",)),
        "sa": make_service_account_keys(folder),
    }
    return out
