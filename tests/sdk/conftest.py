"""Fixtures of the SDK suite: one event loop and one pair of Graph clients for the session (so the
credential's token cache works as in an application), the lab's app and main tenant from LAB_STATE."""

from __future__ import annotations

import asyncio
import logging

import pytest

import labkit


def pytest_report_header(config):
    return [f"lab: {labkit.LAB_URL} (state {labkit.LAB_STATE}, CA {labkit.LAB_CA}, tls={labkit.TLS})"]


@pytest.fixture(scope="session")
def loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(scope="session")
def run(loop):
    """Runs a coroutine on the session's loop (the SDKs are async; their clients belong to one loop)."""
    return loop.run_until_complete


@pytest.fixture(scope="session")
def app() -> labkit.App:
    return labkit.apps()[0]


@pytest.fixture(scope="session")
def tenant(app) -> labkit.Tenant:
    return labkit.main_tenant(app)


@pytest.fixture(scope="session")
def clients(run, tenant, app):
    clients = labkit.make_clients(tenant, app)
    yield clients
    run(clients.aclose())


@pytest.fixture
def beta(clients):
    return clients.beta


@pytest.fixture
def v1(clients):
    return clients.v1


@pytest.fixture
def wire(clients):
    """The wire log, from this test's first request on."""
    start = len(clients.wire.exchanges)

    class View:
        @property
        def exchanges(self):
            return clients.wire.exchanges[start:]

        def hook(self, callback):
            clients.wire.on_response.append(callback)
            return callback

        def unhook(self, callback):
            if callback in clients.wire.on_response:
                clients.wire.on_response.remove(callback)

    return View()


@pytest.fixture(autouse=True)
def sdk_logs(caplog):
    # What azure-identity and MSAL log is shown with a failing test.
    caplog.set_level(logging.DEBUG, logger="msal")
    caplog.set_level(logging.DEBUG, logger="azure.identity")
    caplog.set_level(logging.INFO, logger="azure.core.pipeline.policies.http_logging_policy")
