"""A real sidecar process: ``node src/main.ts`` from the repository root, as ``npm start`` runs it."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
# First start of an embedded PostgreSQL runs initdb: seconds on a busy machine, rarely a minute.
READY_TIMEOUT_SECONDS = 180


class Sidecar:
    def __init__(self, data_dir: Path, env: dict[str, str]) -> None:
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node: not on PATH; the tests start a real sidecar with Node 24")
        self.data_dir = data_dir
        self.outbox = data_dir / "outbox"
        self.log: list[str] = []
        full_env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"),
                    "POST_OFFICE_DATA_DIR": str(data_dir), "POST_OFFICE_PORT": "0",
                    "POST_OFFICE_ADMIN_PORT": "0", "POST_OFFICE_ADMIN_HOST": "127.0.0.1",
                    "POST_OFFICE_POLL_SECONDS": "0.2", "LOG_LEVEL": "info", **env}
        if os.environ.get("DATABASE_URL"):
            full_env["DATABASE_URL"] = os.environ["DATABASE_URL"]
        self.process = subprocess.Popen([node, "src/main.ts"], cwd=REPO_ROOT, env=full_env, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self._ready = threading.Event()
        self.api_url = ""
        threading.Thread(target=self._read, daemon=True).start()
        if not self._ready.wait(READY_TIMEOUT_SECONDS) or not self.api_url:
            self.stop()
            raise RuntimeError("sidecar did not log 'post office ready':\n" + "\n".join(self.log[-40:]))

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.log.append(line.rstrip("\n"))
            if '"post office ready"' in line and not self._ready.is_set():
                self.api_url = json.loads(line)["api"]
                self._ready.set()
        self._ready.set()  # exited: wake the waiter, which finds no api_url

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()
