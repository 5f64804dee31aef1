#!/usr/bin/python3
"""Validates the records the test suite captured against schema/<kind>.schema.json.

The test fixtures append every JSON line a nasops tool printed on stdout to
<capture dir>/<pid>.ndjson, one JSON object per line:
  {"test": "Suite.Name", "emitter": "nasops-health", "line": "<the record as printed>"}
The lines of every audit.log a test left (emitter "audit.log") are checked
against schema/audit/audit.schema.json. This script checks every captured record
against the schema of its kind and
fails, naming the test, the tool, the kind and the field, when one does not
match; when a kind was printed that has no schema; and when a kind, a tool a
kind's schema names, or a shape a schema tells apart (its if/then/else) was
printed by no test, so that what the suite covers cannot shrink unseen. JSON
lines that are not records at all are noted, not failed.

Run by ctest after every other test (tests/CMakeLists.txt); needs Debian's
python3-jsonschema (4.10, draft 2020-12).
"""

import argparse
import json
import pathlib
import sys

try:
    import jsonschema
except ImportError:
    sys.exit("validate_records: needs Debian's python3-jsonschema for /usr/bin/python3 "
             "(make -f Makefile.ops deps installs it)")


# The emitter of the lines of audit.log files (tests/fixtures/record_capture.hpp).
AUDIT_LOG = "audit.log"


def branches(schema):
    """The shapes a schema tells apart with if/then(/else), at its top or in its
    allOf: [(description, if-subschema, taken when the if holds)]."""
    out = []
    for i, part in enumerate([schema] + schema.get("allOf", [])):
        if "if" not in part:
            continue
        condition = jsonschema.Draft202012Validator(part["if"])
        label = json.dumps(part["if"].get("properties", part["if"]), separators=(",", ":"))
        out.append((f"records where {label}", condition, True))
        if "else" in part:
            out.append((f"records where not {label}", condition, False))
    return out


