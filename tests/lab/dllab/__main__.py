"""Run the lab's command line: /usr/bin/python3 tests/lab/dllab/__main__.py
(what tests/lab/lab and the fence agent run), or python3 -m dllab."""

import os
import sys

if __name__ == "__main__":
    sys.dont_write_bytecode = True  # keep the source tree clean
    if not __package__:
        # run as a file: import the package from the directory holding it
        here = os.path.dirname(os.path.abspath(__file__))
        sys.path[0:1] = [os.path.dirname(here)]
    from dllab.cli import main
    sys.exit(main())
