import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import os
import subprocess
import tarfile

import pytest

FASTAPI_SDIST = "fastapi==0.163.2"


@pytest.fixture(scope="session")
def fastapi_sdist() -> Path:
    """FastAPI's sdist (docs_src/ and tests/: correct code nobody here wrote). From
    `$FASTAPI_SDIST_DIR` when set, else pip-downloaded once into a per-user cache (the
    package registries are reachable in CI); skipped when neither works."""
    explicit = os.environ.get("FASTAPI_SDIST_DIR")
    if explicit:
        return Path(explicit)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "fastapi-deplint-tests"
    root = cache / FASTAPI_SDIST.replace("==", "-")
    if not (root / "docs_src").is_dir():
        cache.mkdir(parents=True, exist_ok=True)
        try:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-q", "-d", str(cache), FASTAPI_SDIST],
                check=True,
                capture_output=True,
                timeout=300,
            )
        except (subprocess.SubprocessError, OSError) as exc:
            pytest.skip(f"cannot download {FASTAPI_SDIST}: {exc}")
        archive = next(cache.glob("fastapi-0.163.2.tar.gz"))
        with tarfile.open(archive) as tf:
            tf.extractall(cache, filter="data")
    return root
