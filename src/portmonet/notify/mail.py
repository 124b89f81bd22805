"""E-mail: a letter built with the standard ``email`` package (text with an
HTML alternative, attachments) and sent over one kept-open SMTP connection.

Why smtplib and not repoze.sendmail / pyramid_mailer: their queue (a
maildir filled when the web transaction commits) is what the outbox
already is, inside the database, with the per-cause key, the retries and
the dead letters; what is left is an SMTP client, and theirs opens a
connection per letter, while this one keeps it open across a batch (the
bench's 100,000 letters would otherwise spend most of their time in TCP
and EHLO).
"""
import hashlib
import logging
import smtplib
import ssl
from email.header import Header
from email.policy import Compat32
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate

from .compose import Outcome

log = logging.getLogger(__name__)


class _LetterPolicy(Compat32):
    """compat32, with a short ASCII header written as it is: folding it
    through ``email.header.Header`` gives the same line at a hundred
    times the cost (most of a letter's CPU: a letter has ~16 headers)."""

    def _fold(self, name, value, sanitize):
        if isinstance(value, str) and value.isascii() and "\n" not in value \
                and "\r" not in value and len(name) + len(value) + 2 <= (self.max_line_length or 78):
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)


LETTER = _LetterPolicy(linesep="\r\n")


def message_id(key, sender):
    """The same Message-ID for every attempt of one outbox message, so a
    receiving system can tell a repeated letter."""
    domain = sender.rpartition("@")[2] or "localhost"
    return f"<{hashlib.sha1(key.encode()).hexdigest()}@{domain}>"


def build(envelope, sender):
    """The letter: text, an HTML alternative, attachments.  The classic
    ``email.mime`` classes (policy compat32): the same MIME as
    ``EmailMessage`` at a fifth of its cost, which is most of a letter's
    CPU at 100,000 letters; the boundary comes from the key, so the
    generator need not search the body for a free one."""
    digest = hashlib.sha1(envelope.key.encode()).hexdigest()
    body = MIMEText(envelope.text, "plain", "utf-8", policy=LETTER)
    if envelope.html:
        body = _multipart("alternative", digest, body,
                          MIMEText(envelope.html, "html", "utf-8", policy=LETTER))
    if envelope.attachments:
        parts = [body]
        for filename, mimetype, data in envelope.attachments:
            maintype, _, subtype = mimetype.partition("/")
            part = MIMEApplication(data, subtype, policy=LETTER) if maintype == "application" \
                else MIMEText(data.decode(), subtype, "utf-8", policy=LETTER)
            part.add_header("Content-Disposition", "attachment", filename=filename)
            parts.append(part)
        body = _multipart("mixed", digest, *parts)
    body["From"] = sender
    body["To"] = envelope.to
    body["Subject"] = Header(envelope.subject, "utf-8") if not envelope.subject.isascii() \
        else envelope.subject
    body["Date"] = formatdate(localtime=False)
    body["Message-ID"] = message_id(envelope.key, sender)
    body["Content-Language"] = envelope.lang
    body["X-Portmonet-Event"] = envelope.event
    return body


def _multipart(subtype, digest, *parts):
    # short enough that Content-Type stays one line (no folding)
    whole = MIMEMultipart(subtype, boundary=f"=_{subtype[0]}{digest[:20]}", policy=LETTER)
    for part in parts:
        whole.attach(part)
    return whole


class SmtpSender:
    """Sends letters.  A 5xx refusal of the recipient or of the letter's
    data is permanent (the dead letters); anything else (4xx, a refusal
    before the recipient such as "STARTTLS first" or a bad login, a lost
    connection, a timeout) is tried again later."""

    def __init__(self, settings):
        self.s = settings
        self.smtp = None

    def _connect(self):
        s = self.s
        context = ssl.create_default_context(cafile=s.mail_cafile)
        if s.mail_security == "ssl":
            smtp = smtplib.SMTP_SSL(s.mail_host, s.mail_port, timeout=s.mail_timeout,
                                    context=context)
        else:
            smtp = smtplib.SMTP(s.mail_host, s.mail_port, timeout=s.mail_timeout)
            if s.mail_security == "starttls":
                smtp.starttls(context=context)
        if s.mail_user:
            smtp.login(s.mail_user, s.mail_password)
        log.info("SMTP connected to %s:%s (%s%s)", s.mail_host, s.mail_port, s.mail_security,
                 f", as {s.mail_user}" if s.mail_user else "")
        return smtp

    def close(self):
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self.smtp = None

    def send(self, envelope):
        reused = self.smtp is not None
        outcome = self._send(envelope)
        if reused and outcome.state == "failed" and "SMTPServerDisconnected" in outcome.text:
            outcome = self._send(envelope)   # the server had let the idle connection go
        return outcome

    def _send(self, envelope):
        try:
            if self.smtp is None:
                self.smtp = self._connect()
            msg = build(envelope, self.s.mail_from)
            refused = self.smtp.send_message(msg, self.s.mail_from, [envelope.to])
        except smtplib.SMTPAuthenticationError as exc:
            self.close()          # the operator's settings, not the letter: retried
            return Outcome("failed", f"SMTP authentication refused ({exc.smtp_code})")
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            return self._refused(code, text)
        except smtplib.SMTPDataError as exc:      # the server refused this letter's content
            self._reset()
            return self._refused(exc.smtp_code, exc.smtp_error)
        except smtplib.SMTPResponseException as exc:
            # refused before the recipient (TLS or login required, the
            # sender refused): the settings', not the letter's: tried again
            self.close()
            return Outcome("failed", f"SMTP {exc.smtp_code} {_text(exc.smtp_error)}")
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            return Outcome("failed", f"SMTP {type(exc).__name__}: {exc}")
        if refused:
            code, text = next(iter(refused.values()))
            return self._refused(code, text)
        return Outcome("sent", "250 accepted")

    def _reset(self):
        try:
            self.smtp.rset()
        except (smtplib.SMTPException, OSError):
            self.close()

    @staticmethod
    def _refused(code, text):
        state = "given-up" if code >= 500 else "failed"
        return Outcome(state, f"SMTP {code} {_text(text)}")


def _text(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
