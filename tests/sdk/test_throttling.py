"""The SDK's retry handler against the lab's 429s: an injected throttle and Intune's write budget.
The lab's runtime knobs (`PUT {LAB_URL}/_lab/config`) are set for one request and reset after."""

from __future__ import annotations

import time

import pytest
from msgraph_beta.generated.models.device_management_configuration_policy import DeviceManagementConfigurationPolicy

import labkit


@pytest.fixture
def lab_knobs():
    before = labkit.lab_config()
    yield
    labkit.lab_config({"faults": before["faults"], "writeBudget": before["writeBudget"],
                       "retryAfter": before["retryAfter"]})


def test_injected_429_is_retried_after_retry_after(run, v1, tenant, wire, lab_knobs):
    labkit.lab_config({"faults": {"throttle": 1.0}, "retryAfter": "always"})

    def stop_throttling(exchange):
        if exchange.status == 429:
            labkit.lab_config({"faults": {}})

    wire.hook(stop_throttling)
    try:
        group = run(v1.groups.by_group_id(tenant.objects("groups")[0]["id"]).get())
    finally:
        wire.unhook(stop_throttling)
    assert group.id == tenant.objects("groups")[0]["id"]
    attempts = [e for e in wire.exchanges if "/groups/" in e.url]
    assert [e.status for e in attempts] == [429, 200]
    assert attempts[0].response_headers.get("retry-after") == "1"
    assert attempts[1].at - attempts[0].at >= 0.9, "the SDK waited as Retry-After said"
    # The retry says which attempt it is (kiota's RetryHandler adds Retry-Attempt).
    assert attempts[1].request_headers.get("retry-attempt") == "1"


def test_write_budget_429_is_retried(run, beta, wire, lab_knobs):
    labkit.lab_config({"writeBudget": {"writes": 1, "windowMs": 1500}, "retryAfter": "always"})
    builder = beta.device_management.configuration_policies
    created = run(builder.post(labkit.firewall_payload("SDK budget")))
    try:
        started = time.monotonic()
        run(builder.by_device_management_configuration_policy_id(created.id).patch(
            DeviceManagementConfigurationPolicy(description="second write, over budget")))
        patches = [e for e in wire.exchanges if e.method == "PATCH"]
        assert [e.status for e in patches][0] == 429 and patches[-1].status in (200, 204)
        assert time.monotonic() - started >= 0.5
    finally:
        labkit.lab_config({"writeBudget": None})
        run(builder.by_device_management_configuration_policy_id(created.id).delete())
