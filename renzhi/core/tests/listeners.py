"""Real HTTP listeners for the outbound-request tests: they record every hit.

`Listener("127.0.0.1")` stands for an internal service the server must never reach; a listener
on 127.0.0.2 made "public" with RENZHI_OUTBOUND_ALLOW stands for an outside server (it can
answer with a redirect to the internal one).
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET_BODY = b"INTERNAL-ONLY: db password is hunter2"


class Listener:
    def __init__(
        self,
        host: str = "127.0.0.1",
        *,
        status: int = 200,
        body: bytes = SECRET_BODY,
        location: str = "",
    ) -> None:
        self.hits: list[dict] = []
        self.status, self.body, self.location = status, body, location
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                owner.hits.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "host": self.headers.get("Host"),
                        "body": self.rfile.read(length) if length else b"",
                    }
                )
                self.send_response(owner.status)
                if owner.location:
                    self.send_header("Location", owner.location)
                self.send_header("Content-Length", str(len(owner.body)))
                self.end_headers()
                self.wfile.write(owner.body)

            do_GET = do_POST = _answer

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.host = host
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "/", host: str | None = None) -> str:
        return f"http://{host or self.host}:{self.port}{path}"

    def __enter__(self) -> Listener:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
