"""What the SDK tests share: the lab's address and state, Microsoft's SDK clients pointed at the lab,
and a record of every HTTP exchange the Graph clients make, printed so that a failing test shows
exactly what the SDK sent and what the lab answered.

The SDKs are used as their documentation shows, changed only in what pointing them at another cloud
takes: the authority host (the lab), the Graph base URL (`{LAB_URL}/v1.0` or `/beta`), no instance
discovery, trusting the lab's CA, the kiota auth provider's allowed hosts, and the Graph scope named
explicitly (kiota derives `https://{host}/.default` from the request host otherwise, which is the
lab's host, not Graph's).
"""

from __future__ import annotations

import json
import os
import ssl
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional
from urllib.parse import urlsplit

import httpx

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "graph"


def env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set: the suite is run by tests/sdk.rs, which starts the lab")
    return value


# MSAL trusts the lab's CA through `verify=` on its requests.Session, which requests ignores when
# REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE is set (https://github.com/psf/requests/issues/4726, #3829):
# this process trusts what each client is told to trust, not a bundle from the environment.
for _variable in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
    os.environ.pop(_variable, None)

LAB_URL = env("LAB_URL").rstrip("/")
LAB_STATE = Path(env("LAB_STATE"))
LAB_CA = os.environ.get("LAB_CA")
LAB_HOST = urlsplit(LAB_URL).hostname or "127.0.0.1"
TLS = LAB_URL.startswith("https://")


def ssl_context() -> ssl.SSLContext | bool:
    """Trust in the lab's CA (and nothing else), as a user trusts a private cloud's CA."""
    if not TLS:
        return True
    return ssl.create_default_context(cafile=LAB_CA)


# ---------------------------------------------------------------------------------------------- state


@dataclass
class App:
    client_id: str
    client_secret: str
    certificate: Optional[str] = None


@dataclass
class Tenant:
    id: str
    display_name: str
    path: Path

    def objects(self, folder: str) -> list[dict]:
        directory = self.path / folder
        if not directory.is_dir():
            return []
        return [json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))]


def apps(state: Path = LAB_STATE) -> list[App]:
    raw = json.loads((state / "lab.json").read_text())["apps"]
    return [App(a["clientId"], a["clientSecret"], a.get("certificate")) for a in raw]


def tenants(state: Path = LAB_STATE) -> list[Tenant]:
    found = []
    for path in sorted((state / "tenants").iterdir()):
        info = path / "tenant.json"
        if info.is_file():
            data = json.loads(info.read_text())
            found.append(Tenant(path.name, data.get("displayName", ""), path))
    return found


def consented(tenant: Tenant, app: App) -> bool:
    data = json.loads((tenant.path / "tenant.json").read_text())
    return any(a.lower() == app.client_id.lower() for a in data.get("consentedApps", []))


def main_tenant(app: App, state: Path = LAB_STATE) -> Tenant:
    """The consented tenant with the most configuration policies (ties: the first id)."""
    candidates = [t for t in tenants(state) if consented(t, app)]
    if not candidates:
        raise RuntimeError(f"no tenant in {state} has consented to {app.client_id}")
    def policy_count(tenant: Tenant) -> int:
        folder = tenant.path / "configurationPolicies"
        return len(list(folder.glob("*.json"))) if folder.is_dir() else 0

    return sorted(candidates, key=lambda t: (-policy_count(t), t.id))[0]


# ------------------------------------------------------------------------------------------ wire log


@dataclass
class Exchange:
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: bytes
    status: int
    response_headers: dict[str, str]
    response_body: bytes
    at: float = field(default_factory=time.monotonic)

    def describe(self) -> str:
        shown = {k: v for k, v in self.request_headers.items() if k.lower() != "authorization"}
        if "authorization" in {k.lower() for k in self.request_headers}:
            auth = next(v for k, v in self.request_headers.items() if k.lower() == "authorization")
            shown["authorization"] = auth.split(" ")[0] + " <token>" if auth.strip() else "<empty>"
        lines = [f">>> {self.method} {self.url}", f"    request headers: {shown}"]
        if self.request_body:
            lines.append(f"    request body: {self.request_body[:3000].decode('utf-8', 'replace')}")
        lines.append(f"<<< {self.status} headers: {dict(self.response_headers)}")
        if self.response_body:
            lines.append(f"    response body: {self.response_body[:3000].decode('utf-8', 'replace')}")
        return "\n".join(lines)


