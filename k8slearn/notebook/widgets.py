"""ipywidgets for exploring what etcd holds, built from values already read.

The browser never reads etcd itself: it is handed the key-values a notebook read, so it
works the same in replay (where every etcd read is pinned to a recorded revision) and live.
``render`` is the pure part (one value -> the text shown); ``KeyBrowser`` puts a Dropdown
of keys in front of it. Its ``show(key)`` is the update function: the Dropdown calls it,
and a notebook calls it once directly so the output is computed under papermill too.
"""

from __future__ import annotations

import html

from k8slearn.errors import K8sLearnError

__all__ = ["WidgetError", "render", "KeyBrowser", "RevisionBrowser", "render_revision", "revision_diff"]

HEX_BYTES = 160  # bytes of hex view shown per value


class WidgetError(K8sLearnError):
    """A browser was built or asked for something it cannot show; the message says what."""


def _yaml(obj) -> str:
    import yaml

    return yaml.safe_dump(obj, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)


def render(key: str, value: bytes, *, mod_revision: int | None = None, hex_bytes: int = HEX_BYTES) -> str:
    """The text the browser shows for one stored value: a header, the decoded object, a hex view.

    Never raises for a value it cannot decode: the header says why (a learner browsing a
    live keyspace will meet types the built-in schema does not know).
    """
    from k8slearn.storage import codec

    if not isinstance(value, (bytes, bytearray)):
        raise WidgetError(f"value of {key} must be bytes, got {type(value).__name__}")
    value = bytes(value)
    head = [
        f"key: {key}",
        f"size: {len(value)} bytes"
        + (f", mod_revision (= resourceVersion): {mod_revision}" if mod_revision is not None else ""),
    ]
    body = ""
    ranges = None
    try:
        d = codec.decode(value)
        head.append(f"encoding: {d.encoding}" + (f", {d.api_version} {d.kind}" if d.kind else ""))
        if d.encoding == "encrypted":
            body = f"encrypted at rest by provider {d.provider!r} (key {d.key_name!r}); not decrypted here\n"
        elif d.raw_tree is not None:
            body = "# the built-in schema does not know this type: field numbers and wire types\n" + _yaml(d.raw_tree)
        elif isinstance(d.obj, str):
            body = d.obj + "\n"
        else:
            body = _yaml(d.obj)
        if d.encoding == "protobuf":
            ranges = codec.annotate_envelope(value)
    except codec.DecodeError as e:
        head.append(f"not decodable: {e}")
    shown = value[:hex_bytes]
    if ranges is not None:
        ranges = [(s, min(e, len(shown)), label) for s, e, label in ranges if s < len(shown)]
    hexview = codec.hexdump(shown, ranges)
    more = f"\n... {len(value) - hex_bytes} more bytes" if len(value) > hex_bytes else ""
    return "\n".join(head) + "\n\n" + body + "\n--- hex view ---\n" + hexview + more


class KeyBrowser:
    """A Dropdown of etcd keys; picking one shows its decoded object and hex view.

    ``kvs`` are ``k8slearn.cluster.etcd.KeyValue``s (anything with ``key``, ``value`` and
    ``mod_revision``). ``.widget`` is what to display; ``.show(key)`` updates it and
    returns the text shown.
    """

    def __init__(self, kvs, *, initial: str | None = None, hex_bytes: int = HEX_BYTES):
        import ipywidgets as w

        self._kvs = {kv.key: kv for kv in kvs}
        if not self._kvs:
            raise WidgetError("no keys to browse: pass the key-values a read returned, e.g. lab.etcd.range()")
        if initial is not None and initial not in self._kvs:
            raise WidgetError(f"initial key {initial!r} is not among the {len(self._kvs)} keys given")
        self.hex_bytes = hex_bytes
        self.text = ""
        options = sorted(self._kvs)
        self.dropdown = w.Dropdown(
            options=options, value=initial or options[0], description="key", layout=w.Layout(width="95%")
        )
        # an HTML widget rather than an Output widget: its text is plain widget state, so it
        # needs no output capture (which can stall a kernel run headless by papermill)
        self.output = w.HTML(layout=w.Layout(max_height="480px", overflow="auto", border="1px solid #ccc"))
        self.widget = w.VBox([self.dropdown, self.output])
        self.dropdown.observe(lambda change: self.show(change["new"]), names="value")
        self.show(self.dropdown.value)

    @property
    def keys(self) -> list[str]:
        """The keys the Dropdown offers."""
        return list(self.dropdown.options)

    def show(self, key: str) -> str:
        """Show ``key`` (selecting it in the Dropdown) and return the text shown."""
        if key not in self._kvs:
            raise WidgetError(f"{key!r} is not among the browsed keys; pick one of .keys")
        if self.dropdown.value != key:
            self.dropdown.value = key  # the Dropdown's observer calls show(key) again, which renders
            return self.text
        kv = self._kvs[key]
        self.text = render(kv.key, kv.value, mod_revision=getattr(kv, "mod_revision", None), hex_bytes=self.hex_bytes)
        self.output.value = f"<pre style='margin:0'>{html.escape(self.text)}</pre>"
        return self.text


