"""Administrators: offices and staff accounts, on pages and through the API.

Administrators change everything here; the staff of an office may change only its "what to
bring" note on the office's settings page (``services.offices`` says so).
"""
from flask import flash, jsonify, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l

from ... import clock
from ...services import offices as offices_service
from ...services import staff as accounts
from ...services.errors import InvalidInput
from ..forms import status_for, submit
from ..inputs import TYPE_NAMES, check_types, json_object
from ..outbox import commit_and_send
from .access import actor
from .admin_forms import (
    AccountEditForm,
    AccountForm,
    NewOfficeForm,
    NoteForm,
    OfficeForm,
    PasswordForm,
)
from .auth import office_json
from .blueprints import api, pages

# Accounts ---------------------------------------------------------------------------------

@pages.get("/accounts", endpoint="accounts")
def account_list():
    return render_template("staff/admin_accounts.html", accounts=accounts.list_accounts(actor()))


@pages.route("/accounts/new", methods=["GET", "POST"])
def new_account():
    me = actor()
    accounts.require_admin(me)
    form = AccountForm(accounts.visible_offices(me))
    account, error = submit(form, lambda: accounts.add_account(
        me, email=form.email.data, password=form.password.data, office_slugs=form.offices.data or [],
        admin=form.admin.data, name=form.name.data or "", now=clock.now(),
    ))
    if account is not None:
        commit_and_send()
        flash(_l("Account %(email)s created.", email=account.email))
        return redirect(url_for("staff.accounts"), code=303)
    return render_template("staff/admin_account_new.html", form=form, error=error), status_for(form, error)


@pages.route("/accounts/<int:account_id>", methods=["GET", "POST"])
def edit_account(account_id):
    me = actor()
    account = accounts.account_to_manage(me, account_id)
    may_change = accounts.may_change_rights(me, account)
    form = AccountEditForm(accounts.visible_offices(me), may_change, data={
        "name": account.name, "offices": [office.slug for office in account.offices],
        "admin": account.is_admin, "active": account.active,
    })
    changed, error = submit(form, lambda: accounts.change_account(
        me, account.id, now=clock.now(), name=form.name.data or "", office_slugs=form.offices.data or [],
        admin=form.admin.data if may_change else None, active=form.active.data if may_change else None,
    ))
    if changed is not None:
        commit_and_send()
        flash(_l("Account %(email)s saved.", email=account.email))
        return redirect(url_for("staff.accounts"), code=303)
    return _account_page(account, form, PasswordForm(formdata=None), error, may_change)


@pages.post("/accounts/<int:account_id>/password")
def reset_password(account_id):
    me = actor()
    account = accounts.account_to_manage(me, account_id)
    form = PasswordForm()
    changed, error = submit(form, lambda: accounts.change_account(
        me, account.id, now=clock.now(), password=form.password.data))
    if changed is not None:
        commit_and_send()
        flash(_l("New password set for %(email)s. Their sessions have ended.", email=account.email))
        return redirect(url_for("staff.edit_account", account_id=account.id), code=303)
    may_change = accounts.may_change_rights(me, account)
    edit = AccountEditForm(accounts.visible_offices(me), may_change, formdata=None, data={
        "name": account.name, "offices": [office.slug for office in account.offices],
        "admin": account.is_admin, "active": account.active,
    })
    return _account_page(account, edit, form, error, may_change)


def _account_page(account, form, password_form, error, may_change):
    status = 422 if form.errors or password_form.errors else 409 if error else 200
    return render_template("staff/admin_account.html", account=account, form=form,
                           password_form=password_form, error=error, may_change=may_change), status


@api.get("/accounts")
def accounts_json():
    return jsonify(accounts=[account_json(account) for account in accounts.list_accounts(actor())])


@api.post("/accounts")
def create_account():
    accounts.require_admin(actor())  # who asks comes before what is asked
    data = json_object()
    check_types(data, {"email": (str, True), "password": (str, True), "name": (str, False),
                       "offices": (list, False), "admin": (bool, False)})
    account = accounts.add_account(
        actor(), email=data["email"], password=data["password"], office_slugs=_slugs(data) or [],
        admin=data.get("admin", False), name=data.get("name") or "", now=clock.now(),
    )
    commit_and_send()
    return jsonify(account_json(account)), 201


