#!/usr/bin/env python3
"""Validates recorded answers of the Peering API against its OpenAPI
document (docs/peering-api.openapi.json) with python3-jsonschema.

usage: openapi_check.py OPENAPI.json LOG
LOG has one answer per line: METHOD PATH-TEMPLATE STATUS BODY-FILE, e.g.
"GET /sessions/{session_id} 200 /tmp/x/17.json". An answer whose status
the document does not list for that operation fails, as does a body the
schema refuses. Prints one line per failure and a count."""
import json
import sys

from jsonschema import Draft202012Validator


def pointer(*parts):
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def main():
    doc = json.load(open(sys.argv[1]))
    Draft202012Validator.check_schema({k: v for k, v in doc["components"]["schemas"].items()})
    failures = checked = 0
    for line in open(sys.argv[2]):
        method, path, status, body_file = line.split()
        op = doc["paths"].get(path, {}).get(method.lower())
        if op is None:
            print(f"FAIL: {method} {path}: not in the document")
            failures += 1
            continue
        if status not in op["responses"]:
            print(f"FAIL: {method} {path} answered {status}, which the document does not list")
            failures += 1
            continue
        schema = dict(doc)
        schema["$ref"] = pointer("paths", path, method.lower(), "responses", status, "content",
                                 "application/json", "schema")
        try:
            body = json.load(open(body_file))
        except ValueError as e:
            print(f"FAIL: {method} {path} {status}: the body is not JSON ({e})")
            failures += 1
            continue
        errors = sorted(Draft202012Validator(schema).iter_errors(body), key=str)
        checked += 1
        for e in errors[:3]:
            print(f"FAIL: {method} {path} {status}: {e.message} at {list(e.absolute_path)}")
        failures += bool(errors)
    print(f"openapi: {checked} answers checked, {failures} failed")
    sys.exit(1 if failures or checked == 0 else 0)


main()
