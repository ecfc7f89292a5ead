"""Label and field selectors as the Kubernetes API parses and applies them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_SET_TERM = re.compile(r"^\s*(?P<key>[^\s!=()]+)\s+(?P<op>in|notin)\s*\((?P<values>[^()]*)\)\s*$")
_EQ_TERM = re.compile(r"^\s*(?P<key>[^\s!=()]+)\s*(?P<op>==|=|!=)\s*(?P<value>[^\s!=()]*)\s*$")

#: Field selectors the real API server accepts, per resource (metadata.name/namespace always work).
FIELD_LABELS: dict[str, frozenset[str]] = {
    "pods": frozenset(
        {
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        }
    ),
    "events": frozenset(
        {
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        }
    ),
    "secrets": frozenset({"type"}),
    "namespaces": frozenset({"status.phase"}),
}


class SelectorError(ValueError):
    """A selector the API server would reject with 400 BadRequest."""


def valid_label_key(key: str) -> bool:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return False
    return len(name) <= 63 and bool(_LABEL_NAME.match(name))


def valid_label_value(value: str) -> bool:
    return len(value) <= 63 and bool(_LABEL_VALUE.match(value))


@dataclass(frozen=True, slots=True)
class LabelRequirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!exists"
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op == "exists":
            return present
        if self.op == "!exists":
            return not present
        if self.op in ("=", "in"):
            return present and value in self.values
        return not present or value not in self.values  # "!=", "notin"


def _split_terms(text: str) -> list[str]:
    """Split on commas that are not inside the parentheses of an in/notin value set."""
    terms: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            terms.append("".join(current))
            current = []
        else:
            current.append(char)
    terms.append("".join(current))
    return [t for t in terms if t.strip()]


def parse_label_selector(text: str | None) -> list[LabelRequirement]:
    if not text or not text.strip():
        return []
    requirements = []
    for term in _split_terms(text):
        requirements.append(_parse_label_term(term))
    return requirements


def _parse_label_term(term: str) -> LabelRequirement:
    stripped = term.strip()
    if match := _SET_TERM.match(stripped):
        values = frozenset(v.strip() for v in match["values"].split(",") if v.strip())
        _check_key(match["key"], term)
        for value in values:
            _check_value(value, term)
        return LabelRequirement(match["key"], match["op"], values)
    if match := _EQ_TERM.match(stripped):
        _check_key(match["key"], term)
        _check_value(match["value"], term)
        op = "!=" if match["op"] == "!=" else "="
        return LabelRequirement(match["key"], op, frozenset({match["value"]}))
    if stripped.startswith("!"):
        _check_key(stripped[1:].strip(), term)
        return LabelRequirement(stripped[1:].strip(), "!exists")
    _check_key(stripped, term)
    return LabelRequirement(stripped, "exists")


def _check_key(key: str, term: str) -> None:
    if not valid_label_key(key):
        raise SelectorError(f"unable to parse requirement: {term.strip()!r}: invalid label key {key!r}")


def _check_value(value: str, term: str) -> None:
    if not valid_label_value(value):
        raise SelectorError(f"unable to parse requirement: {term.strip()!r}: invalid label value {value!r}")


def labels_match(requirements: list[LabelRequirement], labels: Mapping[str, str] | None) -> bool:
    labels = labels or {}
    return all(r.matches(labels) for r in requirements)


@dataclass(frozen=True, slots=True)
class FieldRequirement:
    path: str
    negate: bool
    value: str

    def matches(self, obj: Mapping[str, Any]) -> bool:
        actual = field_value(obj, self.path)
        return (actual != self.value) if self.negate else (actual == self.value)


def field_value(obj: Mapping[str, Any], path: str) -> str:
    """A field as the API server compares it: missing fields compare as the empty string."""
    current: Any = obj
    for part in path.split("."):
        if not isinstance(current, Mapping):
            return ""
        current = current.get(part)
    if current is None:
        return ""
    if isinstance(current, bool):
        return "true" if current else "false"
    if isinstance(current, dict):
        return str(current.get("component", ""))  # events' `source` compares on its component
    return str(current)


def _split_unescaped(text: str, sep: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    escaped = False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == sep:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def parse_field_selector(text: str | None, resource: str) -> list[FieldRequirement]:
    if not text or not text.strip():
        return []
    allowed = FIELD_LABELS.get(resource, frozenset()) | {"metadata.name", "metadata.namespace"}
    requirements = []
    for term in _split_unescaped(text, ","):
        if not term.strip():
            continue
        match = re.match(r"^\s*([^!=\s]+)\s*(==|=|!=)(.*)$", term)
        if match is None:
            raise SelectorError(f"invalid selector: {term!r}; can't understand {term!r}")
        path, op, value = match.group(1), match.group(2), match.group(3).strip()
        if path not in allowed:
            raise SelectorError(f'field label not supported: {path}')
        requirements.append(FieldRequirement(path, op == "!=", value))
    return requirements


def fields_match(requirements: list[FieldRequirement], obj: Mapping[str, Any]) -> bool:
    return all(r.matches(obj) for r in requirements)
