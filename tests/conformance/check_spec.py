#!/usr/bin/env python3
"""Conformance: check recorded traffic against the official Genesys API definitions.

Reads gcsim request logs (JSON Lines, one object per request, see docs/gcsim-scenarios.md) and
checks, for every /api/v2/ request:

  * the operation exists in the spec with that method and path template;
  * the request body gcmsg sent conforms to the operation's body schema;
  * the response body gcsim answered conforms to the schema of that status code
    (2xx: the operation's model; 4xx/5xx: ErrorBody).

The validator is written here, independently of gcsim's own model tables, so that a mistake in
one cannot hide behind the same mistake in the other.

Usage: check_spec.py SPEC.json LOG.jsonl|DIR [...]
Exit 0 all conform, 1 violations, 77 spec absent (CTest SKIP_RETURN_CODE), 2 usage/no traffic.
"""
import json
import os
import re
import sys

DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
INT32 = (-(2 ** 31), 2 ** 31 - 1)
INT64 = (-(2 ** 63), 2 ** 63 - 1)


class Validator:
    def __init__(self, spec):
        self.spec = spec
        self.defs = spec.get("definitions", {})
        self.ops = {}  # operationId -> (method, path template, operation)
        for path, item in spec["paths"].items():
            for method, op in item.items():
                if method == "parameters":
                    continue
                self.ops[op["operationId"]] = (method.upper(), path, op)

    def resolve(self, schema):
        seen = 0
        while "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            schema = self.defs[name]
            seen += 1
            if seen > 64:
                raise ValueError("reference loop at " + name)
        return schema

    def check(self, value, schema, where, errors, direction):
        """direction is 'request' or 'response': readOnly properties may not be sent."""
        schema = self.resolve(schema)
        kind = schema.get("type")
        if kind is None and "properties" in schema:
            kind = "object"
        if value is None:
            errors.append(f"{where}: null is not a valid {kind or 'value'}")
            return
        if kind == "object":
            if not isinstance(value, dict):
                errors.append(f"{where}: expected object, got {type(value).__name__}")
                return
            props = schema.get("properties", {})
            extra = schema.get("additionalProperties")
            if "properties" not in schema and extra is None:
                # a bare {"type": "object"} is a free-form object in Swagger 2.0 (e.g. the
                # property values of JsonSchemaDocument.properties); only models that list
                # their properties are held to them (a stricter reading than JSON Schema's,
                # to catch misspelt field names)
                extra = True
            for req in schema.get("required", []):
                if req not in value:
                    if direction == "request" and props.get(req, {}).get("readOnly"):
                        continue
                    errors.append(f"{where}: required property '{req}' is missing")
            for key, sub in value.items():
                if key in props:
                    prop = props[key]
                    if direction == "request" and self.resolve(prop).get("readOnly", prop.get("readOnly")):
                        errors.append(f"{where}.{key}: read-only property sent in a request")
                    self.check(sub, prop, f"{where}.{key}", errors, direction)
                elif isinstance(extra, dict):
                    self.check(sub, extra, f"{where}.{key}", errors, direction)
                elif extra is True:
                    pass
                else:
                    errors.append(f"{where}.{key}: property not defined by the model")
        elif kind == "array":
            if not isinstance(value, list):
                errors.append(f"{where}: expected array, got {type(value).__name__}")
                return
            for i, item in enumerate(value):
                self.check(item, schema.get("items", {}), f"{where}[{i}]", errors, direction)
        elif kind == "string":
            if not isinstance(value, str):
                errors.append(f"{where}: expected string, got {type(value).__name__}")
                return
            fmt = schema.get("format")
            if fmt == "date-time" and not DATE_TIME.match(value):
                errors.append(f"{where}: '{value}' is not an ISO-8601 date-time")
            if fmt == "date" and not DATE.match(value):
                errors.append(f"{where}: '{value}' is not a date")
            if "enum" in schema and value not in schema["enum"]:
                errors.append(f"{where}: '{value}' is not one of {schema['enum']}")
        elif kind == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                errors.append(f"{where}: expected integer, got {type(value).__name__}")
                return
            lo, hi = INT32 if schema.get("format") == "int32" else INT64
            if not lo <= value <= hi:
                errors.append(f"{where}: {value} out of range for {schema.get('format')}")
        elif kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                errors.append(f"{where}: expected number, got {type(value).__name__}")
        elif kind == "boolean":
            if not isinstance(value, bool):
                errors.append(f"{where}: expected boolean, got {type(value).__name__}")
        # No type (free-form object, e.g. substitutionsSchema): anything goes.

    @staticmethod
    def path_matches(template, path):
        pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
        return re.match(pattern, path) is not None

    # Where the definitions contradict their own operation's description, the description wins,
    # and each such case is listed here with its source (shared/docs/genesys-rest-api.md §d1):
    # AdditionalMessage marks textBody required, but the operation says one body kind per request,
    # "one textBody, OR one media id, OR one template": media and templates go without textBody.
    UPSTREAM_EXCEPTIONS = {
        "postConversationsMessageCommunicationMessages": (
            "request: required property 'textBody' is missing", ("mediaIds", "messagingTemplate")),
    }

    def upstream_exception(self, op_id, body, error):
        rule = self.UPSTREAM_EXCEPTIONS.get(op_id)
        return (rule is not None and error.endswith(rule[0]) and isinstance(body, dict)
                and any(k in body for k in rule[1]))

    def check_entry(self, entry):
        """Returns (errors, checked) for one request-log entry."""
        errors = []
        op_id = entry.get("operation")
        path = entry.get("path", "")
        if not path.startswith("/api/v2/"):
            return errors, False
        where = f"#{entry.get('seq')} {entry.get('method')} {path}"
        if op_id not in self.ops:
            errors.append(f"{where}: operation '{op_id}' is not in the spec")
            return errors, True
        method, template, op = self.ops[op_id]
        if method != entry.get("method") or not self.path_matches(template, path):
            errors.append(f"{where}: does not match {op_id} = {method} {template}")
        body_params = [p for p in op.get("parameters", []) if p.get("in") == "body"]
        body = entry.get("requestBody")
        if body_params:
            if body is None:
                if body_params[0].get("required"):
                    errors.append(f"{where}: request body is required by the spec")
            else:
                found = []
                self.check(body, body_params[0]["schema"], f"{where} request", found, "request")
                errors.extend(e for e in found if not self.upstream_exception(op_id, body, e))
        elif body not in (None, {}, ""):
            errors.append(f"{where}: the operation takes no body but one was sent")
        status = str(entry.get("status"))
        resp = op.get("responses", {}).get(status)
        answer = entry.get("responseBody")
        if method == "HEAD" and answer is None:
            # a HEAD answer never has a body (RFC 9110 §9.3.2), whatever schema its status names
            if resp is None and status.startswith("2"):
                errors.append(f"{where}: status {status} is not a documented success status")
            return errors, True
        if resp is None:
            if status.startswith("2"):
                errors.append(f"{where}: status {status} is not a documented success status")
            elif answer is not None:
                self.check(answer, {"$ref": "#/definitions/ErrorBody"}, f"{where} response {status}",
                           errors, "response")
        elif "schema" in resp:
            if answer is None:
                errors.append(f"{where}: status {status} must carry a body")
            else:
                self.check(answer, resp["schema"], f"{where} response {status}", errors, "response")
        return errors, True


