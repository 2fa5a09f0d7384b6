"""A small real SMTP server on 127.0.0.1 for the delivery tests.

It speaks enough of RFC 5321 for Django's SMTP backend (EHLO/HELO, MAIL, RCPT, DATA,
RSET, NOOP, QUIT) and keeps each accepted message. Knobs: ``refuse`` answers the next
that many connections with ``421`` (a server that is down for maintenance), and
``hang`` makes the next connection stop answering before it accepts the message (a
worker stuck in the middle of a delivery)."""

from __future__ import annotations

import email
import socketserver
import threading
from dataclasses import dataclass, field


@dataclass
class Received:
    recipients: list[str]
    subject: str
    body: str


@dataclass
class SmtpServer:
    refuse: int = 0
    hang: int = 0
    received: list[Received] = field(default_factory=list)
    connections: int = 0

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.hanging = threading.Event()  # set once a connection hangs
        self.release = threading.Event()
        self._server: socketserver.ThreadingTCPServer | None = None

    def start(self) -> SmtpServer:
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def to(self, address: str) -> list[Received]:
        with self.lock:
            return [message for message in self.received if address in message.recipients]

    def _next(self) -> str:
        with self.lock:
            self.connections += 1
            if self.refuse:
                self.refuse -= 1
                return "refuse"
            if self.hang:
                self.hang -= 1
                return "hang"
            return "serve"


def _handler_for(server: SmtpServer):
    class Handler(socketserver.StreamRequestHandler):
        def reply(self, line: str) -> None:
            self.wfile.write(f"{line}\r\n".encode())
            self.wfile.flush()

        def handle(self) -> None:
            mode = server._next()
            if mode == "refuse":
                self.reply("421 127.0.0.1 Service not available, try again later")
                return
            self.reply("220 127.0.0.1 Roster test SMTP")
            recipients: list[str] = []
            while True:
                line = self.rfile.readline()
                if not line:
                    return
                verb = line.decode(errors="replace").strip().split(" ", 1)[0].upper()
                if verb in {"EHLO", "HELO"}:
                    self.reply("250 127.0.0.1")
                elif verb == "MAIL":
                    recipients = []
                    self.reply("250 OK")
                elif verb == "RCPT":
                    address = line.decode().split(":", 1)[1].strip().strip("<>")
                    recipients.append(address.partition(">")[0])
                    self.reply("250 OK")
                elif verb == "DATA":
                    if mode == "hang":
                        server.hanging.set()
                        server.release.wait(timeout=30)
                        return  # never accepted
                    self.reply("354 End data with <CR><LF>.<CR><LF>")
                    self._receive(recipients)
                    self.reply("250 OK queued")
                elif verb == "QUIT":
                    self.reply("221 Bye")
                    return
                else:  # RSET, NOOP
                    self.reply("250 OK")

        def _receive(self, recipients: list[str]) -> None:
            lines = []
            while True:
                line = self.rfile.readline()
                if line in (b".\r\n", b".\n", b""):
                    break
                lines.append(line[1:] if line.startswith(b"..") else line)
            message = email.message_from_bytes(b"".join(lines))
            body = message.get_payload(0) if message.is_multipart() else message
            with server.lock:
                server.received.append(
                    Received(
                        recipients=list(recipients),
                        subject=str(message["Subject"]),
                        body=body.get_payload(decode=True).decode(errors="replace"),
                    )
                )

    return Handler
