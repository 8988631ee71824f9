"""Start and stop devcouch, the in-memory CouchDB stand-in in ``devcouch/``.

Tests and the demo need a server that speaks CouchDB 3.x's HTTP protocol, and
machines without a Docker engine cannot run a real CouchDB. devcouch
(express-pouchdb over in-memory PouchDB, corrected where it differs from
CouchDB for our client; see devcouch/server.js) starts in about a second and
writes nothing to disk.
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

DEVCOUCH_DIR = Path(__file__).resolve().parents[2] / "devcouch"

READY_PREFIX = "DEVCOUCH_LISTENING "
START_TIMEOUT_S = 30.0
STOP_GRACE_S = 5.0
NPM_CI = ("ci", "--omit=optional", "--no-audit", "--no-fund")


def _which(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise RuntimeError(
            f"devcouch needs `{tool}` (Node.js 18 or newer) on PATH. Install "
            "Node.js, or point COUCHDB_URL at a real CouchDB instead."
        )
    return path


def _is_installed() -> bool:
    # npm writes node_modules/.package-lock.json at the end of a completed
    # install, so it marks an install that finished, not one that was cut off.
    stamp = DEVCOUCH_DIR / "node_modules" / ".package-lock.json"
    lock = DEVCOUCH_DIR / "package-lock.json"
    return stamp.is_file() and stamp.stat().st_mtime >= lock.stat().st_mtime


def ensure_installed() -> None:
    """Install devcouch's pinned npm packages if they are missing or stale.

    Runs ``npm ci`` (exact versions from package-lock.json, no native build)
    only when node_modules is absent or older than the lock file, so that a
    fresh clone works without a manual step and later runs cost nothing.
    """
    _which("node")
    if _is_installed():
        return
    npm = _which("npm")
    # Holding a lock on package-lock.json keeps parallel test workers from
    # running two `npm ci` into the same node_modules.
    with open(DEVCOUCH_DIR / "package-lock.json", "rb") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        if _is_installed():
            return
        result = subprocess.run(
            [npm, *NPM_CI],
            cwd=DEVCOUCH_DIR,
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode != 0:
        raise RuntimeError(
            f"`npm {' '.join(NPM_CI)}` failed in {DEVCOUCH_DIR} "
            f"(exit {result.returncode}):\n{result.stderr.strip()}"
        )


def _url(user: str, password: str, port: int) -> str:
    return f"http://{quote(user, safe='')}:{quote(password, safe='')}@127.0.0.1:{port}"


class DevCouch:
    """A devcouch server process, usable as a context manager.

    ``url`` carries the admin's credentials, ``reader_url`` those of a
    read-only user (reads and view queries only, like a CouchDB member whose
    writes are refused), so tests can prove what a reporting service may do
    with read-only credentials.
    """

    def __init__(
        self,
        port: int = 0,
        user: str = "admin",
        password: str = "admin",
        reader_user: str = "reader",
        reader_password: str = "reader",
        lockout_threshold: int = 5,
        lockout_lifetime_ms: int = 300_000,
    ) -> None:
        """``lockout_*``: CouchDB 3.4's lockout of a user after failed logins (0: off)."""
        self.requested_port = port
        self.user = user
        self.password = password
        self.reader_user = reader_user
        self.reader_password = reader_password
        self.lockout = (lockout_threshold, lockout_lifetime_ms)
        self.port: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._workdir: Path | None = None

    @property
    def base_url(self) -> str:
        """URL without credentials, for clients that take them separately."""
        return f"http://127.0.0.1:{self._port()}"

    @property
    def url(self) -> str:
        """Admin URL, e.g. ``http://admin:admin@127.0.0.1:54321``."""
        return _url(self.user, self.password, self._port())

    @property
    def reader_url(self) -> str:
        """URL of the read-only user."""
        return _url(self.reader_user, self.reader_password, self._port())

    def _port(self) -> int:
        if self.port is None:
            raise RuntimeError("devcouch is not running: call start() first")
        return self.port

    def start(self) -> DevCouch:
        """Start the server and wait until it listens.

        It runs in a fresh temporary working directory so that nothing it
        might write can land in the repository. Raises RuntimeError, with the
        server's stderr, if it does not come up within 30 s.
        """
        if self._proc is not None:
            raise RuntimeError("devcouch is already running")
        ensure_installed()
        self._workdir = Path(tempfile.mkdtemp(prefix="devcouch-"))
        stdout_path = self._workdir / "stdout.log"
        stderr_path = self._workdir / "stderr.log"
        command = [
            _which("node"),
            str(DEVCOUCH_DIR / "server.js"),
            "--port",
            str(self.requested_port),
            "--user",
            self.user,
            "--password",
            self.password,
            "--reader-user",
            self.reader_user,
            "--reader-password",
            self.reader_password,
            "--lockout-threshold",
            str(self.lockout[0]),
            "--lockout-lifetime-ms",
            str(self.lockout[1]),
            "--exit-with-stdin",
        ]
        # Output goes to files, not pipes: nobody has to drain them, and the
        # stdin pipe we keep open ends the server if this process dies.
        with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
            self._proc = subprocess.Popen(
                command, cwd=self._workdir, stdin=subprocess.PIPE, stdout=out, stderr=err
            )
        try:
            self.port = self._wait_until_listening(stdout_path, stderr_path)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_listening(self, stdout_path: Path, stderr_path: Path) -> int:
        assert self._proc is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            for line in stdout_path.read_text(errors="replace").splitlines():
                if line.startswith(READY_PREFIX):
                    return int(line[len(READY_PREFIX) :])
            exit_code = self._proc.poll()
            if exit_code is not None or time.monotonic() > deadline:
                why = (
                    f"exited with code {exit_code}"
                    if exit_code is not None
                    else f"did not listen within {START_TIMEOUT_S:.0f} s"
                )
                stderr = stderr_path.read_text(errors="replace").strip()
                raise RuntimeError(f"devcouch {why}; stderr:\n{stderr}")
            time.sleep(0.02)

    def wait(self) -> int:
        """Block until the server exits; return its exit code."""
        if self._proc is None:
            raise RuntimeError("devcouch is not running")
        return self._proc.wait()

    def stderr(self) -> str:
        """What the server wrote to stderr so far (for error messages)."""
        if self._workdir is None:
            return ""
        path = self._workdir / "stderr.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """Terminate the server (SIGTERM, SIGKILL after 5 s) and clean up.

        Safe to call twice or after a failed start.
        """
        proc, self._proc = self._proc, None
        if proc is not None:
            terminate(proc, STOP_GRACE_S)
            if proc.stdin is not None:
                proc.stdin.close()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
        self.port = None

    def __enter__(self) -> DevCouch:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def terminate(proc: subprocess.Popen[bytes] | subprocess.Popen[str], grace: float) -> None:
    """SIGTERM, then SIGKILL if it is still there after ``grace`` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main_run(port: int = 5984) -> None:
    """Run devcouch in the foreground until Ctrl-C (``qubicle-reports devcouch``)."""
    couch = DevCouch(port=port)
    try:
        couch.start()
        print(f"devcouch (in-memory CouchDB stand-in) at {couch.url}", flush=True)
        print(f"read-only user: {couch.reader_url}", flush=True)
        print("Data lives in memory only. Ctrl-C stops it.", flush=True)
        exit_code = couch.wait()
        # server.js exits 0 only on SIGINT/SIGTERM (e.g. Ctrl-C in the terminal).
        if exit_code != 0:
            raise RuntimeError(f"devcouch exited with code {exit_code}:\n{couch.stderr()}")
    except KeyboardInterrupt:
        pass
    finally:
        couch.stop()
