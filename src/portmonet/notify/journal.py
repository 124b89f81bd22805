"""The acknowledgement journal: a line per message the far end accepted,
written the moment it answers, before the database records it.

A notifier killed between the answer and its commit would otherwise send
those messages again after a restart.  On start the journal's keys are
recorded as sent (not sent again) and the file is emptied after each batch
commits.  The write is one ``write(2)`` on an O_APPEND file: a killed
process loses nothing the kernel took.  What is left: a kill between the
far end's answer and that write (microseconds), or the machine losing
power before the page reaches the disk (``notify.journal_fsync = true``
closes the second at the cost of a disk flush per message).  The file is
locked: two notifiers cannot share it.
"""
import fcntl
import json
import os


class JournalBusy(RuntimeError):
    pass


class Journal:
    def __init__(self, path, fsync=False):
        self.path = path
        self.fsync = fsync
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            raise JournalBusy(f"{path} is held by another notifier") from None

    def append(self, key, text, ext_id=None):
        line = json.dumps({"k": key, "t": text, "x": ext_id}, ensure_ascii=False) + "\n"
        os.write(self.fd, line.encode())
        if self.fsync:
            os.fsync(self.fd)

    def entries(self):
        """{key: (text, ext_id)} of what the file holds (a torn last line is
        dropped: its write never finished, so neither did that send's record)."""
        out = {}
        with open(self.path, "rb") as f:
            for raw in f:
                try:
                    item = json.loads(raw)
                except ValueError:
                    continue
                out[item["k"]] = (item.get("t") or "", item.get("x"))
        return out

    def pending(self):
        """Lines not yet recorded in the database (a record that failed)."""
        return os.fstat(self.fd).st_size > 0

    def clear(self):
        os.ftruncate(self.fd, 0)

    def close(self):
        os.close(self.fd)
