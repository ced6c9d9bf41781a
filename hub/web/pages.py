"""The supervisors' pages: overview, stations and their commands, alerts and dead letters,
users; plus what every page shares (login gate, error pages)."""

from urllib.parse import urlencode

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.exceptions import HTTPException, UnprocessableEntity

from hub import store, users
from hub.web import api_calls, commands, db, site_overview, views
from hub.web.auth import page_role

blueprint = Blueprint("pages", __name__)


def login_gate():
    """Every page blueprint: anonymous visitors go to the login page first."""
    if g.get("account") is None:
        return redirect(url_for("login.login", next=request.full_path.rstrip("?")))
    return None


blueprint.before_request(login_gate)


@blueprint.app_template_global()
def query_with(**changes) -> str:
    """This page's query string with some parameters replaced (for pagers and filters)."""
    args = {key: value for key, value in request.args.items() if key not in changes}
    args.update({k: v for k, v in changes.items() if v is not None})
    return urlencode(args)


@blueprint.app_errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    if request.path.startswith("/api/"):
        return api_calls.http_error(exc)
    page = render_template("error.html", code=exc.code, name=exc.name,
                           description=exc.description)  # fmt: skip
    return page, exc.code, api_calls.kept_headers(exc)


def unstorable(exc: Exception):
    """A value the database cannot hold (PostgreSQL's text takes no NUL character): well
    formed, but the request's fault (422; its transaction rolled back)."""
    return _http_error(UnprocessableEntity(f"a value the database cannot store: {exc}"))


@blueprint.get("/")
def overview():
    data = site_overview()
    return render_template("overview.html", data=data)


@blueprint.get("/overview.json")
def overview_json():
    return jsonify(site_overview())


@blueprint.get("/stations")
def stations():
    return render_template("stations.html", stations=views.station_rows(db()), station=None,
                           commands=commands.NAMES, modes=commands.MODES)  # fmt: skip


@blueprint.get("/stations/<station>")
def station(station: str):
    rows = [s for s in views.station_rows(db()) if s["station"] == station]
    if not rows:
        return render_template("error.html", code=404, name="Not found",
                               description=f"No station {station!r}."), 404  # fmt: skip
    return render_template("stations.html", stations=rows, station=rows[0],
                           commands=commands.NAMES, modes=commands.MODES)  # fmt: skip


@blueprint.post("/stations/<station>/commands/<name>")
@page_role("supervisor")
def station_command(station: str, name: str):
    args = {"mode": request.form["mode"]} if name == "mode" else {}
    try:
        commands.send(db(), current_app.config["TOPICS"], station, name, args)
    except commands.CommandError as exc:
        flash(str(exc), "error")
    else:
        current_app.config["OUTBOX_WAKE"]()
        flash(f"Sent {name} to {station}.", "ok")
    return redirect(url_for("pages.station", station=station))


@blueprint.get("/alerts")
def alerts():
    conn = db()
    return render_template("alerts.html", alerts=store.alerts_open(conn, 200),
                           dead_letters=store.dead_letters(conn, 100),
                           dead_letter_counts=store.dead_letter_counts(conn),
                           failures=store.event_failures(conn), held=store.gaps(conn))  # fmt: skip


@blueprint.get("/users", endpoint="users")
@page_role("admin")
def users_page():
    return render_template("users.html", users=users.accounts(db()), roles=users.ROLES)


@blueprint.post("/users")
@page_role("admin")
def user_add():
    form = request.form
    try:
        users.add(
            db(), form.get("name", "").strip(), form.get("role", ""), form.get("password", "")
        )
    except users.UserError as exc:
        flash(str(exc), "error")
    else:
        flash(f"Added {form['name']}.", "ok")
    return redirect(url_for("pages.users"))


@blueprint.post("/users/<name>/remove")
@page_role("admin")
def user_remove(name: str):
    if name == g.account.name:
        flash("You cannot remove yourself.", "error")
    else:
        try:
            users.remove(db(), name)
            flash(f"Removed {name}.", "ok")
        except users.UserError as exc:
            flash(str(exc), "error")
    return redirect(url_for("pages.users"))