def log_files(args):
    for arg in args:
        if os.path.isdir(arg):
            for name in sorted(os.listdir(arg)):
                if name.endswith(".jsonl"):
                    yield os.path.join(arg, name)
        else:
            yield arg


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    spec_path = argv[1]
    if not os.path.exists(spec_path):
        print(f"SKIP: {spec_path} is absent; conformance needs ../shared/spec (present in development and CI)")
        return 77
    with open(spec_path, encoding="utf-8") as f:
        validator = Validator(json.load(f))
    failures, checked, operations = 0, 0, {}
    for path in log_files(argv[2:]):
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    entry = json.loads(line)
                except ValueError as e:
                    print(f"{path}:{lineno}: not JSON: {e}")
                    failures += 1
                    continue
                errors, was_checked = validator.check_entry(entry)
                if was_checked:
                    checked += 1
                    key = f"{entry.get('operation')} {entry.get('status')}"
                    operations[key] = operations.get(key, 0) + 1
                for e in errors:
                    print(f"{os.path.basename(path)}: {e}")
                failures += len(errors)
    for key in sorted(operations):
        print(f"  checked {operations[key]:4d} x {key}")
    if checked == 0:
        print("no /api/v2/ traffic found in the request logs: run the integration tests first")
        return 2
    print(f"{checked} exchanges checked, {failures} violations")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
