"""The fake API server's PATCH flavours follow RFC 6902, RFC 7386 and Kubernetes' strategic merge."""

from __future__ import annotations

import pytest

from tradewind.testing.fake_kubernetes.patches import (
    PatchError,
    json_patch,
    merge_patch,
    strategic_merge_patch,
)

POD = {
    "metadata": {"name": "p", "labels": {"a": "1", "b": "2"}, "finalizers": ["x/one"]},
    "spec": {
        "containers": [{"name": "base", "image": "i:1", "env": [{"name": "A", "value": "1"}]},
                       {"name": "side", "image": "s:1"}],
        "tolerations": [{"key": "k", "operator": "Exists"}],
    },
}


def test_merge_patch_replaces_lists_and_deletes_nulls() -> None:
    out = merge_patch(POD, {"metadata": {"labels": {"a": None, "c": "3"}}, "spec": {"containers": []}})
    assert out["metadata"]["labels"] == {"b": "2", "c": "3"}
    assert out["spec"]["containers"] == []


def test_strategic_merge_merges_lists_by_key() -> None:
    out = strategic_merge_patch(POD, {"spec": {"containers": [
        {"name": "base", "image": "i:2", "env": [{"name": "B", "value": "2"}]},
        {"name": "new", "image": "n:1"},
    ]}})
    base = out["spec"]["containers"][0]
    assert base["image"] == "i:2"
    assert base["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    assert [c["name"] for c in out["spec"]["containers"]] == ["base", "side", "new"]


def test_strategic_merge_directives() -> None:
    out = strategic_merge_patch(POD, {
        "metadata": {"$deleteFromPrimitiveList/finalizers": ["x/one"]},
        "spec": {"containers": [{"name": "side", "$patch": "delete"}], "tolerations": []},
    })
    assert out["metadata"]["finalizers"] == []
    assert [c["name"] for c in out["spec"]["containers"]] == ["base"]
    assert out["spec"]["tolerations"] == []  # no merge key: replaced


def test_json_patch_operations() -> None:
    out = json_patch(POD, [
        {"op": "add", "path": "/metadata/labels/c", "value": "3"},
        {"op": "remove", "path": "/metadata/labels/a"},
        {"op": "replace", "path": "/spec/containers/0/image", "value": "i:9"},
        {"op": "test", "path": "/metadata/name", "value": "p"},
        {"op": "add", "path": "/metadata/finalizers/-", "value": "x/two"},
    ])
    assert out["metadata"]["labels"] == {"b": "2", "c": "3"}
    assert out["spec"]["containers"][0]["image"] == "i:9"
    assert out["metadata"]["finalizers"] == ["x/one", "x/two"]
    assert POD["metadata"]["labels"] == {"a": "1", "b": "2"}  # the input is untouched


def test_failed_json_patch_test_is_422() -> None:
    with pytest.raises(PatchError) as info:
        json_patch(POD, [{"op": "test", "path": "/metadata/name", "value": "q"}])
    assert info.value.code == 422
