"""The SMTP client against a real aiosmtpd server on 127.0.0.1 with STARTTLS and implicit
TLS (a throw-away certificate made by openssl) and a login: the password reaches the server
only inside TLS, and a wrong one is a temporary failure, never a bounce."""

from __future__ import annotations

import asyncio
import dataclasses
import ssl
import subprocess
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from adapters.email.smtp import SmtpConfig, SmtpMailer
from core.delivery.errors import TransientSendError
from tests.fakes.smtp_server import SmtpSink

USER, PASSWORD = "podbrief", "s3cret pass"
# Implicit TLS: aiosmtpd cannot tell the socket is TLS, so it warns about AUTH without it.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def _authenticate(logins: list[tuple[str, str]]) -> object:
    def check(
        server: SMTP, session: object, envelope: object, mechanism: str, data: object
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        login = (data.login.decode(), data.password.decode())
        logins.append(login)
        return AuthResult(success=login == (USER, PASSWORD), handled=False)  # aiosmtpd answers

    return check


async def _server(
    sink: SmtpSink, context: ssl.SSLContext, logins: list[tuple[str, str]], *, implicit: bool
) -> asyncio.Server:
    def factory() -> SMTP:
        return SMTP(
            sink,
            hostname="sink.test",
            tls_context=None if implicit else context,
            require_starttls=not implicit,
            auth_required=True,
            auth_require_tls=not implicit,  # implicit TLS: the socket is TLS, aiosmtpd can't tell
            authenticator=_authenticate(logins),
        )

    loop = asyncio.get_running_loop()
    return await loop.create_server(factory, "127.0.0.1", 0, ssl=context if implicit else None)


@pytest.fixture
async def tls(certificate: tuple[Path, Path]) -> AsyncIterator[ssl.SSLContext]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, certificate))
    yield context


def _message() -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "b@podbrief.test", "r@example.org", "Hi"
    message.set_content("hello")
    return message


@pytest.mark.parametrize("security", ["starttls", "tls"])
async def test_login_inside_tls_then_send(
    tls: ssl.SSLContext, certificate: tuple[Path, Path], security: str
) -> None:
    sink, logins = SmtpSink(), []
    server = await _server(sink, tls, logins, implicit=security == "tls")
    port = int(server.sockets[0].getsockname()[1])
    try:
        config = SmtpConfig(
            host="127.0.0.1", port=port, security=security, user=USER, password=PASSWORD,
            sender="b@podbrief.test", ca_file=str(certificate[0]),
        )  # fmt: skip
        await SmtpMailer(config).send(_message(), "r@example.org")
        assert logins == [(USER, PASSWORD)] and len(sink.messages) == 1
        wrong = dataclasses.replace(config, password="wrong")
        with pytest.raises(TransientSendError):
            await SmtpMailer(wrong).send(_message(), "r@example.org")
        assert len(sink.messages) == 1
    finally:
        server.close()
        await server.wait_closed()


async def test_an_untrusted_certificate_is_refused(tls: ssl.SSLContext) -> None:
    sink, logins = SmtpSink(), []
    server = await _server(sink, tls, logins, implicit=False)
    port = int(server.sockets[0].getsockname()[1])
    try:
        config = SmtpConfig(
            host="127.0.0.1", port=port, user=USER, password=PASSWORD, sender="b@podbrief.test"
        )
        with pytest.raises(TransientSendError):
            await SmtpMailer(config).send(_message(), "r@example.org")
        assert logins == [] and sink.messages == []  # the password never left
    finally:
        server.close()
        await server.wait_closed()
