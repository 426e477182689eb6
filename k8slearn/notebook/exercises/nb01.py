"""Checks for the exercises of notebook 01 (what kube-apiserver stores in etcd).

Each check reads etcd the same number of times whatever the answer (None included), so a
learner's wrong answer never shifts the pinned reads of a replay; and it never raises.
"""

from __future__ import annotations

from typing import Any

from k8slearn.notebook.exercises import Verdict, verdict
from k8slearn.storage import keys

# objects the notebook itself creates: the break-it exercise wants one of the learner's own
CRD_GROUP = "k8slearn.example"
CRD_PLURAL = "notes"
CRD_NAME = f"{CRD_PLURAL}.{CRD_GROUP}"
CONFIGMAPS_WRITTEN_BY_THE_NOTEBOOK = ("written-as-protobuf", "written-as-json")

__all__ = [
    "CRD_GROUP",
    "CRD_PLURAL",
    "CRD_NAME",
    "CONFIGMAPS_WRITTEN_BY_THE_NOTEBOOK",
    "check_endpoints_key",
    "check_endpoint_ips",
    "check_json_value",
]


def _dns_endpoints(lab):
    """The stored kube-dns Endpoints (one etcd read), or None."""
    try:
        return lab.etcd.get(keys.compose("endpoints", "kube-dns", "kube-system", prefix=lab.etcd.prefix))
    except Exception:  # noqa: BLE001 - a check never raises
        return None


def check_endpoints_key(lab, answer: Any) -> Verdict:
    """Easy: the etcd key of the Endpoints object kube-system/kube-dns, as a string."""
    hint = "Endpoints are one of the historic paths: they live beside Services, under services/endpoints."
    kv = _dns_endpoints(lab)
    if answer is None:
        return verdict(False, None, hint)
    if kv is None:
        return verdict(False, answer, hint, "etcd holds no kube-dns Endpoints here: is the cluster up?")
    if not isinstance(answer, str):
        return verdict(False, answer, hint, f"give the key as a string, not a {type(answer).__name__}.")
    if answer == kv.key:
        return verdict(True, answer, why=f"etcd holds {kv.key} (ModRevision {kv.mod_revision}).")
    if answer.rstrip("/") == f"{lab.etcd.prefix}/endpoints/kube-system/kube-dns":
        return verdict(False, answer, hint, "that is the pattern, but Endpoints break it.")
    return verdict(False, answer, hint, f"etcd has no value under {answer!r} for this object.")


def check_endpoint_ips(lab, answer: Any) -> Verdict:
    """Medium: the IPs in subsets[].addresses of the stored kube-dns Endpoints (any order)."""
    hint = "decode the value at the key of the first exercise (kv.obj) and collect subsets[*].addresses[*].ip."
    kv = _dns_endpoints(lab)
    if answer is None:
        return verdict(False, None, hint)
    try:
        stored = sorted(a["ip"] for s in kv.obj.get("subsets", []) for a in s.get("addresses", []))
    except Exception:  # noqa: BLE001
        return verdict(False, answer, hint, "the stored kube-dns Endpoints could not be read here.")
    if isinstance(answer, str) or not hasattr(answer, "__iter__"):
        return verdict(False, answer, hint, "give a list of IP strings.")
    given = sorted(str(a) for a in answer)
    if given == stored:
        return verdict(True, answer, why=f"the stored value lists {stored}: one IP per Ready CoreDNS Pod.")
    return verdict(False, answer, hint, f"you gave {len(given)} address(es); compare them with the decoded value.")


def check_json_value(lab, answer: Any) -> Verdict:
    """Break it: the etcd key of a value YOU made kube-apiserver write as JSON, without changing its flags."""
    hint = "built-in resources follow --storage-media-type (protobuf); which values have no protobuf schema?"
    try:
        kvs = {kv.key: kv for kv in lab.etcd.range()}  # one read, whatever the answer
    except Exception:  # noqa: BLE001
        kvs = {}
    if answer is None:
        return verdict(False, None, hint)
    if not isinstance(answer, str) or answer not in kvs:
        return verdict(False, answer, hint, "etcd holds no value under that key.")
    kv = kvs[answer]
    try:
        encoding = kv.decoded.encoding
    except Exception:  # noqa: BLE001
        encoding = "undecodable"
    if encoding not in ("json", "cbor"):
        return verdict(False, answer, hint, f"that value is {encoding}, not JSON.")
    p = keys.parse(answer, prefix=lab.etcd.prefix)
    if p.resource == "apiservices":
        return verdict(False, answer, hint, "kube-apiserver writes its APIServices itself: make it write one for you.")
    if p.resource == "customresourcedefinitions" and p.name == CRD_NAME:
        return verdict(False, answer, hint, "the notebook created that CRD: make one write of your own.")
    if p.resource == "configmaps" and p.name in CONFIGMAPS_WRITTEN_BY_THE_NOTEBOOK:
        return verdict(False, answer, hint, "the notebook wrote that one while the flag said JSON.")
    why = (
        "a custom resource has no protobuf schema, so the apiserver stores it as JSON."
        if p.resource not in keys.RESOURCES and p.resource != "customresourcedefinitions"
        else "its server stores it with a JSON-only codec (LegacyCodec)."
    )
    return verdict(True, answer, why=why)
