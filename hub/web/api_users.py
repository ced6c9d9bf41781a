"""The JSON API of logins: who is calling, and (for admins) the users and their roles."""

from typing import Annotated, Literal

import msgspec
from flask import Blueprint, g, jsonify
from msgspec import Meta

from hub import users
from hub.web import db
from hub.web.api_calls import answer_http_errors_as_json, error
from hub.web.auth import api_role, csrf_token
from hub.web.contract import contract

blueprint = Blueprint("api_users", __name__, url_prefix="/api")
answer_http_errors_as_json(blueprint)

UserName = Annotated[str, Meta(pattern=users.NAME.pattern, description="a login name")]
Password = Annotated[str, Meta(min_length=users.MIN_PASSWORD, max_length=200)]


class UserPath(msgspec.Struct):
    name: UserName


class NewUser(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: UserName
    role: Literal[users.ROLES]  # type: ignore[valid-type]
    password: Password


class NewPassword(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    password: Password


@blueprint.get("/me")
@api_role("viewer")
@contract()
def me():
    """Who is calling: name and role (a token acts as a supervisor), and the CSRF token a
    logged-in browser sends as X-CSRF-Token."""
    account = g.account
    body = {"name": account.name, "role": account.role}
    if not g.via_token:
        body["csrf_token"] = csrf_token()
    return jsonify(body)


@blueprint.get("/users")
@api_role("admin")
@contract()
def user_list():
    """Logins and their roles."""
    return jsonify({"users": [vars(a) for a in users.accounts(db())]})


@blueprint.post("/users")
@api_role("admin")
@contract(body=NewUser, status=201, errors=(409,))
def user_add(body: NewUser):
    """Create a login: `{"name", "role": viewer|supervisor|admin, "password"}`; 409 when
    the name is taken."""
    try:
        account = users.add(db(), body.name, body.role, body.password)
    except users.UserError as exc:
        return error(409, str(exc))
    return jsonify(vars(account)), 201


@blueprint.delete("/users/<name>")
@api_role("admin")
@contract(path=UserPath, errors=(404,))
def user_remove(name: str):
    """Delete a login and end its sessions."""
    try:
        users.remove(db(), name)
    except users.UserError as exc:
        return error(404, str(exc))
    return jsonify({"removed": name})


@blueprint.post("/users/<name>/password")
@api_role("admin")
@contract(path=UserPath, body=NewPassword, errors=(404,))
def user_password(name: str, body: NewPassword):
    """Set a login's password (`{"password"}`); ends its sessions."""
    try:
        users.set_password(db(), name, body.password)
    except users.UserError as exc:
        return error(404, str(exc))
    return jsonify({"changed": name})
