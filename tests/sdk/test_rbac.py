"""msgraph-sdk (v1.0) on Intune RBAC: built-in and custom role definitions, role assignments."""

from __future__ import annotations

import pytest
from kiota_abstractions.api_error import APIError
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.device_management.role_assignments.item.device_and_app_management_role_assignment_item_request_builder import (
    DeviceAndAppManagementRoleAssignmentItemRequestBuilder,
)
from msgraph.generated.models.device_and_app_management_role_assignment import DeviceAndAppManagementRoleAssignment
from msgraph.generated.models.device_and_app_management_role_definition import DeviceAndAppManagementRoleDefinition
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.resource_action import ResourceAction
from msgraph.generated.models.role_permission import RolePermission

import labkit

READ = "Microsoft.Intune_DeviceConfigurations_Read"


@pytest.fixture
def custom_role(run, v1):
    role = run(v1.device_management.role_definitions.post(DeviceAndAppManagementRoleDefinition(
        display_name="SDK policy reader",
        description="Reads device configurations",
        role_permissions=[RolePermission(resource_actions=[ResourceAction(
            allowed_resource_actions=[READ], not_allowed_resource_actions=[])])],
    )))
    yield role
    try:
        run(v1.device_management.role_definitions.by_role_definition_id(role.id).delete())
    except APIError as error:
        if error.response_status_code != 404:
            raise


def test_built_in_role_definitions_are_listed(run, v1):
    page = run(v1.device_management.role_definitions.get())
    built_in = [r for r in page.value if r.is_built_in]
    assert built_in, "Intune always lists its built-in roles"
    assert all(isinstance(r, DeviceAndAppManagementRoleDefinition) for r in page.value)
    one = run(v1.device_management.role_definitions.by_role_definition_id(built_in[0].id).get())
    assert one.display_name == built_in[0].display_name and one.is_built_in
    assert one.role_permissions and one.role_permissions[0].resource_actions[0].allowed_resource_actions


def test_built_in_role_cannot_be_deleted(run, v1):
    page = run(v1.device_management.role_definitions.get())
    built_in = next(r for r in page.value if r.is_built_in)
    with pytest.raises(ODataError) as raised:
        run(v1.device_management.role_definitions.by_role_definition_id(built_in.id).delete())
    assert raised.value.response_status_code == 400


def test_custom_role_definition_lifecycle(run, v1, custom_role):
    assert custom_role.id and custom_role.is_built_in is False
    listed = run(v1.device_management.role_definitions.get())
    assert custom_role.id in [r.id for r in listed.value]
    run(v1.device_management.role_definitions.by_role_definition_id(custom_role.id).patch(
        DeviceAndAppManagementRoleDefinition(description="Reads device configurations (patched)")))
    again = run(v1.device_management.role_definitions.by_role_definition_id(custom_role.id).get())
    assert again.description == "Reads device configurations (patched)"
    assert again.role_permissions[0].resource_actions[0].allowed_resource_actions == [READ]


def test_role_assignment_lifecycle(run, v1, tenant, custom_role):
    group = tenant.objects("groups")[0]["id"]
    body = DeviceAndAppManagementRoleAssignment(
        display_name="SDK readers", description="Policy readers", members=[group], resource_scopes=[group])
    # Intune binds an assignment to its definition with an @odata.bind annotation, which the typed
    # model has no property for: it goes as additional data.
    body.additional_data["roleDefinition@odata.bind"] = \
        f"{labkit.LAB_URL}/v1.0/deviceManagement/roleDefinitions/{custom_role.id}"
    created = run(v1.device_management.role_assignments.post(body))
    try:
        assert created.id and created.members == [group]
        listed = run(v1.device_management.role_assignments.get())
        assert created.id in [a.id for a in listed.value]
        query = DeviceAndAppManagementRoleAssignmentItemRequestBuilder.DeviceAndAppManagementRoleAssignmentItemRequestBuilderGetQueryParameters(
            expand=["roleDefinition"])
        expanded = run(v1.device_management.role_assignments.by_device_and_app_management_role_assignment_id(
            created.id).get(request_configuration=RequestConfiguration(query_parameters=query)))
        assert expanded.role_definition is not None and expanded.role_definition.id == custom_role.id
    finally:
        run(v1.device_management.role_assignments.by_device_and_app_management_role_assignment_id(created.id).delete())
    with pytest.raises(ODataError) as raised:
        run(v1.device_management.role_assignments.by_device_and_app_management_role_assignment_id(created.id).get())
    assert raised.value.response_status_code == 404
