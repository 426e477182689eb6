"""Measure how often k8slearn.cel agrees with a real kube-apiserver (its cel-go) on the corpus.

:func:`ask_apiserver` sends every case of :mod:`k8slearn.cel.corpus` to an apiserver through
the official client (a test CRD and dry-run custom resources; ValidatingAdmissionPolicies and
dry-run ConfigMaps) and returns its answers; :func:`ask_local` evaluates the same cases with
k8slearn.cel; :func:`compare` puts them side by side. Both sides are reduced to the same shape:

* ``verdict``: ``allowed``, ``denied`` (a rule returned false), ``error`` (a rule failed to
  evaluate), ``invalid`` (refused when the CRD or policy was created: does not compile) or
  ``cost`` (refused at creation because its *estimated* cost is over the limit);
* ``messages``: the sorted texts the apiserver sends (Status causes ``<field>: <message>``, or
  the denial message, and ``warning: <text>`` for Warning headers); for ``invalid`` the first
  compiler error without its position.

Cost figures are a labelled exception: k8slearn.cel computes no cost, so for a case the
apiserver refuses for cost the local side answers ``cost`` only when it cannot know better, and
the row carries the apiserver's own message. Everything the apiserver creates is named
``k8slearn-cel-agree-*`` / in the group ``celagree.k8slearn.example.com`` and deleted at the end
(also on failure).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from k8slearn.cel.corpus import CRDCase, PolicyCase, crd_cases, policy_cases
from k8slearn.cel.errors import CELError

GROUP = "celagree.k8slearn.example.com"
PLURAL = "celcases"
CRD_NAME = f"{PLURAL}.{GROUP}"
SENTINEL = "zzsentinel"
LABEL = "k8slearn.example.com/cel-case"
POLICY_PREFIX = "k8slearn-cel-agree-"

_RULE_FIELD = re.compile(r"properties\[spec\]\.properties\[([a-z0-9]+)\]\.x-kubernetes-validations\[(\d+)\]\.(\w+)")
_ERROR_POS = re.compile(r"ERROR: <input>:-?\d+:-?\d+: ")


@dataclass
class Answer:
    verdict: str
    messages: list[str]


def crd_object(cases: list[CRDCase], with_rules: Callable[[CRDCase], bool] = lambda c: True) -> dict:
    """The test CRD: one property of ``spec`` per case, holding that case's rules."""
    props: dict[str, Any] = {}
    for c in cases:
        schema = copy.deepcopy(c.schema)
        if with_rules(c):
            schema["x-kubernetes-validations"] = [dict(r) for r in c.rules]
        props[c.id] = schema
    props[SENTINEL] = {"type": "string", "x-kubernetes-validations": [{"rule": "false", "message": "ready"}]}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": CRD_NAME},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"kind": "CelCase", "plural": PLURAL, "singular": "celcase", "listKind": "CelCaseList"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {"spec": {"type": "object", "properties": props}},
                        }
                    },
                }
            ],
        },
    }


def custom_resource(case_id: str, value: Any, name: str | None = None) -> dict:
    return {
        "apiVersion": f"{GROUP}/v1",
        "kind": "CelCase",
        "metadata": {"name": name or f"c-{case_id}"},
        "spec": {case_id: value},
    }


def _compile_message(text: str) -> str:
    """The first compiler error of an apiserver or local message, without position and caret picture."""
    if text.startswith("compile error"):  # k8slearn's: the first error comes first, unprefixed
        text = re.sub(r"^compile error( \(line \d+, column \d+\))?: ", "", text)
        return _ERROR_POS.sub("", text).split("\n")[0].strip()
    m = _ERROR_POS.search(text)
    if m:
        text = text[m.end() :]
    return text.split("\n")[0].strip()


# ---- local --------------------------------------------------------------------------------


def ask_local_crd(case: CRDCase, all_cases: list[CRDCase]) -> Answer:
    from k8slearn.cel.crd import validate_crd

    crd = crd_object([case])
    obj = custom_resource(case.id, case.value)
    old = custom_resource(case.id, case.old) if case.old is not None else None
    try:
        found = validate_crd(crd, obj, old)
    except CELError as exc:
        if exc.phase == "compile":
            return Answer("invalid", [_compile_message(exc.message)])
        return Answer("error", [exc.message])
    msgs = sorted(str(v) for v in found) + sorted(f"warning: {w}" for w in found.warnings)
    if not found:
        return Answer("allowed", msgs)
    verdict = "error" if any(" evaluating rule: " in str(v) for v in found) else "denied"
    return Answer(verdict, msgs)


