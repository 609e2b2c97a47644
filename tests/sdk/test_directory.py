"""msgraph-sdk (v1.0) on groups: list with paging, get by id, `$filter`, `$select`, `$count`."""

from __future__ import annotations

import pytest
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.groups.count.count_request_builder import CountRequestBuilder
from msgraph.generated.groups.groups_request_builder import GroupsRequestBuilder
from msgraph.generated.models.group import Group
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph_core.tasks.page_iterator import PageIterator

Query = GroupsRequestBuilder.GroupsRequestBuilderGetQueryParameters


def quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


async def all_groups(v1, query: Query | None = None, headers: dict | None = None) -> list[Group]:
    config = RequestConfiguration(query_parameters=query)
    if headers:
        config.headers.add_all(headers)
    first = await v1.groups.get(request_configuration=config)
    found: list[Group] = []
    iterator = PageIterator(first, v1.request_adapter)
    if headers:
        iterator.set_headers(headers)
    await iterator.iterate(lambda group: found.append(group) or True)
    return found


def test_list_all_groups_page_by_page(run, v1, tenant):
    on_disk = tenant.objects("groups")
    assert len(on_disk) >= 2
    groups = run(all_groups(v1, Query(top=1)))
    assert sorted(g.id for g in groups) == sorted(g["id"] for g in on_disk)
    assert all(isinstance(g, Group) and g.display_name for g in groups)


def test_get_group_by_id(run, v1, tenant):
    expected = tenant.objects("groups")[0]
    group = run(v1.groups.by_group_id(expected["id"]).get())
    assert (group.id, group.display_name, group.security_enabled) == \
        (expected["id"], expected["displayName"], expected["securityEnabled"])


def test_missing_group_is_an_odata_404(run, v1):
    with pytest.raises(ODataError) as raised:
        run(v1.groups.by_group_id("00000000-0000-0000-0000-000000000000").get())
    assert raised.value.response_status_code == 404
    assert raised.value.error.code == "Request_ResourceNotFound"


def test_filter_by_display_name_eq(run, v1, tenant):
    expected = tenant.objects("groups")[1]
    groups = run(all_groups(v1, Query(filter=f"displayName eq {quoted(expected['displayName'])}")))
    assert [g.id for g in groups] == [expected["id"]]


def test_filter_startswith(run, v1, tenant):
    on_disk = tenant.objects("groups")
    prefix = on_disk[0]["displayName"][:3]
    groups = run(all_groups(v1, Query(filter=f"startswith(displayName,{quoted(prefix)})")))
    assert sorted(g.id for g in groups) == \
        sorted(g["id"] for g in on_disk if g["displayName"].lower().startswith(prefix.lower()))


def test_select(run, v1):
    page = run(v1.groups.get(request_configuration=RequestConfiguration(
        query_parameters=Query(select=["id", "displayName"]))))
    assert page.value
    assert all(g.id and g.display_name and g.description is None and g.mail_nickname is None for g in page.value)


def test_count_with_consistency_level(run, v1, tenant):
    # $count on directory objects is an advanced query: it needs ConsistencyLevel: eventual.
    config = RequestConfiguration(query_parameters=Query(count=True, top=1))
    config.headers.add("ConsistencyLevel", "eventual")
    page = run(v1.groups.get(request_configuration=config))
    assert page.odata_count == len(tenant.objects("groups"))
    config = RequestConfiguration(query_parameters=CountRequestBuilder.CountRequestBuilderGetQueryParameters())
    config.headers.add("ConsistencyLevel", "eventual")
    assert run(v1.groups.count.get(request_configuration=config)) == len(tenant.objects("groups"))
