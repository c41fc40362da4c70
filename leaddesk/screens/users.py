"""The users screen: who uses the desk (login, name, role, active, open leads), and for managers and admins
the keys to add a user, change a role, deactivate and activate.

Everything goes through the Desk in a worker: `whoami` (the acting user and, from the store's own rules, the
refusal they would get managing users), `user_overview`, `add_user`, `set_user_role`, `set_user_active`. The
screen decides nothing: a rep sees the list read-only, and a key that changes a user tells them the store's
refusal instead of opening a form; every write is checked by the store again (a role may change meanwhile).

Keys (ids in brackets, remap them in the settings' [keymap]): n adds a user [users.new] · r changes the role
of the user under the cursor [users.role] · d deactivates them (asks first) [users.deactivate] · a activates
them [users.activate] · escape back [users.back].
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Header, Input, Label, Select, Static

from leaddesk.screens.base import DeskScreen
from leaddesk.screens.dialogs import ConfirmDialog, FormDialog
from leaddesk.store.desk import Desk
from leaddesk.store.errors import LeadDeskError
from leaddesk.store.permissions import ROLES
from leaddesk.textsafe import safe_line, truncate
from leaddesk.widgets.quiet_footer import QuietFooter

NAME_WIDTH = 28
ROLE_HELP = {"rep": "works all leads", "manager": "also users, lists, reassigning, deleting",
             "partner": "sees only the leads they referred", "admin": "a manager who also manages admins"}


class UsersTable(DataTable[Any]):
    """One row per user, keyed by login; moves like the lead list (arrows or j/k, g/G first and last)."""

    BINDINGS = [
        Binding("up,k", "cursor_up", "Up", show=False, id="users.up"),
        Binding("down,j", "cursor_down", "Down", show=False, id="users.down"),
        Binding("home,g", "scroll_top", "First user", show=False, id="users.first"),
        Binding("end,G", "scroll_bottom", "Last user", show=False, id="users.last"),
    ]


class AddUserDialog(FormDialog):
    """A new user: login, display name (optional) and role. Dismisses with the login once added."""

    title_text = "New user"
    DEFAULT_CSS = """
    AddUserDialog Select { width: 100%; }
    """

    def compose_fields(self) -> ComposeResult:
        yield Label("Login (their OS login or --user name), display name, role.")
        yield Input(placeholder="Login, e.g. sam", id="login")
        yield Input(placeholder="Display name (optional)", id="name")
        yield Select[str]([(f"{role} — {ROLE_HELP[role]}", role) for role in ROLES], value="rep",
                          allow_blank=False, id="role")

    def on_mount(self) -> None:
        self.query_one("#login", Input).focus()

    def action_submit(self) -> None:
        login = self.query_one("#login", Input).value
        name = self.query_one("#name", Input).value or None
        role = self.query_one("#role", Select).value
        chosen = role if isinstance(role, str) else "rep"
        self.call(lambda desk: desk.add_user(login, name, chosen), lambda _id: self.dismiss(login.strip()),
                  failed=self.fail, changes=True)


class RoleDialog(FormDialog):
    """A user's new role. Dismisses with the role chosen (the screen writes it)."""

    DEFAULT_CSS = """
    RoleDialog Select { width: 100%; }
    """

    def __init__(self, login: str, role: str) -> None:
        super().__init__()
        self.login, self.role = login, role
        self.title_text = f"Role of {login}"

    def compose_fields(self) -> ComposeResult:
        yield Label(Text(f"{safe_line(self.login)}'s role now: {safe_line(self.role)}. The new one:"))
        yield Select[str]([(f"{role} — {ROLE_HELP[role]}", role) for role in ROLES],
                          value=self.role if self.role in ROLES else "rep", allow_blank=False, id="role")

    def on_mount(self) -> None:
        self.query_one("#role", Select).focus()

    def action_submit(self) -> None:
        role = self.query_one("#role", Select).value
        self.dismiss(role if isinstance(role, str) else None)


