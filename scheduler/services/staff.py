"""Staff accounts: who may log in, which offices they may see, and their API tokens."""
import secrets
from collections.abc import Iterable
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from ..extensions import db
from ..models import ApiToken, Office, StaffAccount
from . import audit
from .errors import Conflict, Forbidden, InvalidInput, NotFound

_hasher = PasswordHasher()
# Verified against when no account has the e-mail address, so that a wrong address takes
# as long as a wrong password and does not tell which addresses exist.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def create_account(email: str, password: str, *, offices: Iterable[Office] = (), admin: bool = False,
                   name: str = "", actor: StaffAccount | None, now: datetime) -> StaffAccount:
    email = normalise_email(email)
    check_password(password)
    if db.session.scalar(select(StaffAccount.id).where(StaffAccount.email == email)) is not None:
        raise Conflict(_l("An account with this e-mail address exists already."), code="account_exists")
    account = StaffAccount(email=email, name=(name or "").strip()[:100], password_hash=_hasher.hash(password),
                           is_admin=admin, created_at=now, offices=list(offices))
    db.session.add(account)
    db.session.flush()
    audit.record(actor, "staff.create", now, record=account, after=account_settings(account))
    return account


def update_account(account: StaffAccount, *, actor: StaffAccount | None, now: datetime,
                   offices: Iterable[Office] | None = None, admin: bool | None = None,
                   active: bool | None = None, name: str | None = None) -> StaffAccount:
    """Change what an administrator manages: offices, administrator rights, active."""
    before = account_settings(account)
    if actor is not None and actor.id == account.id and (admin is False or active is False):
        # Nobody locks themselves out: another administrator has to do it.
        raise Conflict(_l("You cannot remove your own administrator rights or deactivate yourself."),
                       code="own_account")
    if offices is not None:
        account.offices = list(offices)
    if admin is not None:
        account.is_admin = admin
    if name is not None:
        account.name = name.strip()[:100]
    if active is not None and active != account.active:
        account.active = active
        account.session_version += 1  # a deactivated account's sessions end at once
        if not active:
            revoke_tokens(account, actor=None, now=now)
    audit.record(actor, "staff.update", now, record=account, before=before, after=account_settings(account))
    return account


def set_password(account: StaffAccount, password: str, *, actor: StaffAccount | None, now: datetime) -> None:
    """A new password ends every other session of the account."""
    check_password(password)
    account.password_hash = _hasher.hash(password)
    account.session_version += 1
    audit.record(actor, "staff.password", now, record=account)


def check_password(password: str) -> None:
    minimum = current_app.config["STAFF_PASSWORD_MIN_LENGTH"]
    if len(password or "") < minimum:
        raise InvalidInput(fields={"password": _l("Please use at least %(n)d characters.", n=minimum)})


def normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    if "@" not in email or len(email) > 254 or any(char.isspace() for char in email):
        raise InvalidInput(fields={"email": _l("This is not a valid e-mail address.")})
    return email


def authenticate(email: str, password: str) -> StaffAccount | None:
    """The active account with this e-mail address and password, or None."""
    account = db.session.scalar(
        select(StaffAccount).where(StaffAccount.email == (email or "").strip().lower())
    )
    try:
        _hasher.verify(account.password_hash if account else _DUMMY_HASH, password or "")
    except (VerificationError, InvalidHashError):
        return None
    if account is None or not account.active:
        return None
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = _hasher.hash(password)
    return account


def account_for_session(session_id: str) -> StaffAccount | None:
    """Flask-Login's user loader: "<id>:<session version>" of an active account."""
    account_id, _, version = (session_id or "").partition(":")
    if not account_id.isdigit() or not version.isdigit():
        return None
    account = db.session.get(StaffAccount, int(account_id))
    if account is None or not account.active or account.session_version != int(version):
        return None
    return account


def issue_token(account: StaffAccount, *, actor: StaffAccount | None, now: datetime) -> str:
    """A new API token for ``account``; only its hash is kept, so this is the one chance to see it."""
    token = "lw_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(staff=account, token_hash=ApiToken.digest(token), created_at=now))
    audit.record(actor, "staff.token", now, record=account)
    return token