def ask_local_policy(case: PolicyCase, namespace: str) -> Answer:
    from k8slearn.cel.admission import admit

    policy = policy_object(case)
    binding = binding_object(case, namespace)
    obj = configmap(case, namespace)
    request = {
        "operation": "CREATE",
        "resource": {"group": "", "version": "v1", "resource": "configmaps"},
        "kind": {"group": "", "version": "v1", "kind": "ConfigMap"},
        "name": obj["metadata"]["name"],
        "namespace": namespace,
        "object": obj,
        "oldObject": None,
        "dryRun": True,
    }
    params = None
    if case.params is not None:
        params = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _param_meta(case, namespace),
            "data": case.params,
        }
    ns_obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace, "labels": _ns_labels(namespace)}}
    try:
        result = admit(policy, binding, request, params=params, namespace_object=ns_obj)
    except CELError as exc:
        if exc.phase == "compile":
            return Answer("invalid", [_compile_message(exc.message)])
        return Answer("error", [exc.message])
    msgs = [f"warning: {w}" for w in result.warnings]
    if result.allowed:
        return Answer("allowed", sorted(msgs))
    verdict = "error" if " resulted in error: " in (result.message or "") else "denied"
    return Answer(verdict, sorted([result.message or "", *msgs]))


def ask_local(namespace: str) -> dict[str, Answer]:
    """k8slearn.cel's answers for every case of the corpus, by case id."""
    cases = crd_cases()
    out = {c.id: ask_local_crd(c, cases) for c in cases}
    out.update({c.id: ask_local_policy(c, namespace) for c in policy_cases()})
    return out


# ---- policies -----------------------------------------------------------------------------


def _ns_labels(namespace: str) -> dict:
    return {"kubernetes.io/metadata.name": namespace}


def _param_meta(case: PolicyCase, namespace: str) -> dict:
    return {"name": f"{POLICY_PREFIX}{case.id}-params", "namespace": namespace}


def policy_object(case: PolicyCase) -> dict:
    spec = copy.deepcopy(case.policy)
    spec["matchConstraints"] = {
        "resourceRules": [
            {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["configmaps"]}
        ]
    }
    if case.params is not None:
        spec["paramKind"] = {"apiVersion": "v1", "kind": "ConfigMap"}
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": POLICY_PREFIX + case.id},
        "spec": spec,
    }


def binding_object(case: PolicyCase, namespace: str) -> dict:
    spec: dict = {
        "policyName": POLICY_PREFIX + case.id,
        "validationActions": ["Deny"],
        "matchResources": {
            "namespaceSelector": {"matchLabels": _ns_labels(namespace)},
            "objectSelector": {"matchLabels": {LABEL: case.id}},
        },
    }
    if case.params is not None:
        meta = _param_meta(case, namespace)
        spec["paramRef"] = {"name": meta["name"], "namespace": namespace, "parameterNotFoundAction": "Deny"}
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": POLICY_PREFIX + case.id},
        "spec": spec,
    }


def configmap(case: PolicyCase, namespace: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"cm-{case.id}", "namespace": namespace, "labels": {LABEL: case.id, **case.labels}},
        "data": dict(case.data),
    }


# ---- the apiserver ------------------------------------------------------------------------


def _warnings(headers: Any) -> list[str]:
    header = (headers or {}).get("Warning") if headers is not None else None
    return [re.sub(r"\\(.)", r"\1", t) for t in re.findall(r'\d{3} \S+ "((?:[^"\\]|\\.)*)"', header or "")]


def _send(call: Callable, *args: Any, **kwargs: Any) -> tuple[int, dict, list[str]]:
    from kubernetes import client

    try:
        obj, code, headers = call(*args, **kwargs)
        return code, obj if isinstance(obj, dict) else {}, _warnings(headers)
    except client.ApiException as e:
        try:
            body = json.loads(e.body or "{}")
        except ValueError:
            body = {"message": e.body}
        return e.status, body, _warnings(e.headers)


def _crd_answer(code: int, body: dict, warnings: list[str]) -> Answer:
    msgs = sorted(f"warning: {w}" for w in warnings)
    if code < 300:
        return Answer("allowed", msgs)
    causes = (body.get("details") or {}).get("causes") or []
    texts = sorted(f"{c.get('field')}: {c.get('message')}" for c in causes) or [body.get("message", "")]
    verdict = "error" if any(" evaluating rule: " in t for t in texts) else "denied"
    return Answer(verdict, texts + msgs)


def ask_apiserver(api: Any, namespace: str, pause: Callable[[float], None]) -> dict[str, Answer]:
    """The apiserver's answers for every case, by case id. ``api`` is a kubernetes ApiClient."""
    from kubernetes import client

    ext = client.ApiextensionsV1Api(api)
    crs = client.CustomObjectsApi(api)
    adm = client.AdmissionregistrationV1Api(api)
    core = client.CoreV1Api(api)
    out: dict[str, Answer] = {}
    cases = crd_cases()
    try:
        _ask_crd(ext, crs, namespace, pause, cases, out)
        _ask_policies(adm, core, namespace, pause, policy_cases(), out)
    finally:
        cleanup(api, namespace)
    return out


