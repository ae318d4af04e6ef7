"""Validate JSON against a JSON Schema: with ``jsonschema`` where it is installed, and always with
the small validator below, which knows the keywords our schemas use (type, enum, minimum,
required, properties, additionalProperties, items, anyOf, $ref to ``#/$defs/...``)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

GRADESCOPE = Path(__file__).with_name("gradescope_results.schema.json")
TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def _is(value: Any, kind: str) -> bool:
    if kind in ("number", "integer"):
        return type(value) in ((int,) if kind == "integer" else (int, float))
    return isinstance(value, TYPES[kind])


def _errors(value: Any, schema: dict, root: dict, where: str) -> list[str]:
    if "$ref" in schema:
        return _errors(value, root["$defs"][schema["$ref"].rpartition("/")[2]], root, where)
    kinds = schema.get("type")
    if kinds is not None and not any(_is(value, k) for k in ([kinds] if isinstance(kinds, str) else kinds)):
        return [f"{where}: {value!r} is not of type {kinds}"]
    found = []
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{where}: {value!r} is not one of {schema['enum']}")
    if "minimum" in schema and _is(value, "number") and value < schema["minimum"]:
        found.append(f"{where}: {value!r} is less than {schema['minimum']}")
    if "anyOf" in schema and all(_errors(value, s, root, where) for s in schema["anyOf"]):
        found.append(f"{where}: matches none of anyOf")
    if isinstance(value, dict):
        found += [f"{where}: {k!r} is required" for k in schema.get("required", ()) if k not in value]
        properties = schema.get("properties", {})
        for key, item in value.items():
            if key in properties:
                found += _errors(item, properties[key], root, f"{where}.{key}")
            elif schema.get("additionalProperties") is False:
                found.append(f"{where}: unexpected key {key!r}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            found += _errors(item, schema["items"], root, f"{where}[{i}]")
    return found


def validation_errors(document: Any, schema_path: Path = GRADESCOPE) -> list[str]:
    """Every way ``document`` breaks the schema (empty when it is valid); both validators must agree."""
    schema = json.loads(schema_path.read_text())
    found = _errors(document, schema, schema, "$")
    try:
        import jsonschema
    except ImportError:
        return found
    theirs = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(document)]
    assert bool(theirs) == bool(found), f"jsonschema says {theirs}, the small validator says {found}"
    return found
