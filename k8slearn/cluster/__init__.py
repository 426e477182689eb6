"""The curriculum's clusters: the local control plane (`local`, built by `binaries`) and Kind (`kind`)."""
