"""msgraph-beta-sdk on `deviceManagement/configurationPolicies` (beta only, per Graph's docs):
paging with the SDK's PageIterator, the OData query options, the documented create payload, GET with
`$expand=settings`, PUT, PATCH, assign, delete, a setting by id, and the policy templates."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone

import pytest
from kiota_abstractions.api_error import APIError
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_abstractions.method import Method
from msgraph_beta.generated.device_management.configuration_policies.configuration_policies_request_builder import (
    ConfigurationPoliciesRequestBuilder,
)
from msgraph_beta.generated.device_management.configuration_policies.count.count_request_builder import (
    CountRequestBuilder,
)
from msgraph_beta.generated.device_management.configuration_policies.item.assign.assign_post_request_body import (
    AssignPostRequestBody,
)
from msgraph_beta.generated.device_management.configuration_policies.item.device_management_configuration_policy_item_request_builder import (
    DeviceManagementConfigurationPolicyItemRequestBuilder,
)
from msgraph_beta.generated.device_management.configuration_policy_templates.item.setting_templates.setting_templates_request_builder import (
    SettingTemplatesRequestBuilder,
)
from msgraph_beta.generated.models.device_management_configuration_policy import DeviceManagementConfigurationPolicy
from msgraph_beta.generated.models.device_management_configuration_policy_collection_response import (
    DeviceManagementConfigurationPolicyCollectionResponse,
)
from msgraph_beta.generated.models.o_data_errors.o_data_error import ODataError
from msgraph_core.tasks.page_iterator import PageIterator

import labkit

Query = ConfigurationPoliciesRequestBuilder.ConfigurationPoliciesRequestBuilderGetQueryParameters
ItemQuery = DeviceManagementConfigurationPolicyItemRequestBuilder.DeviceManagementConfigurationPolicyItemRequestBuilderGetQueryParameters
FIREWALL_TEMPLATE = "6078910e-d808-4a9f-a51d-1b8a7bacb7c0_1"


def policies_on_disk(tenant: labkit.Tenant) -> list[dict]:
    """The tenant's policies as the lab stores them: the oracle the answers are checked against."""
    return tenant.objects("configurationPolicies")


def timestamp(text: str) -> datetime:
    # Graph writes seven fractional digits; Python reads six.
    head, _, rest = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{(rest or '0')[:6]:0<6}").replace(tzinfo=timezone.utc)


def quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


async def list_all(beta, query: Query | None = None, headers: dict | None = None) -> tuple[list, int]:
    """Every policy through the SDK's PageIterator; also the number of pages fetched."""
    config = RequestConfiguration(query_parameters=query)
    if headers:
        config.headers.add_all(headers)
    first = await beta.device_management.configuration_policies.get(request_configuration=config)
    pages = 1
    items = []
    iterator = PageIterator(first, beta.request_adapter)
    if headers:
        iterator.set_headers(headers)
    original_next = iterator.next

    async def counting_next():
        nonlocal pages
        page = await original_next()
        if page is not None:
            pages += 1
        return page

    iterator.next = counting_next
    await iterator.iterate(lambda policy: items.append(policy) or True)
    return items, pages


@pytest.fixture(scope="module")
def enough_policies(run, clients, tenant):
    """At least seven policies, so that `$top=2` makes several pages; the ones made here go again."""
    made = []

    async def create(n: int):
        for i in range(n):
            body = labkit.firewall_payload(f"SDK paging filler {i:02}")
            created = await clients.beta.device_management.configuration_policies.post(body)
            made.append(created.id)

    missing = 7 - len(policies_on_disk(tenant))
    if missing > 0:
        run(create(missing))
    yield
    for policy_id in made:
        run(clients.beta.device_management.configuration_policies.by_device_management_configuration_policy_id(
            policy_id).delete())


# ------------------------------------------------------------------------------------------- reading


