"""Recordings for replay mode: where they live, HTTP transcripts, the etcd write log, redaction, recording."""
