"""Asking a worker what its nets make of a drawn digit: the server's side (no torch).

The Draw page needs the class probabilities of two finished runs for one 28x28 digit.
torch lives in the workers, so the question goes there, as a short task beside the
training queue rather than in it: a digit must not wait behind a 20-s run. Each
worker process of the local pool listens on a Unix socket in its pool's live folder
(inference.listen, a thread of its own, so it answers between the training thread's
steps); `ask` sends one JSON line and reads one back.

  request  {"keys": [run key, ...], "pixels": [784 ints 0-255, row-major]}
  answer   {"results": {key: {"probs": [10 floats]} | {"error": code}}}

Error codes (rendered on the page as msg.<code>): draw.no_run (the store has no such
finished run), draw.no_weights (stored before runs kept their weights), draw.no_store
(the worker saves no runs), draw.diverged (the run diverged: no weights were kept).
"""

from __future__ import annotations

import json
import pathlib
import socket
import time

from regdemo.messages import MessageError, msg

SOCKET_PREFIX = "infer-"
RETRY_SECONDS = 0.05  # while no worker listens yet
# The codes an answer carries (msg(...).code: the catalogs' check finds them here).
NO_RUN, NO_WEIGHTS = msg("draw.no_run").code, msg("draw.no_weights").code
NO_STORE, DIVERGED_RUN = msg("draw.no_store").code, msg("draw.diverged").code


class PredictError(MessageError):
    """No worker could answer (none up yet, or it did not answer in time)."""


def socket_path(folder, pid: int) -> pathlib.Path:
    """Where worker process `pid` of a pool whose live store is in `folder` listens."""
    return pathlib.Path(folder) / f"{SOCKET_PREFIX}{pid}.sock"


def request(keys: list[str], pixels) -> dict:
    flat = [int(v) for row in pixels for v in row]
    if len(flat) != 28 * 28 or not all(0 <= v <= 255 for v in flat):
        raise ValueError("pixels must be 28x28 values in 0..255")
    return {"keys": list(keys), "pixels": flat}


def ask(paths, keys: list[str], pixels, timeout: float = 5.0) -> dict[str, dict]:
    """{key: {"probs": [...]} or {"error": code}} from the first worker that answers.

    `paths()` lists the sockets to try; a worker that is still starting (importing torch)
    has none yet, so they are tried again until one answers. Raises PredictError when none
    does within `timeout` seconds in all."""
    line = (json.dumps(request(keys, pixels)) + "\n").encode()
    deadline = time.monotonic() + timeout
    while True:
        for path in paths():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                    conn.settimeout(left)
                    conn.connect(str(path))
                    conn.sendall(line)
                    answer = _read_line(conn)
                return json.loads(answer)["results"]
            except (OSError, ValueError, KeyError):
                continue  # not listening yet, or gone (a replaced worker): try the next one
        if time.monotonic() + RETRY_SECONDS >= deadline:
            raise PredictError(msg("draw.no_worker"))
        time.sleep(RETRY_SECONDS)


def _read_line(conn: socket.socket) -> bytes:
    chunks = []
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
        if chunk.endswith(b"\n"):
            break
    return b"".join(chunks)
