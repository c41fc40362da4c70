"""`leaddesk db copy --to TARGET`: move a desk between SQLite and PostgreSQL with every row."""

from typing import Annotated

import typer

from leaddesk.cli import output
from leaddesk.cli.app import JsonOpt, db_app, reader
from leaddesk.textsafe import safe_line


@db_app.command("copy")
def db_copy(
    to: Annotated[str, typer.Option(
        "--to", metavar="PATH|URL",
        help="The database to copy into: a new SQLite file, or an empty server database such as"
             " postgresql+psycopg://USER:PASSWORD@HOST:5432/DB (it is migrated first).")],
    json_: JsonOpt = False,
) -> None:
    """Copy every row of this desk (--db) into another, empty database, in one transaction, and check the counts.

    Managers and admins. A desk moves from SQLite to PostgreSQL and back this way; the source is not changed."""
    summary = reader().copy_to(to)
    if json_:
        output.emit_json(summary)
        return
    output.table(None, ["table", "rows"], ([t["table"], t["rows"]] for t in summary["tables"]))
    output.say(safe_line(f"copied {summary['rows']} rows in {len(summary['tables'])} tables from {summary['source']}"
                         f" to {summary['target']} in {summary['seconds']:g} s; every table's count matches"))
