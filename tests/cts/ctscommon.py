"""ctscommon -- what every part of tests/cts/dlcts.py shares: where the
files are, the CTS version, logging, running a command.  Importing it puts
tests/lab on sys.path (for dllab)."""

import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lab"))

PCMK_VERSION = "2.1.5"
# `prepared` in WORK holds this: a WORK prepared by an older dlcts is redone
PREP_STAMP = "dlcts-prepare 2"


def log(msg):
    sys.stderr.write("[dlcts %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def run(argv, **kw):
    kw.setdefault("check", True)
    return subprocess.run(argv, **kw)


def write_exec(path, text):
    with open(path, "w") as fh:
        fh.write(text)
    os.chmod(path, 0o755)
