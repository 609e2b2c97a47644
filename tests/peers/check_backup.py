"""Checks what intunecd-backup.sh left in OUT_DIR against the lab's stored state.

    python check_backup.py STATE_DIR OUT_DIR

Run with any Python 3 (the venv's in tests/peers.rs). Prints one line per problem and exits 1 if there
is any, else prints a summary and exits 0. It checks:

1. IntuneCD's log (OUT_DIR/intunecd.log) has no error: no `[ERROR]` line, no traceback, and none of
   the lines IntuneCD writes for a Graph answer other than the one it expected ("Request failed with
   status", "Resource not found in Microsoft Graph"), which it logs at INFO and otherwise ignores.
2. The lab counted no answer >= 400 (OUT_DIR/stats.json), whatever IntuneCD made of it.
3. Every Settings Catalog policy of the tenant (STATE_DIR/tenants/<tid>/configurationPolicies/*.json)
   is in OUT_DIR/backup/Settings Catalog/ exactly once, as "<name>_<last technology>__<id>.json"
   (--append-id), and no other policy is there; and each file says what the lab stores, as IntuneCD
   transforms it:
   - `settings`: equal to the stored `settings`, element for element (IntuneCD writes the `value` of
     `GET configurationPolicies/{id}/settings` as it came, each setting's own `id` included);
   - removed by IntuneCD (IntuneCDBase.remove_keys, top level only): id, version, createdDateTime,
     lastModifiedDateTime, isAssigned, @odata.context — they must be absent;
   - kept as stored: name, description, platforms, technologies, templateReference, settingCount,
     creationSource, priorityMetaData (those the stored policy has);
   - `roleScopeTagIds`: each stored id replaced by its scope tag's displayName, the names taken from
     OUT_DIR/backup/Scope Tags/<displayName>__<id>.json (IntuneCD's backup of the tenant's tags);
   - `assignments` (present only when the policy has some): each stored assignment without id,
     sourceId and target.groupId; a group target gains groupName (the stored group's displayName)
     and groupType (DynamicMembership with membershipRule when the group is dynamic, else
     StaticMembership); compared as a multiset. A non-null assignment filter id is reported as not
     covered here (lab init makes none).
"""

import glob
import json
import os
import re
import sys

REMOVED = ["id", "version", "createdDateTime", "lastModifiedDateTime", "isAssigned", "@odata.context"]
KEPT = ["name", "description", "platforms", "technologies", "templateReference", "settingCount",
        "creationSource", "priorityMetaData"]
LOG_FAILURES = ["[ERROR]", "Traceback (most recent call last)", "Request failed with status",
                "Resource not found in Microsoft Graph"]


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def canonical(value):
    return json.dumps(value, sort_keys=True)


def main(state, out):
    problems = []
    tenants = sorted(os.listdir(os.path.join(state, "tenants")))
    tenant = os.environ.get("TENANT") or tenants[0]
    tdir = os.path.join(state, "tenants", tenant)

    # 1. IntuneCD's log.
    log_path = os.path.join(out, "intunecd.log")
    with open(log_path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            if any(mark in line for mark in LOG_FAILURES):
                problems.append(f"intunecd.log:{number}: {line.rstrip()[:400]}")

    # 2. What the lab answered.
    stats = load(os.path.join(out, "stats.json"))
    for row in stats.get("requests", []):
        if row["status"] >= 400:
            problems.append(f"the lab answered {row['status']} to {row['route']} ({row['count']}x)")

    # 3. The Settings Catalog backup.
    policies = {p["id"]: p for p in map(load, glob.glob(os.path.join(tdir, "configurationPolicies", "*.json")))}
    groups = {g["id"]: g for g in map(load, glob.glob(os.path.join(tdir, "groups", "*.json")))}
    backup = os.path.join(out, "backup")
    tag_names = {}
    for path in glob.glob(os.path.join(backup, "Scope Tags", "*.json")):
        m = re.search(r"__([^_/]+)\.json$", path)
        if m:
            tag_names[m.group(1)] = load(path).get("displayName")
    files = {}
    for path in glob.glob(os.path.join(backup, "Settings Catalog", "*.json")):
        m = re.search(r"__([0-9a-fA-F-]{36})\.json$", path)
        if not m:
            problems.append(f"{path}: no policy id in the file name (was --append-id given?)")
            continue
        files.setdefault(m.group(1), []).append(path)
    for pid in sorted(set(files) - set(policies)):
        problems.append(f"backed up, not in the lab: {files[pid]}")

    for pid, stored in sorted(policies.items()):
        paths = files.get(pid, [])
        if len(paths) != 1:
            problems.append(f"policy {pid} ({stored.get('name')!r}): {len(paths)} backup files {paths}")
            continue
        path = paths[0]
        got = load(path)
        where = f"{os.path.basename(path)}"
        technology = str(stored.get("technologies")).rsplit(",", 1)[-1]
        if not os.path.basename(path).startswith(f"{stored['name']}_{technology}__"):
            problems.append(f"{where}: file name is not '{stored['name']}_{technology}__{pid}.json'")
        if got.get("settings") != stored.get("settings"):
            problems.append(f"{where}: settings differ from the lab's\n  lab:    {canonical(stored.get('settings'))[:600]}\n  backup: {canonical(got.get('settings'))[:600]}")
        for key in REMOVED:
            if key in got:
                problems.append(f"{where}: {key} present, IntuneCD removes it")
        for key in KEPT:
            if key in stored and got.get(key, "<absent>") != stored[key]:
                problems.append(f"{where}: {key} is {got.get(key, '<absent>')!r}, the lab's {stored[key]!r}")
        wanted_tags = []
        for tag in stored.get("roleScopeTagIds") or []:
            if tag not in tag_names:
                problems.append(f"{where}: scope tag {tag!r} not in the backup's Scope Tags")
            wanted_tags.append(tag_names.get(tag, tag))
        if "roleScopeTagIds" in stored and got.get("roleScopeTagIds") != wanted_tags:
            problems.append(f"{where}: roleScopeTagIds {got.get('roleScopeTagIds')!r}, wanted {wanted_tags!r}")
        wanted = []
        for assignment in stored.get("assignments") or []:
            a = json.loads(json.dumps(assignment))
            for key in ("id", "sourceId", "groupId"):
                a.pop(key, None)
            target = a["target"]
            group_id = target.pop("groupId", None)
            target.pop("id", None)
            target.pop("sourceId", None)
            if group_id is not None:
                group = groups.get(group_id)
                if group is None:
                    problems.append(f"{where}: the lab's assignment names group {group_id}, not in its groups")
                    continue
                target["groupName"] = group.get("displayName", "")
                if "DynamicMembership" in (group.get("groupTypes") or []):
                    target["groupType"] = "DynamicMembership"
                    target["membershipRule"] = group.get("membershipRule")
                else:
                    target["groupType"] = "StaticMembership"
            filter_id = target.get("deviceAndAppManagementAssignmentFilterId")
            if filter_id not in (None, "00000000-0000-0000-0000-000000000000"):
                problems.append(f"{where}: assignment filter {filter_id} not covered by this check")
            wanted.append(a)
        have = got.get("assignments") or []
        if sorted(map(canonical, have)) != sorted(map(canonical, wanted)):
            problems.append(f"{where}: assignments differ\n  wanted: {canonical(wanted)}\n  backup: {canonical(have)}")

    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s)")
        return 1
    print(f"tenant {tenant}: {len(policies)} Settings Catalog policies backed up, settings, scope tags and "
          f"assignments as the lab stores them; IntuneCD logged no error; the lab answered no request >= 400")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
