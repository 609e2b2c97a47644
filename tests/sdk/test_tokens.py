"""Microsoft's token libraries against the lab's identity platform: azure-identity's
ClientSecretCredential and CertificateCredential, MSAL's ConfidentialClientApplication with a secret
and with a certificate (both ways MSAL signs assertions), OpenID discovery and the signing keys.

Certificate tests generate a key and a self-signed certificate, write a fresh state folder whose app
carries the certificate, and start a lab of their own on it (LAB_BIN, set by tests/sdk.rs)."""

from __future__ import annotations

import base64
import datetime
import http.client
import json
import os
import ssl
import subprocess
import time
from pathlib import Path

import httpx
import jwt
import msal
import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import CertificateCredential, ClientSecretCredential
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

import labkit
from labkit import GRAPH_SCOPE, LAB_CA, LAB_URL

def secret_credential(tenant, app, secret=None, **kwargs) -> ClientSecretCredential:
    return ClientSecretCredential(
        tenant.id, app.client_id, secret or app.client_secret,
        authority=LAB_URL, disable_instance_discovery=True, connection_verify=LAB_CA, **kwargs)


def graph_answers(token: str, url: str = LAB_URL, ca: str | None = LAB_CA) -> int:
    """The status Graph answers a plain GET /v1.0/groups with this token."""
    with httpx.Client(verify=ssl.create_default_context(cafile=ca)) as http:
        return http.get(f"{url}/v1.0/groups", headers={"Authorization": f"Bearer {token}"}).status_code


@pytest.fixture(autouse=True)
def token_traffic():
    # The token requests (form fields, client assertions included) and the status lines answered are
    # printed, so that a failing test shows what the library sent.
    http.client.HTTPConnection.debuglevel = 1
    yield
    http.client.HTTPConnection.debuglevel = 0


def test_azure_identity_client_secret_credential(tenant, app):
    credential = secret_credential(tenant, app)
    token = credential.get_token(GRAPH_SCOPE)
    assert token.token
    assert token.expires_on > time.time() + 3000
    assert graph_answers(token.token) == 200
    again = credential.get_token(GRAPH_SCOPE)
    assert again.token == token.token, "the credential caches its token"


def test_azure_identity_wrong_secret_is_aadsts7000215(tenant, app):
    with pytest.raises(ClientAuthenticationError) as raised:
        secret_credential(tenant, app, secret="not-the-secret").get_token(GRAPH_SCOPE)
    assert "AADSTS7000215" in str(raised.value)


def msal_app(tenant, app, credential, authority_url=LAB_URL, ca=LAB_CA) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        app.client_id, client_credential=credential, authority=f"{authority_url}/{tenant.id}",
        instance_discovery=False, verify=ca)


def test_msal_client_secret(tenant, app):
    result = msal_app(tenant, app, app.client_secret).acquire_token_for_client(scopes=[GRAPH_SCOPE])
    assert "access_token" in result, result.get("error_description", result)
    assert result["token_type"].lower() == "bearer" and result["expires_in"] > 3000
    assert graph_answers(result["access_token"]) == 200


def test_msal_wrong_secret_is_invalid_client(tenant, app):
    result = msal_app(tenant, app, "not-the-secret").acquire_token_for_client(scopes=[GRAPH_SCOPE])
    assert result.get("error") == "invalid_client", result
    assert 7000215 in result.get("error_codes", []), result


def test_openid_discovery_and_signing_keys(tenant, app):
    with httpx.Client(verify=labkit.ssl_context()) as http:
        config = http.get(f"{LAB_URL}/{tenant.id}/v2.0/.well-known/openid-configuration")
        assert config.status_code == 200, config.text
        config = config.json()
        assert config["token_endpoint"] == f"{LAB_URL}/{tenant.id}/oauth2/v2.0/token"
        assert config["jwks_uri"] == f"{LAB_URL}/{tenant.id}/discovery/v2.0/keys"
        keys = http.get(config["jwks_uri"]).json()
    token = secret_credential(tenant, app).get_token(GRAPH_SCOPE).token
    header = jwt.get_unverified_header(token)
    key = next(k for k in jwt.PyJWKSet.from_dict(keys).keys if k.key_id == header["kid"])
    claims = jwt.decode(token, key.key, algorithms=[header["alg"]], audience="https://graph.microsoft.com")
    assert claims["tid"] == tenant.id
    assert claims["appid"] == app.client_id
    assert claims["exp"] > time.time() + 3000


# ------------------------------------------------------------------------------------- certificates


