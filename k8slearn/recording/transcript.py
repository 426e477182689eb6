"""Record and replay the Kubernetes API at the HTTP level, below the official client.

The official `kubernetes` client sends its requests through urllib3; vcrpy records those
exchanges into a YAML "cassette" and answers from it later, so in replay the client parses
the very bytes it parsed when recorded (lists, objects, errors, and watch streams of
newline-delimited events). Matching is by method, path, query and body, in order: the n-th
identical request gets the n-th recorded answer, and a request that was never recorded
raises `NotRecorded` naming it and how to re-record.

Before anything is written: request headers that carry credentials are dropped, response
headers are reduced to Content-Type and Warning, and the data of every Secret outside the
curriculum's own `k8slearn-*` namespaces is replaced by "REDACTED" (the notebooks' demo
Secrets are kept, so replay shows what live showed).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from k8slearn.errors import FixtureMissing, NotRecorded
from k8slearn.recording.redact import CURRICULUM_NAMESPACE, redact_body

if TYPE_CHECKING:
    from kubernetes.client import ApiClient


def _request_body(request) -> bytes:
    body = request.body or b""
    body = body if isinstance(body, bytes) else body.encode()
    path = request.path
    return redact_body(body, secret="/secrets" in path and f"/namespaces/{CURRICULUM_NAMESPACE}" not in path)


RECORDED_HOST = "https://kube-apiserver"


def _before_record_request(request):
    # the server's address is machine-specific (a random loopback port); matching ignores it
    path = request.uri.split("://", 1)[-1]
    request.uri = RECORDED_HOST + "/" + path.split("/", 1)[1] if "/" in path else RECORDED_HOST + "/"
    for h in list(request.headers):
        if h.lower() in ("authorization", "cookie", "user-agent"):
            del request.headers[h]
    if request.body:
        request.body = _request_body(request)
    return request


def _same_redacted_body(r1, r2):
    """vcrpy matcher: bodies are equal once both are redacted (recorded ones already are)."""
    if _request_body(r1) != _request_body(r2):
        raise AssertionError("request bodies differ")


def _before_record_response(response):
    # Content-Type, and Warning: what admission webhooks/policies and deprecations tell the
    # client (https://kubernetes.io/docs/reference/using-api/api-concepts/#warnings)
    response["headers"] = {k: v for k, v in response["headers"].items() if k.lower() in ("content-type", "warning")}
    body = response["body"].get("string", b"")
    if isinstance(body, str):
        body = body.encode()
    response["body"]["string"] = redact_body(body)
    return response


def cassette(path: Path, *, record: bool) -> AbstractContextManager[Any]:
    """A vcrpy cassette context: record (overwrite) or replay only."""
    import vcr

    if not record and not Path(path).is_file():
        raise FixtureMissing(f"the API transcript {path} is missing; record it with `k8slearn record`")
    my_vcr = vcr.VCR(
        record_mode="all" if record else "none",
        match_on=["method", "path", "query", "redacted_body"],
        before_record_request=_before_record_request,
        before_record_response=_before_record_response,
        decode_compressed_response=True,
    )
    my_vcr.register_matcher("redacted_body", _same_redacted_body)
    return my_vcr.use_cassette(str(path), allow_playback_repeats=False)


def replay_api_client(host: str, notebook: str) -> ApiClient:
    """An official `ApiClient` whose unmatched requests raise `NotRecorded`."""
    from kubernetes import client as k8s

    api = k8s.ApiClient(k8s.Configuration(host=host))
    rest = api.rest_client
    plain_request = rest.request

    def request(method, url, *args, **kwargs):
        # the REST layer below every generated API method, in all client versions
        from vcr.errors import CannotOverwriteExistingCassetteException

        try:
            return plain_request(method, url, *args, **kwargs)
        except CannotOverwriteExistingCassetteException:
            path = url.split("://", 1)[-1].split("/", 1)[-1]
            raise NotRecorded(
                f"{method} /{path} is not in the recording of notebook {notebook!r} (or was asked "
                "more often than recorded). Replay answers only the questions a notebook asked "
                "when recorded: undo the edit, run live, or re-record with `k8slearn record`."
            ) from None

    rest.request = request  # type: ignore[method-assign]  # patching this client's REST layer on purpose
    return api


# The real urllib3 connection classes, taken when this module is imported (before any cassette
# patches them), for `unrecorded_api_client`.
import urllib3.connection as _u3conn  # noqa: E402
import urllib3.connectionpool as _u3pool  # noqa: E402


class _RealHTTPConnectionPool(_u3pool.HTTPConnectionPool):
    ConnectionCls = _u3conn.HTTPConnection
    _get_conn = _u3pool.HTTPConnectionPool._get_conn


class _RealHTTPSConnectionPool(_u3pool.HTTPSConnectionPool):
    ConnectionCls = _u3conn.HTTPSConnection
    _get_conn = _u3pool.HTTPSConnectionPool._get_conn


def unrecorded_api_client(api: ApiClient) -> ApiClient:
    """A new ApiClient to `api`'s server whose traffic goes past an active recording cassette.

    For timing in record mode only: the recorder reads a whole response before the client sees
    a byte, so a stream timed through it would look instantaneous at its end. What is measured
    with this client is kept by the Lab (`Lab.timed`), not in the transcript."""
    from kubernetes import client as k8s

    if "vcr" in (_RealHTTPSConnectionPool.ConnectionCls.__module__ or ""):
        raise FixtureMissing("k8slearn.recording.transcript was imported inside a cassette; import it before")
    fresh = k8s.ApiClient(api.configuration)
    pm = fresh.rest_client.pool_manager
    pm.pool_classes_by_scheme = {"http": _RealHTTPConnectionPool, "https": _RealHTTPSConnectionPool}
    return fresh
