"""ctsprep -- `dlcts.py prepare WORK`: Pacemaker's CTS (2.1.5) from Debian's
source package, configured into WORK the way CTS's own configure step would
(see doc/cts.md, "Getting CTS").  Python 3 standard library only; root."""

import glob
import os
import re
import shutil
import subprocess

import ctscommon  # noqa: F401  (puts tests/lab on sys.path)
import dllab  # noqa: E402
from ctscommon import HERE, PCMK_VERSION, PREP_STAMP, log, run, write_exec

# --------------------------------------------------------------------------

SOURCES = "/etc/apt/sources.list.d/dlcts-deb-src.sources"


def have_deb_src():
    for f in glob.glob("/etc/apt/sources.list.d/*.sources") + \
            glob.glob("/etc/apt/sources.list.d/*.list") + ["/etc/apt/sources.list"]:
        try:
            with open(f) as fh:
                text = fh.read()
        except OSError:
            continue
        if re.search(r"^\s*Types:.*\bdeb-src\b", text, re.M) or \
                re.search(r"^\s*deb-src\s", text, re.M):
            return True
    return False


def ensure_deb_src():
    """Add a deb-src entry with the URIs/suites of the system's deb entries."""
    if have_deb_src():
        return False
    stanzas = []
    for f in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        with open(f) as fh:
            for st in fh.read().split("\n\n"):
                if re.search(r"^Types:\s*deb\s*$", st, re.M) and \
                        re.search(r"^URIs:.*debian", st, re.M):
                    stanzas.append(re.sub(r"^Types:.*$", "Types: deb-src", st.strip(), flags=re.M))
    if not stanzas:
        raise SystemExit("dlcts: no Debian deb entry in /etc/apt/sources.list.d/*.sources "
                         "to derive a deb-src entry from; add one by hand")
    with open(SOURCES, "w") as fh:
        fh.write("# added by disklink's tests/cts (make cts): Debian sources\n" +
                 "\n\n".join(stanzas) + "\n")
    return True


