"""msgraph-sdk (v1.0) on Microsoft Defender XDR: incidents, an incident with `$expand=alerts`, an
incident's update (triage), alerts_v2, advanced hunting (`security/runHuntingQuery`); and the fleet
views' reads: Intune managed devices and Entra ID Protection risky users."""

from __future__ import annotations

from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.models.security.hunting_query_results import HuntingQueryResults
from msgraph.generated.models.security.incident import Incident
from msgraph.generated.models.security.incident_status import IncidentStatus
from msgraph.generated.models.security.alert_classification import AlertClassification
from msgraph.generated.security.incidents.item.incident_item_request_builder import IncidentItemRequestBuilder
from msgraph.generated.security.microsoft_graph_security_run_hunting_query.run_hunting_query_post_request_body import (
    RunHuntingQueryPostRequestBody,
)
from msgraph_core.tasks.page_iterator import PageIterator


async def every(v1, first):
    found = []
    await PageIterator(first, v1.request_adapter).iterate(lambda x: found.append(x) or True)
    return found


def test_incidents_list(run, v1, tenant):
    incidents = run(every(v1, run(v1.security.incidents.get())))
    assert sorted(i.id for i in incidents) == sorted(i["id"] for i in tenant.objects("incidents"))
    assert all(isinstance(i, Incident) and i.display_name and i.severity is not None for i in incidents)


def test_incident_with_expanded_alerts(run, v1, tenant):
    stored = tenant.objects("incidents")[0]
    query = IncidentItemRequestBuilder.IncidentItemRequestBuilderGetQueryParameters(expand=["alerts"])
    incident = run(v1.security.incidents.by_incident_id(stored["id"]).get(
        request_configuration=RequestConfiguration(query_parameters=query)))
    assert incident.id == stored["id"] and incident.display_name == stored["displayName"]
    # An incident is a set of correlated alerts: it has one at least.
    assert incident.alerts, "the expanded incident carries its alerts"
    assert all(a.incident_id == incident.id for a in incident.alerts)


def test_alerts_v2(run, v1, tenant):
    alerts = run(every(v1, run(v1.security.alerts_v2.get())))
    assert alerts, "incidents have alerts"
    incidents = {i["id"] for i in tenant.objects("incidents")}
    assert all(a.id and a.title and a.incident_id in incidents for a in alerts)
    # Every incident's expanded alerts are the alerts_v2 naming it.
    stored = sorted(incidents)[0]
    query = IncidentItemRequestBuilder.IncidentItemRequestBuilderGetQueryParameters(expand=["alerts"])
    incident = run(v1.security.incidents.by_incident_id(stored).get(
        request_configuration=RequestConfiguration(query_parameters=query)))
    assert sorted(a.id for a in incident.alerts) == sorted(a.id for a in alerts if a.incident_id == stored)


def test_advanced_hunting(run, v1, tenant):
    results = run(v1.security.microsoft_graph_security_run_hunting_query.post(
        RunHuntingQueryPostRequestBody(query="DeviceInfo | take 5")))
    assert isinstance(results, HuntingQueryResults)
    assert results.schema and all(column.name and column.type for column in results.schema)
    assert results.results is not None and len(results.results) <= 5, "`take 5`"
    columns = {column.name for column in results.schema}
    for row in results.results:
        assert set(row.additional_data) <= columns


def test_incident_update(run, v1, tenant):
    stored = sorted(tenant.objects("incidents"), key=lambda i: i["id"])[0]
    changes = Incident(
        status=IncidentStatus.InProgress,
        classification=AlertClassification.TruePositive,
        assigned_to="soc@contoso.example",
        custom_tags=["triaged-by-sdk"],
    )
    updated = run(v1.security.incidents.by_incident_id(stored["id"]).patch(changes))
    assert updated.id == stored["id"]
    assert updated.status == IncidentStatus.InProgress and updated.assigned_to == "soc@contoso.example"
    assert updated.custom_tags == ["triaged-by-sdk"]
    again = next(i for i in tenant.objects("incidents") if i["id"] == stored["id"])
    assert (again["status"], again["classification"]) == ("inProgress", "truePositive"), "the lab stored it"


def test_managed_devices(run, v1, tenant):
    devices = run(every(v1, run(v1.device_management.managed_devices.get())))
    assert sorted(d.id for d in devices) == sorted(d["id"] for d in tenant.objects("managedDevices"))
    assert all(d.device_name and d.compliance_state is not None and d.last_sync_date_time for d in devices)


def test_risky_users(run, v1, tenant):
    users = run(every(v1, run(v1.identity_protection.risky_users.get())))
    assert sorted(u.id for u in users) == sorted(u["id"] for u in tenant.objects("riskyUsers"))
    assert all(u.user_principal_name and u.risk_level is not None and u.risk_state is not None for u in users)