class UsersScreen(DeskScreen):
    """The desk's users; managers and admins add, change roles, deactivate and activate."""

    TITLE = "Users"
    CSS_PATH = "users.tcss"
    BINDINGS = [
        Binding("n", "new", "New user", id="users.new", tooltip="Add a user (managers and admins)"),
        Binding("r", "role", "Role", id="users.role", tooltip="Change the role of the user under the cursor"),
        Binding("d", "set_active(False)", "Deactivate", id="users.deactivate",
                tooltip="Stop the user under the cursor from using the desk (asks first; leads and history stay)"),
        Binding("a", "set_active(True)", "Activate", id="users.activate",
                tooltip="Let the user under the cursor use the desk again"),
        Binding("escape", "back", "Back", id="users.back", tooltip="Close the screen"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.users: list[dict[str, Any]] = []
        self.me: dict[str, Any] | None = None
        self._cursor_active: bool | None = None  # the user under the cursor is active (which of d/a applies)
        self._cursor_to: str | None = None  # a user just added: the next list shown has the cursor on them

    # -- layout ----------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="users-head"):
            yield Static(Text("Reading the users…", style="dim"), id="users-info")
            yield Static("", id="users-access")
        yield UsersTable(id="users", cursor_type="row", zebra_stripes=True)
        yield QuietFooter()

    def on_mount(self) -> None:
        table = self.query_one("#users", UsersTable)
        table.add_column("Login", key="login")
        table.add_column("Name", key="name")
        table.add_column("Role", key="role")
        table.add_column("Active", key="active")
        table.add_column("Open leads", key="open")
        table.focus()

    # -- loading ---------------------------------------------------------------------------------
    def reload(self) -> None:
        def fetch(desk: Desk) -> tuple[dict[str, Any], list[dict[str, Any]]]:
            return desk.whoami(), desk.user_overview()

        self.call(fetch, self._show, group="users-load", exclusive=True)

    def _show(self, data: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
        self.me, self.users = data
        table = self.query_one("#users", UsersTable)
        current, self._cursor_to = self._cursor_to or self._login_under_cursor(), None
        table.clear()
        for user in self.users:
            style = "" if user["active"] else "dim"
            mine = user["login"] == self.me["login"]
            table.add_row(Text(safe_line(user["login"]), style=("bold " + style).strip() if mine else style),
                          Text(truncate(safe_line(user["name"] or ""), NAME_WIDTH), style=style),
                          Text(safe_line(user["role"]), style=style),
                          Text("yes" if user["active"] else "no", style=style),
                          Text(str(user["open_leads"]), style=style, justify="right"),
                          key=user["login"])
        logins = [u["login"] for u in self.users]
        if current in logins:
            table.move_cursor(row=logins.index(current))
        self._show_head()
        self._cursor_moved()

    def _show_head(self) -> None:
        me = self.me
        if me is None:
            return
        active = sum(1 for u in self.users if u["active"])
        info = Text(f"{len(self.users)} users, {active} active · you are {safe_line(me['login'])}"
                    f" ({safe_line(me['role'])})")
        self.query_one("#users-info", Static).update(info)
        access = self.query_one("#users-access", Static)
        if me["manage_users"]:
            access.update(Text(f"Read-only: {safe_line(me['manage_users'])}"))
        else:
            access.update(Text("A deactivated user cannot open the desk or act; their leads and history stay.",
                               style="dim"))
        access.set_class(bool(me["manage_users"]), "refused")

    # -- the user under the cursor -----------------------------------------------------------------
    def _login_under_cursor(self) -> str | None:
        table = self.query_one("#users", UsersTable)
        if not table.row_count:
            return None
        return self.users[table.cursor_row]["login"] if table.cursor_row < len(self.users) else None

    def _user_under_cursor(self) -> dict[str, Any] | None:
        login = self._login_under_cursor()
        return next((u for u in self.users if u["login"] == login), None)

    def on_data_table_row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        self._cursor_moved()

    def _cursor_moved(self) -> None:
        user = self._user_under_cursor()
        active = None if user is None else bool(user["active"])
        if active != self._cursor_active:  # the footer changes only when d/a swap
            self._cursor_active = active
            self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "set_active":
            # Show the key that applies to the user under the cursor (both hidden on an empty list).
            return self._cursor_active is not None and self._cursor_active != parameters[0]
        if action == "role":
            return self._cursor_active is not None
        return True

    # -- actions ---------------------------------------------------------------------------------
    def _refused_up_front(self) -> bool:
        """The store says this user may not manage users: tell them its refusal instead of asking anything."""
        refusal = self.me["manage_users"] if self.me is not None else None
        if refusal:
            self.notify(refusal, title="Refused", severity="error", markup=False)
            return True
        return self.me is None  # not read yet

    def action_new(self) -> None:
        if self._refused_up_front():
            return

        def added(login: str | None) -> None:
            if login:
                self.notify(f"User '{safe_line(login)}' added", markup=False)
                self._cursor_to = login  # the reload the write triggers puts the cursor on them

        self.app.push_screen(AddUserDialog(), added)

    def action_role(self) -> None:
        user = self._user_under_cursor()
        if user is None or self._refused_up_front():
            return
        login = user["login"]

        def chosen(role: str | None) -> None:
            if role is None or role == user["role"]:
                return
            self.call(lambda desk: desk.set_user_role(login, role), self._changed, failed=self._failed,
                      changes=True)

        self.app.push_screen(RoleDialog(login, user["role"]), chosen)

    def action_set_active(self, active: bool) -> None:
        user = self._user_under_cursor()
        if user is None or self._refused_up_front():
            return
        login = user["login"]

        def write() -> None:
            self.call(lambda desk: desk.set_user_active(login, active), self._changed, failed=self._failed,
                      changes=True)

        if active:
            write()
            return
        you = " (you)" if self.me is not None and login == self.me["login"] else ""
        question = (f"Deactivate {login}{you}? They can no longer open the desk or act; their leads, notes and"
                    " history stay. You can activate them again (a).")
        self.app.push_screen(ConfirmDialog(question, yes="Deactivate"), lambda yes: write() if yes else None)

    def _changed(self, result: tuple[dict[str, Any], bool]) -> None:
        user, changed = result
        state = f"{safe_line(user['role'])}, {'active' if user['active'] else 'deactivated'}"
        login = safe_line(user["login"])
        self.notify(f"{login} is now {state}" if changed else f"Nothing changed: {login} is {state}", markup=False)

    def _failed(self, exc: LeadDeskError) -> None:
        self.notify(str(exc), title="Refused", severity="error", markup=False)

    def action_back(self) -> None:
        self.app.pop_screen()
