"""The fault server's wire: raw HTTP/1.1 over loopback sockets, and the documents it bends."""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Callable
from dataclasses import dataclass

HOST = "127.0.0.1"
OVERSIZED_BYTES = 300 * 1024  # above every max_document_bytes the tests use (default 256 KiB)


@dataclass(frozen=True)
class Request:
    """What an endpoint was asked: the Host header and the path."""

    host: str
    path: str


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]


REASONS = {200: "OK", 302: "Found", 404: "Not Found", 429: "Too Many Requests"}
REASONS |= {500: "Internal Server Error", 503: "Service Unavailable"}


JSON = {"Content-Type": "application/json"}


def bound_socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if hasattr(socket, "SO_REUSEPORT"):  # lets a refusing socket take the port over
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((HOST, port))
    sock.setblocking(False)  # accept() after select(): never block the acceptor
    return sock


def read_request(conn: socket.socket) -> Request | None:
    """The request line and Host of a GET; ``None`` if the client sent no full request."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk or len(data) > 16 * 1024:
            return None
        data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    _, path, _ = head[0].split(" ", 2)
    fields = dict(line.split(":", 1) for line in head[1:] if ":" in line)
    host = next((v.strip() for k, v in fields.items() if k.strip().lower() == "host"), "")
    return Request(host, path)


def closed_by_peer(conn: socket.socket) -> bool:
    readable, _, _ = select.select([conn], [], [], 0)
    if not readable:
        return False
    try:
        return conn.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def head(answer: Answer, length: int | None) -> bytes:
    lines = [f"HTTP/1.1 {answer.status} {REASONS.get(answer.status, 'Status')}"]
    lines += [f"{name}: {value}" for name, value in answer.headers.items()]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def send(conn: socket.socket, answer: Answer) -> None:
    conn.sendall(head(answer, len(answer.body)) + answer.body)


def send_chunked(conn: socket.socket, answer: Answer) -> None:
    headers = answer.headers | {"Transfer-Encoding": "chunked"}
    conn.sendall(head(Answer(answer.status, b"", headers), None))
    for start in range(0, len(answer.body), 8192):
        chunk = answer.body[start : start + 8192]
        conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    conn.sendall(b"0\r\n\r\n")


def padded(answer: Answer) -> Answer:
    """The same valid document, grown past every size cap by a padding member."""
    document = json.loads(answer.body)
    document["padding"] = "x" * OVERSIZED_BYTES
    return Answer(answer.status, json.dumps(document).encode(), answer.headers)


def reissued(answer: Answer, issuer: Callable[[str], str]) -> Answer:
    document = json.loads(answer.body)
    document["issuer"] = issuer(document["issuer"])
    return Answer(answer.status, json.dumps(document).encode(), answer.headers)