class CertificateLab:
    """A lab of its own on a fresh state folder whose one app authenticates with a certificate."""

    def __init__(self, root: Path):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tenantctl sdk test")])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                            .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                            .not_valid_before(now - datetime.timedelta(minutes=5))
                            .not_valid_after(now + datetime.timedelta(days=1))
                            .sign(self.key, hashes.SHA256()))
        self.key_pem = self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()).decode()
        self.cert_pem = self.certificate.public_bytes(serialization.Encoding.PEM).decode()
        self.sha1 = self.certificate.fingerprint(hashes.SHA1()).hex()
        self.client_id = "6b0f2a71-3c5d-4e8f-9a1b-2c3d4e5f6a7b"
        self.tenant_id = "2d4f6a8c-1e3b-4c5d-8e7f-9a0b1c2d3e4f"
        self.state = root / "state"
        (self.state / "tenants" / self.tenant_id).mkdir(parents=True)
        (self.state / "lab.json").write_text(json.dumps({"apps": [{
            "clientId": self.client_id, "clientSecret": "unused-secret", "certificate": self.cert_pem}]}))
        (self.state / "tenants" / self.tenant_id / "tenant.json").write_text(json.dumps({
            "displayName": "Certificate tenant", "consentedApps": [self.client_id]}))
        binary = os.environ.get("LAB_BIN")
        if not binary:
            pytest.fail("LAB_BIN (the tenantctl binary) is not set: tests/sdk.rs sets it")
        self.process = subprocess.Popen(
            [binary, "lab", "serve", "--tls", "--state", str(self.state), "--addr", "127.0.0.1:0"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.url = self.process.stdout.readline().strip()
        if not self.url.startswith("https://127.0.0.1:"):
            self.process.kill()
            pytest.fail(f"the certificate lab did not print an https URL first: {self.url!r} "
                        f"{self.process.stderr.read()}")
        self.ca = str(self.state / "tls" / "ca.pem")

    def close(self):
        self.process.kill()
        self.process.wait()

    def tenant(self):
        return labkit.Tenant(self.tenant_id, "Certificate tenant", self.state / "tenants" / self.tenant_id)

    def app(self):
        return labkit.App(self.client_id, "unused-secret", self.cert_pem)


@pytest.fixture(scope="module")
def cert_lab(tmp_path_factory):
    lab = CertificateLab(tmp_path_factory.mktemp("certificate-lab"))
    yield lab
    lab.close()


def test_msal_certificate_with_sha1_thumbprint(cert_lab):
    # The form the brief and MSAL's docs show: MSAL signs RS256 and names the certificate by `x5t`
    # (SHA-1), the form Entra has always accepted.
    credential = {"private_key": cert_lab.key_pem, "thumbprint": cert_lab.sha1}
    result = msal_app(cert_lab.tenant(), cert_lab.app(), credential, cert_lab.url, cert_lab.ca) \
        .acquire_token_for_client(scopes=[GRAPH_SCOPE])
    assert "access_token" in result, result.get("error_description", result)
    assert graph_answers(result["access_token"], cert_lab.url, cert_lab.ca) == 200


def test_msal_certificate_with_public_certificate(cert_lab):
    # Without a thumbprint MSAL (1.35+) signs PS256 and names the certificate by `x5t#S256`, with
    # the chain in `x5c`: the form Entra's certificate-credentials page documents now.
    credential = {"private_key": cert_lab.key_pem, "public_certificate": cert_lab.cert_pem}
    result = msal_app(cert_lab.tenant(), cert_lab.app(), credential, cert_lab.url, cert_lab.ca) \
        .acquire_token_for_client(scopes=[GRAPH_SCOPE])
    assert "access_token" in result, result.get("error_description", result)
    assert graph_answers(result["access_token"], cert_lab.url, cert_lab.ca) == 200


def test_azure_identity_certificate_credential(cert_lab):
    # azure-identity signs RS256 with `x5t` (SHA-1), through MSAL.
    credential = CertificateCredential(
        cert_lab.tenant_id, cert_lab.client_id,
        certificate_data=(cert_lab.key_pem + cert_lab.cert_pem).encode(),
        authority=cert_lab.url, disable_instance_discovery=True, connection_verify=cert_lab.ca)
    token = credential.get_token(GRAPH_SCOPE)
    assert token.token
    assert graph_answers(token.token, cert_lab.url, cert_lab.ca) == 200


def test_certificate_assertion_from_another_key_is_refused(cert_lab):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    credential = {"private_key": other, "thumbprint": cert_lab.sha1}
    result = msal_app(cert_lab.tenant(), cert_lab.app(), credential, cert_lab.url, cert_lab.ca) \
        .acquire_token_for_client(scopes=[GRAPH_SCOPE])
    assert result.get("error") == "invalid_client", result