class WireLog(httpx.AsyncBaseTransport):
    """The innermost transport under the SDK's middleware: sees every attempt, retries included.

    Every exchange is printed (pytest shows it for failing tests) and kept for assertions."""

    def __init__(self, inner: httpx.AsyncBaseTransport):
        self.inner = inner
        self.exchanges: list[Exchange] = []
        self.on_response: list[Callable[[Exchange], Any]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        try:
            response = await self.inner.handle_async_request(request)
        except Exception as error:
            print(f">>> {request.method} {request.url}\n!!! transport error: {error!r}")
            raise
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
        await response.aclose()
        exchange = Exchange(request.method, str(request.url), dict(request.headers), body,
                            response.status_code, dict(response.headers), raw)
        self.exchanges.append(exchange)
        print(exchange.describe())
        for hook in list(self.on_response):
            result = hook(exchange)
            if hasattr(result, "__await__"):
                await result
        return httpx.Response(response.status_code, headers=response.headers, stream=httpx.ByteStream(raw),
                              request=request, extensions=response.extensions)

    async def aclose(self) -> None:
        await self.inner.aclose()


# ------------------------------------------------------------------------------------- lab controls


def lab_config(update: Optional[dict] = None) -> dict:
    """`GET`/`PUT {LAB_URL}/_lab/config`: the lab's own runtime knobs (not Graph)."""
    with httpx.Client(verify=ssl_context(), timeout=10) as http:
        response = http.put(f"{LAB_URL}/_lab/config", json=update) if update is not None \
            else http.get(f"{LAB_URL}/_lab/config")
        response.raise_for_status()
        return response.json()


def lab_stats() -> dict:
    with httpx.Client(verify=ssl_context(), timeout=10) as http:
        response = http.get(f"{LAB_URL}/_lab/stats")
        response.raise_for_status()
        return response.json()


def plain_token(tenant: Tenant, app: App) -> str:
    """A token fetched with a plain form POST: only for running the Graph tests against a lab without
    TLS, where Microsoft's token libraries refuse to go."""
    with httpx.Client(verify=ssl_context(), timeout=10) as http:
        response = http.post(f"{LAB_URL}/{tenant.id}/oauth2/v2.0/token", data={
            "grant_type": "client_credentials", "client_id": app.client_id,
            "client_secret": app.client_secret, "scope": GRAPH_SCOPE})
        response.raise_for_status()
        return response.json()["access_token"]


# --------------------------------------------------------------------------------------- SDK clients


@dataclass
class Clients:
    beta: Any  # msgraph_beta.GraphServiceClient
    v1: Any  # msgraph.GraphServiceClient
    wire: WireLog
    credential: Any

    async def aclose(self) -> None:
        await self.wire.aclose()
        close = getattr(self.credential, "close", None)
        if close is not None:
            result = close()
            if hasattr(result, "__await__"):
                await result


def credential_for(tenant: Tenant, app: App):
    """azure-identity's async ClientSecretCredential, as the msgraph-sdk README shows it, pointed at
    the lab. Without TLS (a lab from before `--tls`) a static token stands in."""
    if TLS:
        from azure.identity.aio import ClientSecretCredential

        return ClientSecretCredential(
            tenant.id, app.client_id, app.client_secret,
            authority=LAB_URL,
            disable_instance_discovery=True,
            connection_verify=LAB_CA,
        )
    return StaticTokenCredential(plain_token(tenant, app))


class StaticTokenCredential:
    """Stand-in for a lab without TLS only (see `credential_for`)."""

    def __init__(self, token: str):
        self.token = token

    async def get_token(self, *scopes, **kwargs):
        from azure.core.credentials import AccessToken

        return AccessToken(self.token, int(time.time()) + 3000)

    async def close(self) -> None:
        pass


def make_clients(tenant: Tenant, app: App) -> Clients:
    """msgraph-beta-sdk and msgraph-sdk clients sharing one credential and one wire log."""
    from kiota_authentication_azure.azure_identity_authentication_provider import (
        AzureIdentityAuthenticationProvider,
    )
    from msgraph_core import APIVersion, GraphClientFactory
    import msgraph
    import msgraph_beta

    credential = credential_for(tenant, app)
    wire = WireLog(httpx.AsyncHTTPTransport(verify=ssl_context()))

    def client(module, version: APIVersion, path: str):
        auth = AzureIdentityAuthenticationProvider(credential, scopes=[GRAPH_SCOPE], allowed_hosts=[LAB_HOST])
        # The documented way to give the SDK an httpx client of one's own (proxies, CAs): wrap it in
        # the Graph middleware with GraphClientFactory, then hand it to the GraphRequestAdapter.
        http = GraphClientFactory.create_with_default_middleware(
            api_version=version, client=httpx.AsyncClient(transport=wire, timeout=60))
        adapter = module.GraphRequestAdapter(auth, client=http)
        adapter.base_url = f"{LAB_URL}/{path}"
        return module.GraphServiceClient(request_adapter=adapter)

    return Clients(
        beta=client(msgraph_beta, APIVersion.beta, "beta"),
        v1=client(msgraph, APIVersion.v1, "v1.0"),
        wire=wire,
        credential=credential,
    )


def fixture_json(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def parse_model(data: dict, model):
    """A kiota model from Graph's JSON, through the SDK's own JSON parse node."""
    from kiota_serialization_json.json_parse_node import JsonParseNode

    return JsonParseNode(data).get_object_value(model)


def to_json(model) -> dict:
    """A kiota model as the SDK would send it."""
    from kiota_serialization_json.json_serialization_writer import JsonSerializationWriter

    writer = JsonSerializationWriter()
    writer.write_object_value(None, model)
    return json.loads(writer.get_serialized_content())


def policy_payload(data: dict):
    """A policy model from Graph's JSON.

    Workaround for a Microsoft SDK bug: `platforms` and `technologies` are flags enums, which kiota's
    JSON parse node reads as a list of enum members while its serialization writer writes only single
    Enum values, so both are silently dropped from the request body (and a policy with two
    technologies, "mdm,microsoftSense", cannot be expressed with the typed property at all).
    Serialization of flags enums: https://github.com/microsoft/kiota/issues/3238 (open); the parse
    side: https://github.com/microsoft/kiota-python/issues/515. They go as additional data instead,
    exactly as Graph spells them."""
    from msgraph_beta.generated.models.device_management_configuration_policy import (
        DeviceManagementConfigurationPolicy,
    )

    policy = parse_model(data, DeviceManagementConfigurationPolicy)
    for field in ("platforms", "technologies"):
        if field in data:
            setattr(policy, field, None)
            policy.additional_data[field] = data[field]
    return policy


def firewall_payload(name: str):
    data = fixture_json("configurationPolicy-create-firewall.request.json")
    data["name"] = name
    return policy_payload(data)
