"""Compile the small .proto files of this package into a private descriptor pool (once)."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path
from typing import Any

from k8slearn.cel.errors import CELError

HERE = Path(__file__).parent


@functools.cache
def pool_and_classes(*proto_names: str) -> tuple[Any, dict[str, Any]]:
    """Return (DescriptorPool, {full message name: class}) for the given .proto files."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    from grpc_tools import protoc

    pool = descriptor_pool.DescriptorPool()
    classes = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in proto_names:
            out = Path(tmp) / (name + ".binpb")
            rc = protoc.main(["protoc", f"-I{HERE}", f"--descriptor_set_out={out}", name])
            if rc != 0:
                raise CELError(
                    f"protoc could not compile {HERE / name} (exit {rc}); "
                    "reinstall k8slearn with its grpcio-tools dependency"
                )
            fds = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
            for fdp in fds.file:
                pool.Add(fdp)
                for m in fdp.message_type:
                    full = f"{fdp.package}.{m.name}"
                    classes[full] = message_factory.GetMessageClass(pool.FindMessageTypeByName(full))
    return pool, classes