@api.patch("/accounts/<int:account_id>")
def change_account(account_id):
    accounts.require_admin(actor())
    data = json_object()
    check_types(data, {"password": (str, False), "name": (str, False), "offices": (list, False),
                       "admin": (bool, False), "active": (bool, False)})
    account = accounts.change_account(
        actor(), account_id, now=clock.now(), office_slugs=_slugs(data), admin=data.get("admin"),
        active=data.get("active"), name=data.get("name"), password=data.get("password"),
    )
    commit_and_send()
    return jsonify(account_json(account))


def account_json(account):
    return {
        "id": account.id, "email": account.email, "name": account.name, "admin": account.is_admin,
        "active": account.active, "offices": [office.slug for office in account.offices],
        "created_at": account.created_at.isoformat(),
    }


def _slugs(data):
    slugs = data.get("offices")
    if slugs is not None and not all(isinstance(slug, str) for slug in slugs):
        raise InvalidInput(fields={"offices": TYPE_NAMES[str]})
    return slugs


# Offices ----------------------------------------------------------------------------------

@pages.route("/offices/new", methods=["GET", "POST"])
def new_office():
    me = actor()
    accounts.require_admin(me)
    form = NewOfficeForm(data={"active": True, "languages": ["de"]})
    office, error = submit(form, lambda: offices_service.create_office(
        me, slug=form.slug.data, name=form.name.data, address=form.address.data or "",
        languages=form.languages.data or [], note=form.note.data or "", active=form.active.data,
        now=clock.now(),
    ))
    if office is not None:
        commit_and_send()
        flash(_l("Office %(name)s created. Set its weekly hours next.", name=office.name))
        return redirect(url_for("staff.office_settings", slug=office.slug), code=303)
    return render_template("staff/admin_office_new.html", form=form, error=error), status_for(form, error)


@pages.route("/offices/<slug>/settings", methods=["GET", "POST"])
def office_settings(slug):
    me = actor()
    office = accounts.office_for(me, slug)
    may_edit_all = offices_service.may_edit_all(me)
    current = {"name": office.name, "address": office.address, "languages": office.language_list,
               "active": office.active, "note": office.note}
    form = (OfficeForm if may_edit_all else NoteForm)(data=current)
    fields = {name: form[name].data for name in current if name in form}
    saved, error = submit(form, lambda: offices_service.update_office(me, office, now=clock.now(), **fields))
    if saved is not None:
        commit_and_send()
        flash(_l("Settings of %(name)s saved.", name=office.name))
        return redirect(url_for("staff.office_settings", slug=office.slug), code=303)
    return render_template("staff/admin_office.html", office=office, form=form, error=error,
                           may_edit_all=may_edit_all), status_for(form, error)


@api.post("/offices")
def create_office():
    accounts.require_admin(actor())
    data = json_object()
    check_types(data, {"slug": (str, True), "name": (str, True), "address": (str, False),
                       "languages": (list, False), "note": (str, False), "active": (bool, False)})
    office = offices_service.create_office(
        actor(), slug=data["slug"], name=data["name"], address=data.get("address") or "",
        languages=_codes(data.get("languages")) or [], note=data.get("note") or "",
        active=data.get("active", True), now=clock.now(),
    )
    commit_and_send()
    return jsonify(office_json(office)), 201


@api.patch("/offices/<slug>")
def change_office(slug):
    me = actor()
    office = accounts.office_for(me, slug)
    data = json_object()
    check_types(data, {"name": (str, False), "address": (str, False), "languages": (list, False),
                       "note": (str, False), "active": (bool, False)})
    office = offices_service.update_office(
        me, office, now=clock.now(), name=data.get("name"),
        address=data.get("address"), languages=_codes(data.get("languages")), note=data.get("note"),
        active=data.get("active"),
    )
    commit_and_send()
    return jsonify(office_json(office))


def _codes(languages):
    """Language codes as text: anything else is no code the service knows."""
    return None if languages is None else [str(code) for code in languages]
