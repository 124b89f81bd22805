"""Secrets at rest: reversible encryption for what must be read back
(Internet passwords for RADIUS CHAP, identity documents) and one-way
argon2 hashes for what must only be checked (staff and office passwords).

The encryption keys come from the configuration (``portmonet.secret_keys``,
newest first, so keys can be rotated); nothing here logs a secret.
"""
import base64
import hashlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

_hasher = PasswordHasher()
_keyring = None

# A fixed, public key for tests and the demo database only: production.ini
# must set its own (``portmonet keygen`` prints one).
DEMO_KEY = base64.urlsafe_b64encode(hashlib.sha256(b"portmonet-demo-key").digest()).decode()


class SecretError(ValueError):
    pass


def configure(keys):
    """Install the keyring from a whitespace-separated list of Fernet keys."""
    global _keyring
    if isinstance(keys, str):
        keys = keys.split()
    if not keys:
        raise SecretError("portmonet.secret_keys is not set in the configuration")
    try:
        _keyring = MultiFernet([Fernet(k) for k in keys])
    except ValueError:
        raise SecretError("portmonet.secret_keys holds a malformed key") from None


def new_key():
    return Fernet.generate_key().decode()


def _ring():
    if _keyring is None:
        raise SecretError("no encryption key configured")
    return _keyring


def encrypt(text):
    return _ring().encrypt(text.encode("utf-8"))


def decrypt(token):
    try:
        return _ring().decrypt(token).decode("utf-8")
    except InvalidToken:
        raise SecretError("cannot decrypt: wrong key or damaged value") from None


def hash_password(password):
    return _hasher.hash(password)


def verify_password(hashed, password):
    if not hashed:
        return False
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(hashed):
    return _hasher.check_needs_rehash(hashed)
