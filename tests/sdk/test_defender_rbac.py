"""msgraph-beta-sdk on Defender XDR unified RBAC (`roleManagement/defender`): the action catalogue read
expanded, a role definition and an assignment built from the SDK's own models created and read back,
an unknown action and a missing principal refused as the SDK raises them, an update, a delete."""

from __future__ import annotations

import uuid

import pytest
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph_beta.generated.models.o_data_errors.o_data_error import ODataError
from msgraph_beta.generated.models.unified_role_assignment_multiple import UnifiedRoleAssignmentMultiple
from msgraph_beta.generated.models.unified_role_definition import UnifiedRoleDefinition
from msgraph_beta.generated.models.unified_role_permission import UnifiedRolePermission
from msgraph_beta.generated.role_management.defender.resource_namespaces.resource_namespaces_request_builder import (
    ResourceNamespacesRequestBuilder,
)

ALERTS = "microsoft.xdr/secops/securitydata/alerts/manage"
BASICS = "microsoft.xdr/secops/securitydata/basics/read"


def test_the_catalogue_lists_the_actions(run, beta):
    query = ResourceNamespacesRequestBuilder.ResourceNamespacesRequestBuilderGetQueryParameters(expand=["resourceActions"])
    namespaces = run(beta.role_management.defender.resource_namespaces.get(
        request_configuration=RequestConfiguration(query_parameters=query))).value
    assert [n.id for n in namespaces] == ["microsoft.xdr"]
    assert ALERTS in [a.id for a in namespaces[0].resource_actions]


def test_a_role_and_its_assignment_round_trip(run, beta, tenant):
    defender = beta.role_management.defender
    name = f"SDK tier 1 {uuid.uuid4().hex[:6]}"
    role = run(defender.role_definitions.post(UnifiedRoleDefinition(
        display_name=name, description="Triage",
        role_permissions=[UnifiedRolePermission(allowed_resource_actions=[BASICS, ALERTS])])))
    assert role.id and role.display_name == name and role.is_built_in is False
    assert sorted(role.role_permissions[0].allowed_resource_actions) == sorted([ALERTS, BASICS])

    with pytest.raises(ODataError) as unknown:
        run(defender.role_definitions.post(UnifiedRoleDefinition(
            display_name=f"{name} typo",
            role_permissions=[UnifiedRolePermission(allowed_resource_actions=["microsoft.xdr/secops/alerts/manage"])])))
    assert unknown.value.response_status_code == 400
    assert "not a valid permission" in unknown.value.error.message

    group = tenant.objects("groups")[0]["id"]
    assignment = run(defender.role_assignments.post(UnifiedRoleAssignmentMultiple(
        display_name="Tier 1 analysts", role_definition_id=role.id, principal_ids=[group], app_scope_ids=["/"])))
    assert assignment.id and assignment.principal_ids == [group]
    with pytest.raises(ODataError) as nobody:
        run(defender.role_assignments.post(UnifiedRoleAssignmentMultiple(
            display_name="Nobody", role_definition_id=role.id, principal_ids=[str(uuid.uuid4())], app_scope_ids=["/"])))
    assert nobody.value.response_status_code == 400

    run(defender.role_definitions.by_unified_role_definition_id(role.id).patch(UnifiedRoleDefinition(
        role_permissions=[UnifiedRolePermission(allowed_resource_actions=[BASICS])])))
    read = run(defender.role_definitions.by_unified_role_definition_id(role.id).get())
    assert read.role_permissions[0].allowed_resource_actions == [BASICS]
    listed = run(defender.role_assignments.get()).value
    assert assignment.id in [a.id for a in listed]

    run(defender.role_assignments.by_unified_role_assignment_multiple_id(assignment.id).delete())
    run(defender.role_definitions.by_unified_role_definition_id(role.id).delete())
    with pytest.raises(ODataError) as gone:
        run(defender.role_definitions.by_unified_role_definition_id(role.id).get())
    assert gone.value.response_status_code == 404
