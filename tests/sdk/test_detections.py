"""msgraph-beta-sdk on Defender's custom detection rules (`security/rules/detectionRules`): a rule
built from the SDK's own models is created under the id the client chose, read back and listed as the
SDK's types, a second create of that id answers 409 as the SDK raises it, an update, a delete."""

from __future__ import annotations

import datetime
import uuid

import pytest
from msgraph_beta.generated.models.o_data_errors.o_data_error import ODataError
from msgraph_beta.generated.models.security.alert_severity import AlertSeverity
from msgraph_beta.generated.models.security.alert_template import AlertTemplate
from msgraph_beta.generated.models.security.automated_action_set import AutomatedActionSet
from msgraph_beta.generated.models.security.detection_action import DetectionAction
from msgraph_beta.generated.models.security.detection_rule import DetectionRule
from msgraph_beta.generated.models.security.detection_rule_status import DetectionRuleStatus
from msgraph_beta.generated.models.security.entity_mapping_configuration import EntityMappingConfiguration
from msgraph_beta.generated.models.security.host_entity_mapping import HostEntityMapping
from msgraph_beta.generated.models.security.incident_configuration import IncidentConfiguration
from msgraph_beta.generated.models.security.isolate_device_action import IsolateDeviceAction
from msgraph_beta.generated.models.security.isolation_type import IsolationType
from msgraph_beta.generated.models.security.mitre_tactic import MitreTactic
from msgraph_beta.generated.models.security.mitre_technique import MitreTechnique
from msgraph_beta.generated.models.security.query_condition import QueryCondition
from msgraph_beta.generated.models.security.rule_schedule import RuleSchedule


def rule(rule_id: str, name: str) -> DetectionRule:
    return DetectionRule(
        id=rule_id,
        display_name=name,
        description="Office started a script host.",
        status=DetectionRuleStatus.Enabled,
        query_condition=QueryCondition(
            query_text="DeviceProcessEvents | where InitiatingProcessFileName =~ 'winword.exe'"
            " | project Timestamp, ReportId, DeviceId"
        ),
        # The SDK writes a timedelta as "1:00:00", not ISO 8601: Graph's Edm.Duration is given as text.
        schedule=RuleSchedule(frequency="PT1H"),
        detection_action=DetectionAction(
            alert_template=AlertTemplate(
                title=f"{name} alert",
                description="An Office application started a script interpreter.",
                severity=AlertSeverity.Medium,
                tactics=[MitreTactic(tactic="Execution", techniques=[
                    MitreTechnique(technique="T1204", sub_techniques=["T1204.002"])])],
                entity_mappings=EntityMappingConfiguration(hosts=[HostEntityMapping(device_id_column="DeviceId")]),
            ),
            automated_actions=AutomatedActionSet(isolate_devices=[
                IsolateDeviceAction(device_id_column="DeviceId", isolation_type=IsolationType.Full)]),
            incident_configuration=IncidentConfiguration(is_excluded_from_incident_correlation=True),
        ),
    )


def test_a_rule_is_created_under_the_clients_id_and_read_back(run, beta):
    rule_id = f"sdk-{uuid.uuid4().hex[:12]}"
    rules = beta.security.rules.detection_rules
    created = run(rules.post(rule(rule_id, f"SDK rule {rule_id}")))
    assert isinstance(created, DetectionRule)
    assert created.id == rule_id and created.status == DetectionRuleStatus.Enabled
    assert isinstance(created.created_date_time, datetime.datetime)

    read = run(rules.by_detection_rule_id(rule_id).get())
    assert read.schedule.frequency == datetime.timedelta(hours=1), "the SDK reads the ISO duration"
    template = read.detection_action.alert_template
    assert template.severity == AlertSeverity.Medium
    assert template.tactics[0].techniques[0].sub_techniques == ["T1204.002"]
    assert template.entity_mappings.hosts[0].device_id_column == "DeviceId"
    isolate = read.detection_action.automated_actions.isolate_devices[0]
    assert (isolate.device_id_column, isolate.isolation_type) == ("DeviceId", IsolationType.Full)
    assert read.detection_action.incident_configuration.is_excluded_from_incident_correlation is True
    listed = run(rules.get()).value
    assert rule_id in [r.id for r in listed]

    with pytest.raises(ODataError) as refused:
        run(rules.post(rule(rule_id, f"Another name {rule_id}")))
    assert refused.value.response_status_code == 409

    run(rules.by_detection_rule_id(rule_id).patch(DetectionRule(status=DetectionRuleStatus.Disabled)))
    assert run(rules.by_detection_rule_id(rule_id).get()).status == DetectionRuleStatus.Disabled
    run(rules.by_detection_rule_id(rule_id).delete())
    with pytest.raises(ODataError) as gone:
        run(rules.by_detection_rule_id(rule_id).get())
    assert gone.value.response_status_code == 404


def test_a_near_real_time_rule_with_let_is_refused(run, beta):
    nrt = rule(f"nrt-{uuid.uuid4().hex[:12]}", f"NRT {uuid.uuid4().hex[:6]}")
    nrt.schedule = RuleSchedule(frequency="PT0S")
    nrt.query_condition = QueryCondition(query_text="let x = 1; DeviceProcessEvents | project Timestamp, ReportId, DeviceId")
    with pytest.raises(ODataError) as refused:
        run(beta.security.rules.detection_rules.post(nrt))
    assert refused.value.response_status_code == 400
    assert "let" in refused.value.error.message
