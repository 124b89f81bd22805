"""Employees: logins, argon2-hashed passwords, roles."""
from persistent import Persistent
from zope.interface import implementer

from .. import crypto
from ..catalog import normalize
from ..interfaces import IStaffFolder, IStaffUser
from .folder import Folder

# The roles of an operator's staff; what each may do is the web's ACL.
ROLES = ("administrator", "manager", "cashier", "accountant", "engineer", "dealer", "auditor")


@implementer(IStaffFolder)
class StaffFolder(Folder):
    title = "Staff"

    def add_user(self, user):
        return self.add(user.login, user)


@implementer(IStaffUser)
class StaffUser(Persistent):
    __name__ = None
    __parent__ = None
    name = ""
    active = True
    password_hash = None
    # Wrong passwords tried since the last sign-in (told then), the last one's
    # time and client address.  No lock: sign-in is throttled, not locked.
    failed_logins = 0
    last_failed_us = 0
    last_failed_from = ""

    def __init__(self, login, roles, password=None, name=""):
        self.login = normalize.login(login)
        self.roles = self._normalize_roles(roles)
        self.name = name or self.login
        if password is not None:
            self.set_password(password)

    @property
    def title(self):
        return self.name

    @staticmethod
    def _normalize_roles(roles):
        roles = tuple(sorted(set(roles)))
        unknown = [r for r in roles if r not in ROLES]
        if unknown or not roles:
            raise ValueError(f"roles must be among {', '.join(ROLES)}")
        return roles

    def set_password(self, password):
        if not password or len(password) < 8:
            raise ValueError("a staff password is at least 8 characters")
        self.password_hash = crypto.hash_password(password)

    def check_password(self, password):
        ok = crypto.verify_password(self.password_hash, password)
        if ok and crypto.needs_rehash(self.password_hash):
            self.password_hash = crypto.hash_password(password)
        return ok
