"""values.schema.json is generated from values.yaml (devkit.chart.values_schema): types inferred from the
defaults, known keys typed alike everywhere, `# @schema` comments for the rest."""

from __future__ import annotations

import pytest

from devkit import chart


def schema_of(text: str) -> dict:
    schema = chart.values_schema(text)
    return {k: v for k, v in schema.items() if k not in ("$schema", "title", "description")}


def test_types_are_inferred_from_the_defaults_and_mappings_are_closed():
    schema = schema_of("name: x\ncount: 3\nratio: 0.5\nenabled: true\nitems: [a]\nnested: {inner: 1}\n")
    assert schema["additionalProperties"] is False
    assert schema["properties"] == {
        "name": {"type": "string"},
        "count": {"type": "integer", "minimum": 0},
        "ratio": {"type": "number"},
        "enabled": {"type": "boolean"},
        "items": {"type": "array", "items": {"type": "string"}},
        "nested": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"inner": {"type": "integer", "minimum": 0}},
        },
    }


def test_known_keys_have_the_same_type_wherever_they_are():
    properties = schema_of("a:\n  port: 1\n  nodeSelector: {}\nb:\n  c:\n    port: 2\n")["properties"]
    assert properties["a"]["properties"]["port"] == properties["b"]["properties"]["c"]["properties"]["port"]
    assert properties["a"]["properties"]["port"] == {"type": "integer", "minimum": 1, "maximum": 65535}
    assert properties["a"]["properties"]["nodeSelector"] == {
        "type": "object",
        "additionalProperties": {"type": "string"},
    }


def test_schema_comments_add_keywords_or_name_a_type():
    text = """\
level:
  # -- a comment in between is fine
  # @schema {enum: [low, high]}
  value: low
# @schema nonEmptyStrings
origins: []
# @schema {items: {type: object, properties: {
# @schema name: {minLength: 1}}}}
extra: []
hosts:
  # @schema {minLength: 1}
  - host: example.com
    paths:
      # @schema {pattern: ^/}
      - path: /
"""
    properties = schema_of(text)["properties"]
    assert properties["level"]["properties"]["value"] == {"type": "string", "enum": ["low", "high"]}
    assert properties["origins"] == {"type": "array", "items": {"type": "string", "minLength": 1}}
    assert properties["extra"]["items"]["properties"]["name"] == {"minLength": 1}
    host = properties["hosts"]["items"]["properties"]
    assert host["host"] == {"type": "string", "minLength": 1}
    assert host["paths"]["items"]["properties"]["path"] == {"type": "string", "pattern": "^/"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# @schema {minimum: 1}\n\nkey: 1\n", "must stand right above a key"),
        ("# @schema notAType\nkey: 1\n", "flow mapping"),
        ("list:\n  - a: 1\n  # @schema {minimum: 1}\n  - b: 2\n", "hold no value"),
        ("key:\n", "no type can be inferred"),
    ],
)
def test_a_misplaced_or_unknown_annotation_is_an_error(text, message):
    with pytest.raises(ValueError, match=message):
        chart.values_schema(text)


def test_the_committed_schema_is_generated_from_values_yaml():
    assert chart.SCHEMA_FILE.read_text() == chart.schema_text(), "run scripts/k8s_check.py --write-schema"
