"""`python -m k8slearn`: the command line (see k8slearn.cli)."""

import sys

from k8slearn.cli import main

if __name__ == "__main__":
    sys.exit(main())
