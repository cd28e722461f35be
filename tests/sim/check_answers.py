#!/usr/bin/env python3
"""Every answer gcsim gave in the smoke tests conforms to the official definitions.

Runs the project's independent checker (tests/conformance/check_spec.py) over the smoke tests'
request logs, and fails on any violation in a *response* body. Request-side findings are not
counted: the smoke test sends invalid requests on purpose, to see gcsim refuse them.

One reading differs from check_spec.py, and is applied here only: a schema of type object that
declares neither `properties` nor `additionalProperties` (for example the values of
JsonSchemaDocument.properties, the per-substitution schemas of substitutionsSchema) is a
free-form object, as Swagger 2.0 / JSON Schema define it; check_spec.py treats it as an object
that may hold no property at all.

Usage: check_answers.py SPEC.json LOG.jsonl [LOG.jsonl ...]
Exit 0 conforms, 1 violations, 2 usage or no traffic, 77 spec absent (CTest SKIP_RETURN_CODE).
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "conformance"))
from check_spec import Validator  # noqa: E402


class AnswerValidator(Validator):
    def check(self, value, schema, where, errors, direction):
        resolved = self.resolve(schema)
        if resolved.get("type") == "object" and "properties" not in resolved and \
                "additionalProperties" not in resolved:
            if not isinstance(value, dict):
                errors.append(f"{where}: expected object, got {type(value).__name__}")
            return
        super().check(value, schema, where, errors, direction)


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    spec_path, log_paths = argv[1], argv[2:]
    if not os.path.exists(spec_path):
        print(f"SKIP: {spec_path} is absent; conformance needs ../shared/spec (present in development and CI)")
        return 77
    with open(spec_path, encoding="utf-8") as f:
        validator = AnswerValidator(json.load(f))
    checked, violations, operations = 0, 0, set()
    for log_path in log_paths:
        with open(log_path, encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                entry = json.loads(line)
                if entry.get("operation") is None and entry.get("status") == 404 and \
                        entry.get("path", "").startswith("/api/v2/"):
                    # a path the API does not have (asked on purpose): the 404 must still be an ErrorBody
                    errors = []
                    validator.check(entry.get("responseBody"), {"$ref": "#/definitions/ErrorBody"},
                                    f"#{entry.get('seq')} {entry.get('path')} response 404", errors, "response")
                    for e in errors:
                        print(f"{os.path.basename(log_path)}: {e}")
                    violations += len(errors)
                    continue
                errors, was_checked = validator.check_entry(entry)
                if not was_checked:
                    continue
                checked += 1
                operations.add(entry.get("operation"))
                where = f"#{entry.get('seq')} {entry.get('method')} {entry.get('path', '')}"
                for e in errors:
                    if e.startswith(where + " request") or "request body is required" in e:
                        continue
                    print(f"{os.path.basename(log_path)}: {e}")
                    violations += 1
    if checked == 0:
        print("no /api/v2/ traffic in the log")
        return 2
    print(f"{checked} answers of {len(operations)} operations checked, {violations} violations")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