def test_list_pages_through_page_iterator(run, beta, tenant, wire, enough_policies):
    items, pages = run(list_all(beta, Query(top=2)))
    on_disk = policies_on_disk(tenant)
    ids = [p.id for p in items]
    assert len(ids) == len(set(ids)), "no policy twice"
    assert sorted(ids) == sorted(p["id"] for p in on_disk)
    assert pages == (len(on_disk) + 1) // 2
    assert pages >= 3
    for exchange in wire.exchanges:
        assert exchange.url.startswith(labkit.LAB_URL + "/"), f"the SDK followed a link off the lab: {exchange.url}"


def test_list_default_page_and_typed_items(run, beta, tenant, enough_policies):
    page = run(beta.device_management.configuration_policies.get())
    assert isinstance(page, DeviceManagementConfigurationPolicyCollectionResponse)
    assert page.value, "the first page has policies"
    first = page.value[0]
    assert isinstance(first, DeviceManagementConfigurationPolicy)
    assert first.id and first.name and first.platforms is not None
    assert first.last_modified_date_time is not None


def test_count_query_option_gives_the_total(run, beta, tenant, enough_policies):
    # $count=true: @odata.count is the number of matching items in the whole collection, not on the
    # page (OData 4.01 §11.2.6.5); Intune needs no ConsistencyLevel header for it.
    page = run(beta.device_management.configuration_policies.get(
        request_configuration=RequestConfiguration(query_parameters=Query(count=True, top=2))))
    assert len(page.value) == 2
    assert page.odata_count == len(policies_on_disk(tenant))


def test_count_path_segment(run, beta, tenant, enough_policies):
    # GET /deviceManagement/configurationPolicies/$count answers the number as text/plain.
    count = run(beta.device_management.configuration_policies.count.get())
    assert count == len(policies_on_disk(tenant))


