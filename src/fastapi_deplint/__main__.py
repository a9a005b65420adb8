import os
import sys

# `python -m fastapi_deplint` puts the current folder first on `sys.path`: run from inside the
# analysed project, its own `tokenize.py`, `ast.py` or `click.py` would be imported — executed —
# in place of the standard library's. The linter never needs the current folder there.
if sys.path and not sys.flags.safe_path and os.path.abspath(sys.path[0] or os.curdir) == os.getcwd():
    del sys.path[0]

from .cli import run  # noqa: E402

if __name__ == "__main__":
    run()
