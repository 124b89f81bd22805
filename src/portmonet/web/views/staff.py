"""Staff users and their roles (administrators only)."""
from pyramid.httpexceptions import HTTPForbidden, HTTPFound
from pyramid.security import remember
from pyramid.view import view_config

from ...interfaces import IRoot, IStaffFolder, IStaffUser
from ...model.staff import StaffUser
from ..forms import PasswordForm, StaffForm
from ..acl import ROLE_PERMISSIONS
from ..security import end_sessions
from ..helpers import audit, flash
from ..i18n import _
from .forms import form_page


@view_config(context=IStaffFolder, renderer="portmonet:web/templates/staff.pt",
             permission="manage_staff")
def staff_list(context, request):
    return {"page_title": _("Staff"), "users": list(context.values()),
            "role_permissions": ROLE_PERMISSIONS}


@view_config(context=IStaffFolder, name="add", renderer="portmonet:web/templates/form.pt",
             permission="manage_staff")
def add_staff(context, request):
    form = StaffForm.from_request(request)
    if request.method == "POST" and form.validate():
        if form.login.data in context:
            form.add_error("login", "this login exists")
        elif not form.password.data:
            form.add_error("password", "a new user needs a password")
        else:
            user = StaffUser(form.login.data, form.roles.data, form.password.data, form.name.data or "")
            user.active = form.active.data
            context.add_user(user)
            audit(request, f"staff user {user.login} added with roles {','.join(user.roles)}")
            return HTTPFound(request.resource_url(context))
    return form_page(request, form, _("New staff user"), request.resource_url(context, "@@add"))


@view_config(context=IStaffUser, renderer="portmonet:web/templates/form.pt",
             permission="manage_staff")
def edit_staff(context, request):
    form = StaffForm.from_request(request, data={"login": context.login, "name": context.name,
                                                 "roles": list(context.roles),
                                                 "active": context.active})
    del form.login
    if request.method == "POST" and form.validate():
        me = request.identity.obj
        if context is me and ("administrator" not in form.roles.data or not form.active.data):
            form.add_error("roles", "you cannot take the administrator role from yourself")
        else:
            context.roles = StaffUser._normalize_roles(form.roles.data)
            context.name = form.name.data or context.login
            context.active = form.active.data
            if form.password.data:
                context.set_password(form.password.data)
            if form.password.data or not context.active:
                # A reset password or a disabled employee: their sessions end now.
                end_sessions(request, f"staff:{context.login}")
            audit(request, f"staff user {context.login} changed: roles {','.join(context.roles)}, "
                           f"active {context.active}"
                           + (", password reset" if form.password.data else ""))
            return HTTPFound(request.resource_url(context.__parent__))
    return form_page(request, form, _("Staff user"), request.resource_url(context),
                     context_title=context.login)


@view_config(context=IRoot, name="password", renderer="portmonet:web/templates/form.pt",
             permission="view")
def own_password(context, request):
    """Every employee changes their own password (the old one is asked)."""
    user = request.identity.obj if request.identity is not None and request.identity.is_staff else None
    if user is None:
        raise HTTPForbidden()
    form = PasswordForm.from_request(request)
    if request.method == "POST" and form.validate():
        if not user.check_password(form.old.data):
            form.add_error("old", _("wrong password"))
        else:
            user.set_password(form.new.data)
            audit(request, f"staff user {user.login} changed their password")
            # Every other session ends; this browser gets a new one.
            end_sessions(request, f"staff:{user.login}", keep_current=True)
            remember(request, f"staff:{user.login}", password_hash=user.password_hash)
            flash(request, _("Password changed"))
            return HTTPFound(request.resource_url(context))
    return form_page(request, form, _("Change password"), request.resource_url(context, "@@password"))
