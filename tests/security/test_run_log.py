"""After the whole run (this test runs last): the log of every test's
processes holds none of the secrets the tests used (issue 20).  What each
request journaled is checked in test_secrets_at_rest.py; this looks at all
the logging of a full run, whatever test produced it."""
import logging

import pytest

from conftest import RUN_LOG

# Passwords, PINs and shared secrets the suite's tests send or store.
SECRETS = [
    "correct horse 1", "inet-pass-1", "inet-pass-2",           # web: staff, office
    "terminal-password", "a-provider-shared-secret-0123456789",  # payments: OSMP, callback
    "canon-terminal-password", "canonical-provider-secret-0123456789",
    "canon-cashier-password", "lb-terminal-pw", "fuzz-terminal-password",
    "fuzz-provider-secret-0123456789", "s3cret-nas", "alice-pw", "bob-pw", "carol-pw",
]


@pytest.mark.run_last
def test_no_secret_the_tests_used_is_in_the_run_log():
    logging.getLogger("portmonet.test").warning("run-log control line")
    for handler in logging.getLogger().handlers:
        handler.flush()
    with open(RUN_LOG, encoding="utf-8", errors="replace") as f:
        text = f.read()
    assert "run-log control line" in text            # the run's records do land here
    found = [(s, text[max(0, text.find(s) - 200):text.find(s) + 50]) for s in SECRETS if s in text]
    assert found == [], found