def _shown(version, managed_fields: bool = False) -> object:
    """What a revision shows: the decoded object (None for a deletion, the text of a plain value);
    without `metadata.managedFields` unless asked (every write changes their times)."""
    if getattr(version, "deleted", False):
        return None
    from k8slearn.storage import codec

    try:
        d = codec.decode(version.value)
    except codec.DecodeError as e:
        return f"(not decodable: {e})"
    if d.encoding == "encrypted":
        return f"(encrypted by {d.provider!r})"
    obj = d.obj
    if not managed_fields and isinstance(obj, dict) and isinstance(obj.get("metadata"), dict):
        if "managedFields" in obj["metadata"]:
            obj = dict(obj, metadata={k: v for k, v in obj["metadata"].items() if k != "managedFields"})
    return obj


def revision_diff(before, after, *, context: int = 2) -> str:
    """A unified diff of two decoded objects as YAML ("" when equal); None stands for "absent"."""
    import difflib

    def lines(obj) -> list[str]:
        if obj is None:
            return []
        return (obj if isinstance(obj, str) else _yaml(obj)).splitlines()

    return "\n".join(difflib.unified_diff(lines(before), lines(after), "before", "after", n=context, lineterm=""))


def render_revision(history, index: int, *, managed_fields: bool = False) -> str:
    """The text the revision browser shows for `history[index]`: its bookkeeping, the diff against
    the revision before it, then the whole object (`metadata.managedFields` left out unless asked)."""
    if not 0 <= index < len(history):
        raise WidgetError(f"revision index {index} is outside the history's 0..{len(history) - 1}")
    v = history[index]
    prev = _shown(history[index - 1], managed_fields) if index else None
    now = _shown(v, managed_fields)
    head = (
        f"{v.key}"
        + ("" if managed_fields else " (metadata.managedFields left out)")
        + f"\nrevision {v.mod_revision}"
        + (
            " — deleted"
            if v.deleted
            else f": version {v.version}, created at {v.create_revision}, {len(v.value)} bytes"
        )
    )
    diff = revision_diff(prev, now) if index else "(the oldest revision in the file: nothing to compare with)"
    body = "" if now is None else (now if isinstance(now, str) else _yaml(now))
    diff = diff or "(no change in the decoded object)"
    return f"{head}\n\n--- diff against the revision before ---\n{diff}\n\n--- object ---\n{body}"


class RevisionBrowser:
    """A slider over the revisions of one key: each position shows that revision's object and its
    diff against the one before. ``history`` is what ``Snapshot.history(key)`` returns (oldest
    first). ``.widget`` is what to display; ``.show(revision)`` moves the slider and returns the
    text shown (the notebook calls it too, so the output is computed under papermill)."""

    def __init__(self, history, *, initial: int | None = None, managed_fields: bool = False):
        import ipywidgets as w

        self.managed_fields = managed_fields
        self.history = list(history)
        if not self.history:
            raise WidgetError("no revisions to browse: pass Snapshot.history(key) of a key the snapshot holds")
        self.revisions = [v.mod_revision for v in self.history]
        if initial is not None and initial not in self.revisions:
            raise WidgetError(f"revision {initial} is not among this key's revisions {self.revisions}")
        self.text = ""
        self.slider = w.SelectionSlider(
            options=self.revisions,
            value=initial if initial is not None else self.revisions[-1],
            description="revision",
            continuous_update=False,
            layout=w.Layout(width="95%"),
        )
        self.output = w.HTML(layout=w.Layout(max_height="480px", overflow="auto", border="1px solid #ccc"))
        self.widget = w.VBox([self.slider, self.output])
        self.slider.observe(lambda change: self.show(change["new"]), names="value")
        self.show(self.slider.value)

    def show(self, revision: int) -> str:
        """Show `revision` (moving the slider) and return the text shown."""
        if revision not in self.revisions:
            raise WidgetError(f"revision {revision} is not among this key's revisions; pick one of .revisions")
        if self.slider.value != revision:
            self.slider.value = revision  # the observer calls show(revision) again, which renders
            return self.text
        self.text = render_revision(self.history, self.revisions.index(revision), managed_fields=self.managed_fields)
        self.output.value = f"<pre style='margin:0'>{html.escape(self.text)}</pre>"
        return self.text
