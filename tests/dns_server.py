"""A DNS server for the tests on 127.0.0.1 (dnslib): answers the TXT records a test
puts in ``records``; any other name does not exist (NXDOMAIN)."""

from __future__ import annotations

from dnslib import QTYPE, RCODE, RR, TXT
from dnslib.server import BaseResolver, DNSLogger, DNSServer


class _Records(BaseResolver):
    def __init__(self) -> None:
        self.records: dict[str, list[str]] = {}

    def resolve(self, request, handler):
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        if name not in self.records:
            reply.header.rcode = RCODE.NXDOMAIN
        elif request.q.qtype == QTYPE.TXT:
            for text in self.records[name]:
                reply.add_answer(RR(request.q.qname, QTYPE.TXT, rdata=TXT(text), ttl=60))
        return reply


class LocalDns:
    def __init__(self) -> None:
        self._resolver = _Records()
        self._server = DNSServer(
            self._resolver, port=0, address="127.0.0.1", logger=DNSLogger("-request,-reply")
        )

    @property
    def records(self) -> dict[str, list[str]]:
        return self._resolver.records

    @property
    def address(self) -> str:
        host, port = self._server.server.server_address[:2]
        return f"{host}:{port}"

    def start(self) -> LocalDns:
        self._server.start_thread()
        return self

    def stop(self) -> None:
        self._server.stop()
        self._server.server.server_close()


def dns_serving(settings):
    """A DNS server that Roster asks for domain proofs (``SSO_DNS_RESOLVER``).

    A generator for a fixture: ``yield from dns_serving(settings)``."""
    server = LocalDns().start()
    settings.SSO_DNS_RESOLVER = server.address
    settings.SSO_DNS_TIMEOUT = 2
    yield server
    server.stop()