def ensure_packages():
    """sshd and ping for the nodes and the exerciser, socat for the ssh path
    to a node whose network is cut, dpkg-source for apt-get source."""
    need = [p for p, tool in (("openssh-server", "/usr/sbin/sshd"),
                              ("openssh-client", "/usr/bin/ssh"),
                              ("iputils-ping", "/usr/bin/ping"),
                              ("psmisc", "/usr/bin/killall"),
                              ("socat", "/usr/bin/socat"),
                              ("dpkg-dev", "/usr/bin/dpkg-source"))
            if not os.path.exists(tool)]
    if need:
        log("installing %s" % " ".join(need))
        # policy-rc.d keeps the package from starting sshd in the root
        # namespaces (Debian's postinst asks invoke-rc.d first).
        made = False
        if not os.path.exists("/usr/sbin/policy-rc.d"):
            with open("/usr/sbin/policy-rc.d", "w") as fh:
                fh.write("#!/bin/sh\nexit 101\n")
            os.chmod("/usr/sbin/policy-rc.d", 0o755)
            made = True
        try:
            run(["apt-get", "install", "-y", "-q", "--no-install-recommends"] + need,
                env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        finally:
            if made:
                os.unlink("/usr/sbin/policy-rc.d")


def fetch_source(work):
    src = os.path.join(work, "src")
    tree = os.path.join(src, "pacemaker-" + PCMK_VERSION)
    if os.path.isdir(os.path.join(tree, "cts", "lab")):
        return tree
    os.makedirs(src, exist_ok=True)
    if ensure_deb_src() or not glob.glob("/var/lib/apt/lists/*_Sources"):
        run(["apt-get", "update", "-q"], stdout=subprocess.DEVNULL)
    run(["apt-get", "source", "-q", "pacemaker=" + run(
        ["dpkg-query", "-W", "-f", "${Version}", "pacemaker"],
        capture_output=True, text=True).stdout.strip()], cwd=src)
    if not os.path.isdir(os.path.join(tree, "cts", "lab")):
        raise SystemExit("dlcts: apt-get source pacemaker gave no %s/cts/lab" % tree)
    return tree


def subst(text, values):
    for k, v in values.items():
        text = text.replace("@%s@" % k, v)
    left = re.findall(r"@[A-Za-z_]+@", text)
    return text, left


def prepare(work):
    """Get CTS and configure it (what its configure step would substitute)."""
    work = os.path.abspath(work)
    if os.geteuid() != 0:
        dllab.skip_or_fail("make cts needs root (apt-get, namespaces, loop devices)")
    ensure_packages()
    tree = fetch_source(work)
    lab = os.path.join(tree, "cts", "lab")
    support = os.path.join(tree, "cts", "support")
    ctsdir = os.path.join(work, "cts")           # the python package 'cts'
    libexec = os.path.join(work, "libexec")       # CTSvars.CRM_DAEMON_DIR
    nsbin = os.path.join(work, "node-sbin")       # overlay on the nodes' /usr/sbin
    ninit = os.path.join(work, "node-init.d")     # overlay on /etc/init.d
    for d in (ctsdir, libexec, nsbin, ninit):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    values = {
        "PYTHON": "/usr/bin/python3", "BASH_PATH": "/bin/bash",
        "datadir": work, "PACKAGE": "pacemaker",
        "CRM_CONFIG_DIR": "/var/lib/pacemaker/cib",
        "CRM_LOG_DIR": "/var/log/pacemaker", "CRM_DAEMON_USER": "hacluster",
        "CRM_DAEMON_DIR": libexec, "OCF_ROOT_DIR": "/usr/lib/ocf",
        "PCMK__COROSYNC_CONF": "/etc/corosync/corosync.conf",
    }
    for f in sorted(os.listdir(lab)):
        p = os.path.join(lab, f)
        if f.endswith(".py"):
            shutil.copy(p, ctsdir)
        elif f in ("CTSvars.py.in", "CTSlab.py.in"):
            with open(p) as fh:
                text, left = subst(fh.read(), values)
            if left:
                raise SystemExit("dlcts: %s: unsubstituted %s" % (f, left))
            with open(os.path.join(ctsdir, f[:-3]), "w") as fh:
                fh.write(text)
    # CTSvars.CTS_home: where CTSlab.py is
    cv = os.path.join(ctsdir, "CTSvars.py")
    with open(cv) as fh:
        text = fh.read()
    text = re.sub(r'CTS_home=.*', 'CTS_home="%s"' % ctsdir, text)
    text = re.sub(r'Fencing_home=.*', 'Fencing_home="%s"' % ctsdir, text)
    with open(cv, "w") as fh:
        fh.write(text)
    patch_splitbrain(os.path.join(ctsdir, "CTStests.py"))
    # helpers the nodes run from CRM_DAEMON_DIR
    with open(os.path.join(lab, "cts-log-watcher.in")) as fh:
        text, _ = subst(fh.read(), values)
    write_exec(os.path.join(libexec, "cts-log-watcher"), text)
    for f in ("cts-exec-helper", "cts-support"):
        shutil.copy(os.path.join(HERE, "node", "libexec", f), libexec)
    # support files cts-support would install: fence_dummy (+ aliases) and LSBDummy
    with open(os.path.join(support, "fence_dummy.in")) as fh:
        text, _ = subst(fh.read(), values)
    write_exec(os.path.join(nsbin, "fence_dummy"), text)
    for alias in ("auto_unfence", "no_reboot", "no_on"):
        os.symlink("fence_dummy", os.path.join(nsbin, "fence_dummy_" + alias))
    with open(os.path.join(support, "LSBDummy.in")) as fh:
        text, left = subst(fh.read(), values)
    write_exec(os.path.join(ninit, "LSBDummy"), text)
    for f in ("service", "iptables", "fence_dlcts"):
        shutil.copy(os.path.join(HERE, "node", "sbin", f), nsbin)
    with open(os.path.join(work, "prepared"), "w") as fh:
        fh.write("%s\npacemaker %s CTS from %s\n" % (PREP_STAMP, PCMK_VERSION, tree))
    log("CTS configured in %s" % ctsdir)
    return work


def patch_splitbrain(path):
    """CTS 2.1.5's SplitBrain waits for the partitions in a loop that never
    counts down (`count` is not decremented), so a cluster that does not
    split keeps it waiting forever instead of reporting "Expected partitions
    were not created".  Count down as the loops after it do (30 x 10 s)."""
    with open(path) as fh:
        text = fh.read()
    old = ("        count = 30\n        while count > 0:\n"
           "            if len(self.CM.find_partitions()) != p_max:\n"
           "                time.sleep(10)\n            else:\n")
    # the wait (count x 10 s) comes from DLCTS_SPLITBRAIN_COUNT, set by
    # dlcts.py run (--splitbrain-wait); upstream's is 30
    new = ("        count = int(os.environ.get('DLCTS_SPLITBRAIN_COUNT', '30'))\n"
           "        while count > 0:\n"
           "            if len(self.CM.find_partitions()) != p_max:\n"
           "                time.sleep(10)\n"
           "                count -= 1  # dlcts: the upstream loop never counted down\n"
           "            else:\n")
    if old not in text:
        raise SystemExit("dlcts: SplitBrain loop not found in %s (another CTS version?)" % path)
    with open(path, "w") as fh:
        fh.write(text.replace(old, new, 1))


def is_prepared(work):
    """WORK was prepared by this version of prepare."""
    try:
        with open(os.path.join(work, "prepared")) as fh:
            return fh.readline().strip() == PREP_STAMP
    except OSError:
        return False
