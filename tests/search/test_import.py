import subprocess
import sys


def test_import_is_light():
    code = (
        "import sys, hyperhive as hh\n"
        "hh.Space; hh.search; hh.executors.get_executor; hh.optimizers.get_optimizer\n"
        "heavy = [m for m in ('torch', 'ray', 'dask', 'distributed', 'mpi4py', 'plotly')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
