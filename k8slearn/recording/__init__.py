"""Recordings for replay mode: where they live, the HTTP transcripts, the etcd write log, redaction, and recording itself."""
