"""vosbench installs like any other package: the wheel alone runs an audit, away from the clone.

The wheel is built from this checkout and installed into a new virtual environment. Its
third-party dependencies are borrowed from the test environment (a ``.pth`` line to its
site-packages, and ``JUPYTER_PATH`` to their templates: they are the same versions, and
downloading half a gigabyte again proves nothing about vosbench), but vosbench itself, its notebooks, parameters and queries come
from the wheel only: the run happens in an empty folder with an empty HOME, and a test
checks that the package imported is the installed one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

import vosbench

REPOSITORY = Path(vosbench.__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def run(command: list, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(part) for part in command], capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A virtual environment with vosbench installed from a freshly built wheel; returns its bin folder."""
    root = tmp_path_factory.mktemp("wheel")
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", root / "dist", REPOSITORY])
    (wheel,) = (root / "dist").glob("vosbench-*.whl")
    venv.create(root / "env", with_pip=False)
    bin_dir = root / "env" / "bin"
    site = Path(run([bin_dir / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
                .stdout.strip())
    (site / "borrowed-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", site, wheel])
    (bin_dir / "vosbench").write_text(f"#!{bin_dir / 'python'}\nimport sys\nfrom vosbench.commands.main import main\n"
                                      "sys.exit(main())\n")
    (bin_dir / "vosbench").chmod(0o755)
    return bin_dir


def test_the_installed_wheel_runs_an_audit_from_an_empty_folder(installed, tmp_path):
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("VOSBENCH", "PYTHON"))}
    env.update(HOME=str(home), PATH=f"{installed}{os.pathsep}{env.get('PATH', '')}",
               JUPYTER_PATH=str(Path(sys.prefix) / "share" / "jupyter"))  # the borrowed packages' templates
    where = run([installed / "python", "-c", "import vosbench; print(vosbench.__file__)"], cwd=work, env=env).stdout
    assert str(installed.parent) in where and str(REPOSITORY) not in where
    ledger = f"sqlite:///{work / 'ledger.sqlite'}"
    run([installed / "vosbench", "demo", "--db", ledger, "--customers", "40", "--months", "3", "--quiet"],
        cwd=work, env=env)
    audit = run([installed / "vosbench", "audit", "--month", "2026-10", "--db", ledger, "--quiet"],
                cwd=work, env=env)
    folder = work / "reports" / "2026-10"
    assert str(folder) in audit.stdout
    assert (folder / "monthly_audit.html").stat().st_size > 100_000
    assert (folder / "monthly-audit-2026-10.xlsx").exists()

    copied = run([installed / "vosbench", "notebooks", work / "nb"], cwd=work, env=env)
    assert "copied" in copied.stdout
    assert {p.name for p in (work / "nb").glob("*.ipynb")} == {p.name for p in (REPOSITORY / "notebooks").glob("*.ipynb")}
    assert (work / "nb" / "parameters" / "controls.yaml").read_text() == (REPOSITORY / "parameters" /
                                                                         "controls.yaml").read_text()