def cleanup(api: Any, namespace: str) -> None:
    """Delete everything the corpus created (ignoring what is already gone)."""
    from kubernetes import client

    def quietly(fn, *args):
        try:
            fn(*args)
        except client.ApiException:
            pass

    adm = client.AdmissionregistrationV1Api(api)
    core = client.CoreV1Api(api)
    for c in policy_cases():
        quietly(adm.delete_validating_admission_policy_binding, POLICY_PREFIX + c.id)
        quietly(adm.delete_validating_admission_policy, POLICY_PREFIX + c.id)
        if c.params is not None:
            quietly(core.delete_namespaced_config_map, _param_meta(c, namespace)["name"], namespace)
    quietly(client.ApiextensionsV1Api(api).delete_custom_resource_definition, CRD_NAME)


def _ask_crd(ext, crs, namespace, pause, cases: list[CRDCase], out: dict[str, Answer]) -> None:
    from kubernetes import client

    # 1. which rules does the apiserver refuse at creation (compile errors, cost)? dry runs of
    #    40 cases at a time; a chunk refused as a whole (total cost) is asked case by case
    refused: dict[str, list[tuple[str, str]]] = {}
    chunks = [cases[i : i + 40] for i in range(0, len(cases), 40)]
    while chunks:
        chunk = chunks.pop(0)
        code, body, _ = _send(ext.create_custom_resource_definition_with_http_info, crd_object(chunk), dry_run="All")
        if code < 300:
            continue
        causes = (body.get("details") or {}).get("causes") or [{"field": "", "message": body.get("message", "")}]
        whole = [c for c in causes if not _RULE_FIELD.search(c.get("field", ""))]
        if whole and len(chunk) > 1:
            chunks[:0] = [[c] for c in chunk]
            continue
        for cause in causes:
            m = _RULE_FIELD.search(cause.get("field", ""))
            cid = m.group(1) if m else chunk[0].id
            refused.setdefault(cid, []).append((m.group(3) if m else "", cause.get("message", "")))
    for cid, problems in refused.items():
        texts = [t for _, t in problems]
        cost = any("cost" in t and "compilation failed" not in t for t in texts)
        out[cid] = Answer("cost" if cost else "invalid", sorted(_compile_message(t) for t in texts))
    # 2. the CRD without the refused rules, and without the update cases' rules at first
    #    (their old objects are stored before the rules exist, as a stored object would be)
    ok = [c for c in cases if c.id not in refused]
    updates = [c for c in ok if c.old is not None]
    try:
        ext.create_custom_resource_definition(crd_object(cases, lambda c: c in ok and c.old is None))
    except client.ApiException as e:
        if e.status != 409:
            raise
        _replace_crd(ext, crd_object(cases, lambda c: c in ok and c.old is None))
    for _ in range(80):
        crd = ext.read_custom_resource_definition(CRD_NAME)
        if any(c.type == "Established" and c.status == "True" for c in crd.status.conditions or []):
            break
        pause(0.25)
    for _ in range(80):  # the endpoint answers a little after Established
        code, _, _ = _send(crs.create_namespaced_custom_object_with_http_info, GROUP, "v1", namespace, PLURAL,
                           custom_resource(SENTINEL, "x"), dry_run="All")  # fmt: skip
        if code != 404:
            break
        pause(0.25)
    stored: dict[str, dict] = {}
    for c in updates:
        code, obj, _ = _send(
            crs.create_namespaced_custom_object_with_http_info,
            GROUP,
            "v1",
            namespace,
            PLURAL,
            custom_resource(c.id, c.old),
        )
        if code >= 300:
            raise CELError(f"could not store the old object of case {c.id}: {obj.get('message')}")
        stored[c.id] = obj
    # 3. now every rule that compiles; probe until the sentinel rule (always false) is enforced
    _replace_crd(ext, crd_object(cases, lambda c: c in ok))
    for _ in range(80):
        code, _, _ = _send(crs.create_namespaced_custom_object_with_http_info, GROUP, "v1", namespace, PLURAL,
                           custom_resource(SENTINEL, "x"), dry_run="All")  # fmt: skip
        if code == 422:
            break
        pause(0.25)
    else:
        raise CELError("the test CRD's new rules were not enforced within 20 s")
    # 4. one dry-run request per case
    for c in ok:
        if c.old is None:
            code, body, warnings = _send(
                crs.create_namespaced_custom_object_with_http_info,
                GROUP,
                "v1",
                namespace,
                PLURAL,
                custom_resource(c.id, c.value),
                dry_run="All",
            )
        else:
            new = copy.deepcopy(stored[c.id])
            new["spec"][c.id] = c.value
            code, body, warnings = _send(
                crs.replace_namespaced_custom_object_with_http_info,
                GROUP,
                "v1",
                namespace,
                PLURAL,
                new["metadata"]["name"],
                new,
                dry_run="All",
            )
        out[c.id] = _crd_answer(code, body, warnings)