def filter_cases(policies: list[dict]) -> list[tuple[str, str, callable]]:
    names = sorted(p["name"] for p in policies)
    a, b = names[0], names[-1]
    prefix = names[len(names) // 2].split(" ")[0]
    dates = sorted(timestamp(p["lastModifiedDateTime"]) for p in policies)
    low, high = dates[1], dates[-2]
    low_text = next(p["lastModifiedDateTime"] for p in policies if timestamp(p["lastModifiedDateTime"]) == low)
    high_text = next(p["lastModifiedDateTime"] for p in policies if timestamp(p["lastModifiedDateTime"]) == high)
    when = lambda p: timestamp(p["lastModifiedDateTime"])  # noqa: E731
    return [
        ("eq", f"name eq {quoted(a)}", lambda p: p["name"].lower() == a.lower()),
        ("ne", f"name ne {quoted(a)}", lambda p: p["name"].lower() != a.lower()),
        ("startswith", f"startswith(name,{quoted(prefix)})", lambda p: p["name"].lower().startswith(prefix.lower())),
        ("in", f"name in ({quoted(a)},{quoted(b)})", lambda p: p["name"].lower() in (a.lower(), b.lower())),
        ("or", f"name eq {quoted(a)} or name eq {quoted(b)}", lambda p: p["name"].lower() in (a.lower(), b.lower())),
        ("date ge", f"lastModifiedDateTime ge {low_text}", lambda p: when(p) >= low),
        ("date le", f"lastModifiedDateTime le {high_text}", lambda p: when(p) <= high),
        ("date range", f"lastModifiedDateTime ge {low_text} and lastModifiedDateTime le {high_text}",
         lambda p: low <= when(p) <= high),
    ]


@pytest.mark.parametrize("case", ["eq", "ne", "startswith", "in", "or", "date ge", "date le", "date range"])
def test_filter(run, beta, tenant, enough_policies, case):
    on_disk = policies_on_disk(tenant)
    _, text, matches = next(c for c in filter_cases(on_disk) if c[0] == case)
    items, _ = run(list_all(beta, Query(filter=text)))
    expected = sorted(p["id"] for p in on_disk if matches(p))
    assert expected, f"the oracle matches something for {text}"
    assert sorted(p.id for p in items) == expected, text


@pytest.mark.parametrize("order", ["name", "name desc", "lastModifiedDateTime desc"])
def test_orderby(run, beta, tenant, enough_policies, order):
    items, _ = run(list_all(beta, Query(orderby=[order])))
    field, _, direction = order.partition(" ")
    reverse = direction == "desc"
    if field == "name":
        got = [p.name for p in items]
        assert got in (sorted(got, reverse=reverse), sorted(got, key=str.lower, reverse=reverse)), got
    else:
        got = [p.last_modified_date_time for p in items]
        assert got == sorted(got, reverse=reverse), got
    assert len(items) == len(policies_on_disk(tenant))


@pytest.mark.parametrize("order", ["name", "lastModifiedDateTime desc"])
def test_orderby_holds_across_pages(run, beta, tenant, enough_policies, order):
    # The nextLink of an ordered page must continue the same order where the page ended.
    items, pages = run(list_all(beta, Query(orderby=[order], top=2)))
    assert pages >= 3
    assert sorted(p.id for p in items) == sorted(p["id"] for p in policies_on_disk(tenant)), "each policy once"
    if order == "name":
        got = [p.name for p in items]
        assert got in (sorted(got), sorted(got, key=str.lower)), got
    else:
        got = [p.last_modified_date_time for p in items]
        assert got == sorted(got, reverse=True), got


def test_filter_holds_across_pages(run, beta, tenant, enough_policies):
    on_disk = policies_on_disk(tenant)
    prefix = sorted(p["name"] for p in on_disk)[len(on_disk) // 2].split(" ")[0]
    items, pages = run(list_all(beta, Query(filter=f"startswith(name,{quoted(prefix)})", top=1)))
    expected = sorted(p["id"] for p in on_disk if p["name"].lower().startswith(prefix.lower()))
    assert len(expected) >= 2
    assert sorted(p.id for p in items) == expected
    assert pages == len(expected)


def test_skip_is_applied_once_across_pages(run, beta, tenant, enough_policies):
    # The nextLink after `$skip=2&$top=3` carries on from the sixth policy: the skip is not applied
    # again on every page.
    names = [p["name"] for p in policies_on_disk(tenant)]
    items, _ = run(list_all(beta, Query(orderby=["name"], skip=2, top=3)))
    assert [p.name for p in items] in (sorted(names)[2:], sorted(names, key=str.lower)[2:])


def test_count_with_filter(run, beta, tenant, enough_policies):
    on_disk = policies_on_disk(tenant)
    prefix = sorted(p["name"] for p in on_disk)[0].split(" ")[0]
    text = f"startswith(name,{quoted(prefix)})"
    expected = len([p for p in on_disk if p["name"].lower().startswith(prefix.lower())])
    page = run(beta.device_management.configuration_policies.get(
        request_configuration=RequestConfiguration(query_parameters=Query(count=True, filter=text, top=1))))
    assert page.odata_count == expected
    count_query = CountRequestBuilder.CountRequestBuilderGetQueryParameters(filter=text)
    assert run(beta.device_management.configuration_policies.count.get(
        request_configuration=RequestConfiguration(query_parameters=count_query))) == expected


def test_top(run, beta, enough_policies):
    page = run(beta.device_management.configuration_policies.get(
        request_configuration=RequestConfiguration(query_parameters=Query(top=3))))
    assert len(page.value) == 3
    assert page.odata_next_link, "more policies follow"


def test_skip(run, beta, tenant, enough_policies):
    names = [p["name"] for p in policies_on_disk(tenant)]
    # Ordinal or case-insensitive ordering: either is taken, as in test_orderby.
    expected = (sorted(names)[2:5], sorted(names, key=str.lower)[2:5])
    page = run(beta.device_management.configuration_policies.get(
        request_configuration=RequestConfiguration(query_parameters=Query(orderby=["name"], skip=2, top=3))))
    assert [p.name for p in page.value] in expected


def test_select(run, beta, tenant, enough_policies):
    page = run(beta.device_management.configuration_policies.get(
        request_configuration=RequestConfiguration(query_parameters=Query(select=["id", "name"]))))
    assert page.value
    for policy in page.value:
        assert policy.id and policy.name
        assert policy.description is None and policy.platforms is None and policy.setting_count is None
        assert policy.settings is None


@pytest.mark.parametrize("option", ["$search", "$apply"])
def test_unsupported_query_option_is_a_400(run, beta, option):
    builder = beta.device_management.configuration_policies
    if option == "$search":
        call = builder.get(request_configuration=RequestConfiguration(query_parameters=Query(search='"firewall"')))
    else:
        # The SDK has no $apply parameter; a raw URL through with_url is how a user would send it.
        call = builder.with_url(f"{labkit.LAB_URL}/beta/deviceManagement/configurationPolicies"
                                "?$apply=groupby((platforms))").get()
    with pytest.raises(APIError) as raised:
        run(call)
    assert raised.value.response_status_code == 400


def test_missing_policy_is_an_odata_404(run, beta):
    with pytest.raises(ODataError) as raised:
        run(beta.device_management.configuration_policies.by_device_management_configuration_policy_id(
            "00000000-0000-0000-0000-000000000000").get())
    assert raised.value.response_status_code == 404
    assert raised.value.error.code == "ResourceNotFound"


# ------------------------------------------------------------------------------------------- writing


@pytest.fixture
def created(run, beta):
    """A policy created through the SDK from the documented payload; deleted afterwards if still there."""
    policy = run(beta.device_management.configuration_policies.post(labkit.firewall_payload("SDK firewall")))
    yield policy
    try:
        run(beta.device_management.configuration_policies.by_device_management_configuration_policy_id(
            policy.id).delete())
    except APIError as error:
        if error.response_status_code != 404:
            raise


def item(beta, policy_id: str):
    return beta.device_management.configuration_policies.by_device_management_configuration_policy_id(policy_id)


def with_settings(beta, run, policy_id: str) -> DeviceManagementConfigurationPolicy:
    return run(item(beta, policy_id).get(
        request_configuration=RequestConfiguration(query_parameters=ItemQuery(expand=["settings"]))))


def test_create_from_documented_payload(run, beta, tenant, wire, created):
    assert created.id and created.name == "SDK firewall"
    assert created.created_date_time is not None
    assert created.template_reference.template_id == FIREWALL_TEMPLATE
    assert created.template_reference.template_family.value == "endpointSecurityFirewall"
    post = next(e for e in wire.exchanges if e.method == "POST")
    assert post.status == 201
    assert (tenant.path / "configurationPolicies" / f"{created.id}.json").is_file()


def test_get_with_expand_settings(run, beta, created):
    policy = with_settings(beta, run, created.id)
    sent = labkit.fixture_json("configurationPolicy-create-firewall.request.json")["settings"]
    assert policy.settings is not None
    assert [s.setting_instance.setting_definition_id for s in policy.settings] == \
        [s["settingInstance"]["settingDefinitionId"] for s in sent]
    assert policy.setting_count == len(sent)
    first = policy.settings[0].setting_instance
    assert first.odata_type == "#microsoft.graph.deviceManagementConfigurationChoiceSettingInstance"
    assert first.choice_setting_value.children, "child settings survive the round trip"


def test_setting_by_id(run, beta, created):
    policy = with_settings(beta, run, created.id)
    setting_id = policy.settings[1].id
    setting = run(item(beta, created.id).settings.by_device_management_configuration_setting_id(setting_id).get())
    assert setting.id == setting_id
    assert setting.setting_instance.setting_definition_id == policy.settings[1].setting_instance.setting_definition_id


def test_put_replaces_the_policy(run, beta, created, wire):
    # The generated SDK has only PATCH (the one method Graph documents); tools that replace a policy's
    # settings (IntuneCD, Microsoft365DSC) PUT the whole policy, expecting 204. With the SDK that is the
    # PATCH request information sent as PUT through the request adapter.
    data = labkit.fixture_json("configurationPolicy-create-firewall.request.json")
    data["name"] = "SDK firewall replaced"
    data["settings"] = data["settings"][:2]
    body = labkit.policy_payload(data)
    info = item(beta, created.id).to_patch_request_information(body)
    info.http_method = Method.PUT
    run(beta.request_adapter.send_no_response_content_async(info, {"XXX": ODataError}))
    assert wire.exchanges[-1].status == 204
    policy = with_settings(beta, run, created.id)
    assert policy.name == "SDK firewall replaced"
    assert len(policy.settings) == 2 and policy.setting_count == 2


def test_patch_changes_only_what_it_names(run, beta, created):
    run(item(beta, created.id).patch(DeviceManagementConfigurationPolicy(description="patched by the SDK")))
    policy = with_settings(beta, run, created.id)
    assert policy.description == "patched by the SDK"
    assert policy.name == "SDK firewall"
    assert len(policy.settings) == 3


def test_assign_from_documented_payload(run, beta, tenant, created):
    groups = tenant.objects("groups")
    assert groups, "the tenant has groups"
    data = labkit.fixture_json("configurationPolicy-assign.request.json")
    # The documented sample carries the script's placeholder group id; a real group is assigned here.
    data["assignments"][0]["target"]["groupId"] = groups[0]["id"]
    body = labkit.parse_model(data, AssignPostRequestBody)
    answer = run(item(beta, created.id).assign.post(body))
    assert [a.target.group_id for a in answer.value] == [groups[0]["id"]]
    assert answer.value[0].target.odata_type == "#microsoft.graph.groupAssignmentTarget"
    listed = run(item(beta, created.id).assignments.get())
    assert [a.target.group_id for a in listed.value] == [groups[0]["id"]]
    policy = run(item(beta, created.id).get())
    assert policy.is_assigned is True


def test_delete(run, beta, tenant, created):
    run(item(beta, created.id).delete())
    with pytest.raises(ODataError) as raised:
        run(item(beta, created.id).get())
    assert raised.value.response_status_code == 404
    assert not (tenant.path / "configurationPolicies" / f"{created.id}.json").exists()


# ------------------------------------------------------------------------------------------ templates


def test_policy_templates_and_setting_templates_with_definitions(run, beta):
    templates = run(beta.device_management.configuration_policy_templates.get())
    assert templates.value, "Intune lists its policy templates"
    firewall = next((t for t in templates.value if t.id == FIREWALL_TEMPLATE), None)
    assert firewall is not None, [t.id for t in templates.value]
    assert firewall.template_family.value == "endpointSecurityFirewall"
    one = run(beta.device_management.configuration_policy_templates.by_device_management_configuration_policy_template_id(
        FIREWALL_TEMPLATE).get())
    assert one.id == FIREWALL_TEMPLATE and one.display_name
    query = SettingTemplatesRequestBuilder.SettingTemplatesRequestBuilderGetQueryParameters(expand=["settingDefinitions"])
    settings = run(beta.device_management.configuration_policy_templates.by_device_management_configuration_policy_template_id(
        FIREWALL_TEMPLATE).setting_templates.get(request_configuration=RequestConfiguration(query_parameters=query)))
    assert settings.value
    definition_ids = {d.id for s in settings.value for d in (s.setting_definitions or [])}
    assert "vendor_msft_firewall_mdmstore_domainprofile_enablefirewall" in definition_ids
    instance_ids = {s.setting_instance_template.setting_definition_id for s in settings.value}
    assert "vendor_msft_firewall_mdmstore_domainprofile_enablefirewall" in instance_ids
