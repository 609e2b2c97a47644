"""Runs the Argo CD health check of deploy/argocd/health.yaml on a Kubernetes object, as Argo CD does:
the object as the Lua table `obj`, the script's result printed as JSON. Usage: health.py SCRIPT < OBJECT.json"""
import json
import sys

import lupa

script = open(sys.argv[1]).read()
obj = json.load(sys.stdin)
lua = lupa.LuaRuntime(unpack_returned_tuples=True)


def table(value):
    if isinstance(value, dict):
        return lua.table_from({k: table(v) for k, v in value.items()})
    if isinstance(value, list):
        return lua.table_from([table(v) for v in value])
    return value


check = lua.eval("function(obj) " + script + " end")
result = check(table(obj))
print(json.dumps({"status": result["status"], "message": result["message"]}))
