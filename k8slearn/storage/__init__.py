"""What kube-apiserver stores: the resources it knows, their etcd keys, and the codec for the stored values."""