def revoke_tokens(account: StaffAccount, *, actor: StaffAccount | None, now: datetime) -> int:
    revoked = db.session.execute(
        update(ApiToken).where(ApiToken.staff_id == account.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now).execution_options(synchronize_session=False)
    ).rowcount
    if actor is not None or revoked:
        audit.record(actor, "staff.revoke_tokens", now, record=account, after={"revoked": revoked})
    return revoked


def account_for_token(token: str) -> StaffAccount | None:
    """The active account a bearer token belongs to, or None."""
    if not token or len(token) > 200:
        return None
    return db.session.scalar(
        select(StaffAccount).join(ApiToken)
        .where(ApiToken.token_hash == ApiToken.digest(token), ApiToken.revoked_at.is_(None),
               StaffAccount.active)
    )


def by_email(email: str) -> StaffAccount:
    account = db.session.scalar(select(StaffAccount).where(StaffAccount.email == (email or "").strip().lower()))
    if account is None:
        raise NotFound(_l("No staff account has this e-mail address."))
    return account


def by_id(account_id: int) -> StaffAccount:
    account = db.session.get(StaffAccount, account_id)
    if account is None:
        raise NotFound()
    return account


def accounts() -> list[StaffAccount]:
    return list(db.session.scalars(select(StaffAccount).order_by(func.lower(StaffAccount.email))))


def visible_offices(actor: StaffAccount) -> list[Office]:
    """The offices an account may see: its own; every office for administrators."""
    if actor.is_admin:
        return list(db.session.scalars(select(Office).order_by(Office.name)))
    return [office for office in actor.offices]


def office_for(actor: StaffAccount, slug: str) -> Office:
    """The office ``slug`` if ``actor`` may work on it: 404 if there is none, 403 if not theirs."""
    office = db.session.scalar(select(Office).where(Office.slug == slug))
    if office is None:
        raise NotFound()
    if not actor.may_see(office):
        raise Forbidden()
    return office


def offices_by_slug(slugs: Iterable[str]) -> list[Office]:
    slugs = list(dict.fromkeys(slugs))
    found = list(db.session.scalars(select(Office).where(Office.slug.in_(slugs)))) if slugs else []
    missing = sorted(set(slugs) - {office.slug for office in found})
    if missing:
        raise InvalidInput(fields={"offices": _l("Unknown office: %(slugs)s", slugs=", ".join(missing))})
    return found


def require_admin(actor: StaffAccount) -> None:
    if not actor.is_admin:
        raise Forbidden(_l("Only administrators may do this."))


def account_settings(account: StaffAccount) -> dict:
    """What the audit log keeps of an account: no password hash."""
    return {"email": account.email, "admin": account.is_admin, "active": account.active,
            "offices": sorted(office.slug for office in account.offices)}


# Administrators managing accounts, on the pages and through the API ----------------------

def list_accounts(actor: StaffAccount) -> list[StaffAccount]:
    require_admin(actor)
    return accounts()


def add_account(actor: StaffAccount, *, email: str, password: str, office_slugs: Iterable[str] = (),
                admin: bool = False, name: str = "", now: datetime) -> StaffAccount:
    require_admin(actor)
    return create_account(email, password, offices=offices_by_slug(office_slugs), admin=admin, name=name,
                          actor=actor, now=now)


def change_account(actor: StaffAccount, account_id: int, *, now: datetime,
                   office_slugs: Iterable[str] | None = None, admin: bool | None = None,
                   active: bool | None = None, name: str | None = None,
                   password: str | None = None) -> StaffAccount:
    """Change what is given (None: unchanged); a new password ends the account's sessions."""
    account = account_to_manage(actor, account_id)
    if (office_slugs, admin, active, name) != (None, None, None, None):
        offices = offices_by_slug(office_slugs) if office_slugs is not None else None
        update_account(account, actor=actor, now=now, offices=offices, admin=admin, active=active, name=name)
    if password is not None:
        set_password(account, password, actor=actor, now=now)
    return account


def account_to_manage(actor: StaffAccount, account_id: int) -> StaffAccount:
    require_admin(actor)
    return by_id(account_id)


def may_change_rights(actor: StaffAccount, account: StaffAccount) -> bool:
    """Whether ``actor`` may take away or give ``account``'s administrator rights and
    access: not their own (``update_account`` refuses it), so the form leaves them out."""
    return actor.is_admin and actor.id != account.id
