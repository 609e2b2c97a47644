"""msgraph-sdk (v1.0) on the tenant itself — `organization`, `subscribedSkus` — and the 403 Graph answers
a token that lacks the permission, as msgraph-beta-sdk raises it."""

from __future__ import annotations

import json
import uuid

import pytest
from msgraph_beta.generated.models.o_data_errors.o_data_error import ODataError

import labkit

WINDEFATP = uuid.UUID("871d91ec-ec1a-452b-a83f-bd76c7d770ef")
INTUNE_A = uuid.UUID("c1ec4a95-1f05-45b3-a911-aa3fa01094f5")


def licences_of(tenant: labkit.Tenant) -> list[str]:
    return json.loads((tenant.path / "tenant.json").read_text()).get("licenses", ["SPE_E5"])


def test_organization_is_the_tenant(run, v1, tenant):
    organizations = run(v1.organization.get()).value
    assert [o.id for o in organizations] == [tenant.id]
    assert organizations[0].display_name == tenant.display_name
    assert organizations[0].verified_domains[0].is_initial


def test_subscribed_skus_hold_the_service_plans(run, v1, tenant):
    skus = run(v1.subscribed_skus.get()).value
    assert sorted(s.sku_part_number for s in skus) == sorted(licences_of(tenant))
    assert all(s.capability_status == "Enabled" for s in skus)
    plans = {p.service_plan_id for s in skus for p in s.service_plans if p.provisioning_status == "Success"}
    assert INTUNE_A in plans


def test_a_token_without_the_permission_is_refused_with_intunes_403(run, tenant, app):
    labkit.lab_config({"withheld": {tenant.id: ["DeviceManagementConfiguration.ReadWrite.All"]}})
    clients = labkit.make_clients(tenant, app)  # a new token: the permission is no longer in it
    try:
        with pytest.raises(ODataError) as raised:
            run(clients.beta.device_management.configuration_policies.get())
        assert raised.value.response_status_code == 403
        assert raised.value.error.code == "Forbidden"
        assert "DeviceManagementConfiguration.ReadWrite.All" in raised.value.error.message
        # What the token still carries is served.
        assert run(clients.v1.organization.get()).value[0].id == tenant.id
    finally:
        labkit.lab_config({"withheld": {}})
        run(clients.aclose())