def load_schemas(folder):
    schemas = {}
    for path in sorted(folder.glob("*.schema.json")):
        kind = path.name[: -len(".schema.json")]
        schema = json.loads(path.read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator.check_schema(schema)
        resolver = jsonschema.RefResolver(base_uri=path.resolve().as_uri(), referrer=schema)
        schemas[kind] = jsonschema.Draft202012Validator(schema, resolver=resolver)
    schemas.pop("envelope", None)
    # Not a kind: the shape of the audit log's lines, checked as kind "audit".
    path = folder / "audit" / "audit.schema.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    resolver = jsonschema.RefResolver(base_uri=path.resolve().as_uri(), referrer=schema)
    schemas["audit"] = jsonschema.Draft202012Validator(schema, resolver=resolver)
    return schemas


def field_of(error):
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return path[1:] if path.startswith(".") else path or "(record)"


def describe(error):
    # An unevaluatedProperties error says which fields are unknown; the others name the field at fault.
    if error.validator == "unevaluatedProperties":
        return f"{field_of(error)}: field not in the schema: {error.message}"
    if error.validator == "additionalProperties":
        return f"{field_of(error)}: {error.message}"
    return f"{field_of(error)}: {error.message}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schemas", type=pathlib.Path, required=True, help="the schema/ folder")
    parser.add_argument("--captured", type=pathlib.Path, required=True, help="the capture folder")
    parser.add_argument("--examples", type=pathlib.Path, action="append", default=[],
                        help="a page (scdoc) whose example records are checked too")
    parser.add_argument("--max-reports", type=int, default=50, help="problems printed in full")
    args = parser.parse_args()

    schemas = load_schemas(args.schemas)
    branches_of = {kind: branches(v.schema) for kind, v in schemas.items()}
    seen_tools = {}  # kind -> the tools that printed it
    not_records = {}  # emitter -> (first test, first line, count) of JSON lines that are not records
    taken = set()  # (kind, branch) of the branches some record took
    problems = []
    emitted = {}  # kind -> number of records
    files = sorted(args.captured.glob("*.ndjson")) if args.captured.is_dir() else []
    for capture in files:
        for number, text in enumerate(capture.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            where = f"{capture.name}:{number}"
            try:
                entry = json.loads(text)
                test, emitter, line = entry["test"], entry["emitter"], entry["line"]
            except (ValueError, KeyError, TypeError) as e:
                problems.append(f"{where}: not a capture entry ({e})")
                continue
            try:
                record = json.loads(line)
            except ValueError as e:
                problems.append(f"{test}: {emitter} printed a line that is not JSON ({e}): {line[:200]}")
                continue
            kind = record.get("kind")
            if emitter == AUDIT_LOG:
                # An audit log line is an event record of its own shape (nasops-records(7), AUDIT LOG).
                kind = "audit"
            if "kind" not in record and "v" not in record:
                # JSON, but not a record at all: stdout should carry records (DESIGN.md). Said, not failed:
                # which kind such output should become is a decision of its own.
                not_records.setdefault(emitter, (test, line[:200], 0))
                first_test, first_line, n = not_records[emitter]
                not_records[emitter] = (first_test, first_line, n + 1)
                continue
            if not isinstance(kind, str):
                problems.append(f"{test}: {emitter} printed a record without a kind: {line[:200]}")
                continue
            emitted[kind] = emitted.get(kind, 0) + 1
            seen_tools.setdefault(kind, set()).add(record.get("tool"))
            for branch in branches_of.get(kind, []):
                if branch[1].is_valid(record) == branch[2]:
                    taken.add((kind, branch[0]))
            validator = schemas.get(kind)
            if validator is None:
                problems.append(f"{test}: {emitter} printed kind '{kind}', which has no schema/{kind}.schema.json")
                continue
            for error in sorted(validator.iter_errors(record), key=lambda e: list(e.absolute_path)):
                problems.append((f"{emitter}: kind '{kind}': {describe(error)}", f"{test}: {line[:400]}"))

    for page in args.examples:
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            if not line.startswith('{"v":'):
                continue
            record = json.loads(line)
            validator = schemas.get(record.get("kind"))
            if validator is None:
                problems.append(f"{page.name}:{number}: example of kind '{record.get('kind')}', which has no schema")
                continue
            for error in validator.iter_errors(record):
                problems.append(f"{page.name}:{number}: the example {record['kind']} record: {describe(error)}")

    # Coverage: every kind, every tool a kind's schema names, every shape it tells apart.
    hint = "(run the whole suite, or add a test that prints one)"
    for kind in sorted(set(schemas) - set(emitted)):
        problems.append(f"kind '{kind}' has a schema but no test printed one: its schema is checked against nothing {hint}")
    for kind, validator in sorted(schemas.items()):
        if kind not in emitted:
            continue
        tool = validator.schema.get("properties", {}).get("tool", {})
        for name in sorted(set(tool.get("enum", [tool["const"]] if "const" in tool else [])) - seen_tools[kind]):
            problems.append(f"kind '{kind}': no test printed one from nasops-{name} {hint}")
        for label, _, _ in branches_of[kind]:
            if (kind, label) not in taken:
                problems.append(f"kind '{kind}': no test printed {label}, so that part of its schema is checked "
                                f"against nothing {hint}")

    for emitter, (test, line, n) in sorted(not_records.items()):
        print(f"note: {emitter} printed {n} JSON lines that are not records (no v, no kind), first in {test}: {line}")
    summary = ", ".join(f"{k} {n}" for k, n in sorted(emitted.items())) or "none"
    print(f"validate_records: {sum(emitted.values())} records from {len(files)} test processes ({summary})")
    if not problems:
        return 0
    # The same mismatch is usually printed by many tests: each distinct one once,
    # with the first test that printed it and how many records share it.
    distinct = {}
    for p in problems:
        what, example = p if isinstance(p, tuple) else (p, None)
        first, n = distinct.get(what, (example, 0))
        distinct[what] = (first, n + 1)
    for what, (example, n) in list(distinct.items())[: args.max_reports]:
        print(what, file=sys.stderr)
        if example:
            print(f"    printed by {example}" + (f"\n    and {n - 1} more records" if n > 1 else ""), file=sys.stderr)
    if len(distinct) > args.max_reports:
        print(f"... {len(distinct) - args.max_reports} more problems", file=sys.stderr)
    print(f"validate_records: {len(problems)} problems", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
