"""Serving the app: `lamella ui` in the foreground, `ln.ui()` in a background thread of a notebook."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
import webbrowser
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from lamella._logging import logger
from lamella._ui.app import create_app
from lamella.errors import InvalidArgument

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def _check_address(host: str, port: int) -> None:
    if not 0 < port < 65536:
        raise InvalidArgument(f"--port {port} is not a TCP port; use one from 1 to 65535, e.g. --port 8765")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise InvalidArgument(
            f"--host {host!r} is not an address of this machine ({e}); use 127.0.0.1"
        ) from e
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # as the server will: a port whose last connections are closing (TIME_WAIT) is free
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as e:
            raise InvalidArgument(
                f"cannot serve on {host}:{port} ({e.strerror}): another program uses the port; "
                f"choose another with --port, e.g. --port {port + 1}"
            ) from e


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_of(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    return f"http://{f'[{shown}]' if ':' in shown else shown}:{port}/"


def _config(app: Any, host: str, port: int) -> Any:
    # no access log: a browser asks for a page's scripts and styles too; errors are still logged
    return uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="off")


def serve(
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    instance: str | None = None,
    open_browser: bool = False,
) -> None:
    """Serve the current instance (or `instance`) read-only until interrupted; prints the address.

    Binds to 127.0.0.1 unless `host` names another address: the instance is then readable by anyone
    who can reach this machine, which is said when it starts.
    """
    _check_address(host, port)
    app = create_app(instance)
    address = url_of(host, port)
    if not _is_loopback(host):
        logger.warning(f"serving on {host}: anyone who can reach this machine can read this instance")
    print(f"Lamella UI for instance {app.state.instance_name!r} at {address}  (Ctrl+C stops it)", flush=True)
    if open_browser:
        threading.Timer(0.3, webbrowser.open, args=(address,)).start()
    uvicorn.Server(_config(app, host, port)).run()


@dataclass
class UIServer:
    """A UI served by a background thread (`ln.ui()`); `stop()` ends it."""

    url: str
    _server: Any = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def _repr_html_(self) -> str:
        return f'Lamella UI at <a href="{self.url}" target="_blank">{self.url}</a>'


def ui(*, port: int = DEFAULT_PORT, host: str = DEFAULT_HOST, open_browser: bool = False) -> UIServer:
    """Serve the connected instance from a notebook or script, in the background; returns its address.

    Stop it with `.stop()`. Binds to 127.0.0.1 unless `host` names another address.
    """
    _check_address(host, port)
    app = create_app(None)
    server = uvicorn.Server(_config(app, host, port))
    thread = threading.Thread(target=server.run, name="lamella-ui", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    if not server.started:
        raise InvalidArgument(f"the UI could not start on {host}:{port}; choose another port with port=")
    handle = UIServer(url_of(host, port), server, thread)
    logger.info(f"Lamella UI at {handle.url}")
    if open_browser:
        webbrowser.open(handle.url)
    return handle
