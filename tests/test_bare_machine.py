"""`make test` on a machine without the Debian packages its tests drive (issue 22): .ci/debian-packages
installs them when it can, else says in one line what to install and exits 0 (the tests skip); .ci/run
requires them. The packages are hidden in a private mount namespace (needs root and `unshare`)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import ROOT

SCRIPT = ROOT / ".ci" / "debian-packages"
pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("su"),
                                reason="hides packages in a private mount namespace: needs root and unshare")


def _hidden(command: str) -> subprocess.CompletedProcess:
    """``command`` in a mount namespace where Chromium and QGIS's Python package are not there."""
    hide = "mount --bind /dev/null /usr/bin/chromium 2>/dev/null; " \
           "mount -t tmpfs none /usr/lib/python3/dist-packages/qgis 2>/dev/null; "
    return subprocess.run(["unshare", "-m", "bash", "-c", hide + command], capture_output=True, text=True, timeout=120)


def test_without_root_it_says_what_to_install_and_exits_0():
    if not os.path.exists("/usr/bin/chromium"):
        pytest.skip("chromium is not installed here: nothing to hide")
    folder = Path(tempfile.mkdtemp(prefix="bare-"))  # pytest's own folders are closed to other users
    try:
        script = folder / "debian-packages"
        shutil.copy(SCRIPT, script)
        folder.chmod(0o755)
        script.chmod(0o755)
        res = _hidden(f"su nobody -s /bin/bash -c 'bash {script}; echo rc=$?; bash {script} --require; echo rc=$?'")
    finally:
        shutil.rmtree(folder)
    lines = res.stderr.strip().splitlines()
    assert res.stdout.split() == ["rc=0", "rc=1"], res
    assert len(lines) == 2 and lines[0] == lines[1]
    assert lines[0].startswith("make test: missing Debian packages chromium") and \
        "(installing needs root or sudo without a password)" in lines[0] and "fix: sudo apt-get install chromium" in lines[0]


def test_a_missing_package_makes_its_tests_skip_with_the_install_line():
    if not os.path.isdir("/usr/lib/python3/dist-packages/qgis"):
        pytest.skip("python3-qgis is not installed here: nothing to hide")
    code = ("import sys; sys.path.insert(0, 'tests'); from conftest import missing_debian; "
            "print(missing_debian('python3-qgis')); print(missing_debian('chromium'))")
    res = _hidden(f"cd {ROOT} && PYTHONPATH={ROOT} {sys.executable} -c \"{code}\"")
    assert res.returncode == 0, res.stderr
    qgis, chromium = res.stdout.strip().splitlines()
    assert qgis.startswith("needs Debian's python3-qgis: sudo apt-get install python3-qgis")
    assert chromium.startswith("needs Debian's chromium: sudo apt-get install chromium")
