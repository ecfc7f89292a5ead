"""Label and field selectors parse and match as the Kubernetes API server's do."""

from __future__ import annotations

import pytest

from tradewind.testing.fake_kubernetes.selectors import (
    SelectorError,
    fields_match,
    labels_match,
    parse_field_selector,
    parse_label_selector,
)

LABELS = {"app": "web", "tier": "front", "tradewind.io/kept": "true"}


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        ("", True),
        ("app=web", True),
        ("app==web", True),
        ("app=db", False),
        ("app!=db", True),
        ("missing!=x", True),  # != also matches objects without the key
        ("app in (web,db)", True),
        ("app in (db)", False),
        ("app notin (db, cache)", True),
        ("missing notin (x)", True),
        ("tier", True),
        ("!tier", False),
        ("!missing", True),
        ("app=web,tier=front,!missing", True),
        ("app in (web),tier notin (front)", False),
        ("tradewind.io/kept=true", True),
    ],
)
def test_label_selector(selector: str, matches: bool) -> None:
    assert labels_match(parse_label_selector(selector), LABELS) is matches


@pytest.mark.parametrize("selector", ["app=we b", "-bad=x", "app in (a b)", "app=" + "x" * 64])
def test_invalid_label_selector(selector: str) -> None:
    with pytest.raises(SelectorError):
        parse_label_selector(selector)


POD = {"metadata": {"name": "p", "namespace": "ns"}, "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}}


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        ("metadata.name=p", True),
        ("metadata.name==p", True),
        ("metadata.name!=p", False),
        ("status.phase=Running,spec.nodeName=n1", True),
        ("spec.nodeName=", False),
        ("status.phase!=Succeeded,metadata.namespace=ns", True),
    ],
)
def test_field_selector(selector: str, matches: bool) -> None:
    assert fields_match(parse_field_selector(selector, "pods"), POD) is matches


def test_unsupported_field_is_rejected() -> None:
    with pytest.raises(SelectorError, match=r"field label not supported: spec\.containers"):
        parse_field_selector("spec.containers=x", "pods")


def test_unscheduled_pods_match_empty_node_name() -> None:
    assert fields_match(parse_field_selector("spec.nodeName=", "pods"), {"metadata": {}, "spec": {}})
