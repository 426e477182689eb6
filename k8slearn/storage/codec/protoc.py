"""The one way the codec runs protoc: .proto files in, a FileDescriptorSet out.

protoc comes from the ``grpcio-tools`` package (``python -m grpc_tools.protoc``), which
also carries the well-known types (``google/protobuf/*.proto``).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from k8slearn.storage.codec.errors import SchemaError


def version() -> str:
    """The installed grpcio-tools version (it fixes the protoc version), or "?"."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("grpcio-tools")
    except PackageNotFoundError:
        return "?"


def descriptor_set(include_dirs: Iterable[Path], files: list[str]) -> bytes:
    """Compile ``files`` (paths relative to an include dir) with their imports; SchemaError
    with protoc's first error line when it fails."""
    import grpc_tools

    well_known = Path(grpc_tools.__file__).parent / "_proto"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "descriptors.binpb"
        cmd = [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            *(f"-I{d}" for d in include_dirs),
            f"-I{well_known}",
            f"--descriptor_set_out={out}",
            "--include_imports",
            *files,
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            first = (proc.stderr or proc.stdout or "protoc failed").strip().splitlines()[0]
            raise SchemaError(f"protoc could not compile the .proto files: {first}")
        return out.read_bytes()
