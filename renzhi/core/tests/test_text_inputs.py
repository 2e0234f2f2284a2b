"""Every text field of every API endpoint is bounded and refuses control characters (issue 23 #9).

The endpoints are discovered from the API's own OpenAPI schema, so a new endpoint is covered the
day it is added: each string input (JSON body, form body, query) must declare a `maxLength`
(the column it lands in), and an over-long value or a NUL byte must get a 400 that names the
field, never a 500 (PostgreSQL refuses NUL at the driver) and never a row stored whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from renzhi.api import api

# Inputs that are not text a person types: passwords are kept exactly as typed (hashed, never
# stored), GeoJSON boundaries and CAP XML are parsed by their own validators.
NOT_TEXT = {"password", "boundary", "xml"}
PATH_PARAM = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class TextInput:
    method: str
    path: str
    where: str  # "json", "form" or "query"
    name: str
    max_length: int | None
    is_list: bool

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.where}:{self.name}"


def text_inputs() -> list[TextInput]:
    """Every string input of every operation, read from the models ninja validates with.

    The paths come from the same routers the OpenAPI document is built from; the fields come
    from each operation's own models rather than the document's components, where two schema
    classes of the same name (three apps have a `TransferIn`) share one entry.
    """
    api.get_openapi_schema()  # binds the routers
    found = []
    for router in api._get_bound_routers():
        for route, path_view in router.path_operations.items():
            path = "/api/" + "/".join(p for p in (router.prefix, route) if p)
            path = re.sub(r"/+", "/", re.sub(r"{[^}:]+:", "{", path))
            for op in path_view.operations:
                for method in op.methods:
                    for model in op.signature.models:
                        source = model.__ninja_param_source__
                        where = {"body": "json", "form": "form", "query": "query"}.get(source)
                        if where is None:
                            continue
                        for name, prop, defs in _properties(model.model_json_schema()):
                            string = _string_schema(prop, defs)
                            if string is not None and name not in NOT_TEXT:
                                found.append(TextInput(method.lower(), path, where, name, *string))
    return found


def _properties(schema: dict):
    """(name, property schema, $defs) of a model, one level of nested schemas flattened."""
    defs = schema.get("$defs", {})
    for name, prop in schema.get("properties", {}).items():
        inner = _resolve(prop, defs)
        if inner.get("type") == "object" and "properties" in inner:
            for inner_name, inner_prop in inner["properties"].items():
                yield inner_name, inner_prop, defs
        else:
            yield name, prop, defs


def test_the_discovery_finds_the_text_inputs_of_every_app():
    paths = {i.path.split("/")[2] for i in text_inputs()}
    assert {"appeals", "commons", "emergency", "warnings", "triage", "places"} <= paths
    assert len(text_inputs()) > 250


def test_every_text_input_of_the_api_declares_its_maximum_length():
    unbounded = [str(i) for i in text_inputs() if i.max_length is None]
    assert not unbounded, f"text inputs without maxLength: {unbounded}"


@pytest.mark.django_db(transaction=False)
@pytest.mark.parametrize("bad", ["too_long", "nul"])
def test_every_text_input_refuses_an_overlong_value_and_a_nul_byte_with_a_named_400(
    api_client, django_user_model, bad
):
    user = django_user_model.objects.create_superuser("textcheck", password="x-Strong-pass-1")
    client = api_client.as_user(user)
    wrong = []
    for item in text_inputs():
        if item.max_length is None:
            continue
        text = "x" * max(5000, item.max_length + 1) if bad == "too_long" else "a\x00b"
        response = _send(client, item, [text] if item.is_list else text)
        fields = [e.get("field") or "" for e in _detail(response)]
        named = any(re.search(r"(^|\.)" + item.name + r"(\.|$)", f) for f in fields)
        if response.status_code != 400 or not named:
            wrong.append(f"{item}: {response.status_code} {fields}")
    assert not wrong, "\n".join(wrong)


def _send(client, item: TextInput, value):
    path = PATH_PARAM.sub("1", item.path)
    method = getattr(client, item.method)
    if item.where == "query":
        return method(path, {item.name: value})
    if item.where == "form":
        return client.post(path, {item.name: value})
    return method(path, data={item.name: value}, content_type="application/json")


def _detail(response) -> list[dict]:
    try:
        detail = response.json().get("detail", [])
    except ValueError:
        return []
    return detail if isinstance(detail, list) else []


def _resolve(schema: dict, defs: dict) -> dict:
    while "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _string_schema(schema: dict, defs: dict) -> tuple[int | None, bool] | None:
    """(maxLength, is a list) of a free-text string schema, or None when it is not one."""
    schema = _resolve(schema, defs)
    options = schema.get("anyOf", [])
    if any(option.get("type") in ("number", "integer") for option in options):
        return None  # a Decimal, given as a number or a numeric string
    for option in options:
        found = _string_schema(option, defs)
        if found is not None:
            return found
    if schema.get("type") == "array":
        inner = _string_schema(schema.get("items", {}), defs)
        return (inner[0], True) if inner is not None else None
    if schema.get("type") != "string" or "enum" in schema:
        return None
    if schema.get("format") in ("date", "date-time", "time", "binary", "uuid"):
        return None
    return schema.get("maxLength"), False