def _replace_crd(ext, body: dict) -> None:
    current = ext.read_custom_resource_definition(CRD_NAME)
    body = copy.deepcopy(body)
    body["metadata"]["resourceVersion"] = current.metadata.resource_version
    ext.replace_custom_resource_definition(CRD_NAME, body)


def _ask_policies(adm, core, namespace, pause, cases: list[PolicyCase], out: dict[str, Answer]) -> None:
    from kubernetes import client

    def create(fn, *args):
        try:
            fn(*args)
        except client.ApiException as e:
            if e.status != 409:
                raise

    for c in cases:
        if c.params is not None:
            meta = _param_meta(c, namespace)
            create(core.create_namespaced_config_map, namespace, {"metadata": meta, "data": c.params})
        code, body, _ = _send(adm.create_validating_admission_policy_with_http_info, policy_object(c))
        if code >= 300 and code != 409:
            causes = (body.get("details") or {}).get("causes") or []
            out[c.id] = Answer("invalid", sorted(_compile_message(x.get("message", "")) for x in causes))
            continue
        create(adm.create_validating_admission_policy_binding, binding_object(c, namespace))
    # the policies are compiled by a loop that runs once a second: probe with a case that denies
    probe = next(
        c for c in cases if c.policy["validations"][0]["expression"] == "false" and not c.policy.get("matchConditions")
    )
    for _ in range(80):
        code, _, _ = _send(core.create_namespaced_config_map_with_http_info, namespace, configmap(probe, namespace),
                           dry_run="All")  # fmt: skip
        if code >= 400:
            break
        pause(0.25)
    pause(2.0)  # the others were created in the same second or the next
    for c in cases:
        if c.id in out:
            continue
        code, body, warnings = _send(
            core.create_namespaced_config_map_with_http_info, namespace, configmap(c, namespace), dry_run="All"
        )
        msgs = sorted(f"warning: {w}" for w in warnings)
        if code < 300:
            out[c.id] = Answer("allowed", msgs)
        else:
            message = body.get("message", "")
            verdict = "error" if " resulted in error: " in message else "denied"
            out[c.id] = Answer(verdict, sorted([message, *msgs]))


# ---- comparison ---------------------------------------------------------------------------


def compare(apiserver: dict[str, Answer], local: dict[str, Answer]) -> list[dict]:
    """One row per case: what each side said, and whether verdict and messages agree."""
    index: dict[str, CRDCase | PolicyCase] = {c.id: c for c in crd_cases()}
    index.update({c.id: c for c in policy_cases()})
    rows = []
    for cid, case in index.items():
        a, l = apiserver.get(cid), local.get(cid)
        if a is None or l is None:
            continue
        cost = a.verdict == "cost"
        depth = l.verdict == "invalid" and a.verdict != "invalid" and "recursion" in " ".join(l.messages)
        if isinstance(case, CRDCase):
            what = " | ".join(r.get("rule", "") for r in case.rules)
        else:
            what = " | ".join(v["expression"] for v in case.policy["validations"])
        rows.append(
            dict(
                id=cid,
                library=case.library,
                kind=case.kind,
                case=what,
                apiserver_verdict=a.verdict,
                local_verdict=l.verdict,
                verdict_agrees=a.verdict == l.verdict,
                message_agrees=a.messages == l.messages,
                label=(
                    "cost: estimated by the apiserver only"
                    if cost
                    else "parser depth: cel-cpp in cel-expr-python stops at 32, cel-go at 250"
                    if depth
                    else ""
                ),
                apiserver_messages=a.messages,
                local_messages=l.messages,
            )
        )
    return rows


def summary(rows: list[dict], by: str) -> list[dict]:
    """Agreement per ``by`` ("library" or "kind"): cases, verdicts and messages that agree."""
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r[by], []).append(r)
    out = []
    for name, rs in list(groups.items()) + [("all", rows)]:
        n = len(rs)
        v = sum(r["verdict_agrees"] for r in rs)
        m = sum(r["message_agrees"] for r in rs)
        out.append({by: name, "cases": n, "same verdict": v, "same message": m,
                    "verdict %": round(100 * v / n, 1), "message %": round(100 * m / n, 1)})  # fmt: skip
    return out
