"""Every INSERT the store gives to `execute_later` reaches PostgreSQL by one of the fast
paths of hub/store/postgres.py: a plain INSERT by COPY, an upsert as one statement a round
(`json_populate_recordset`). Both recognise a statement by its text, so one written
another way (no column list, a cast in its values) would still work but silently go by
`executemany`, a statement executed per row: what cost a PostgreSQL ingest worker most of
its time before. The statements are read from the source: each call's SQL, a literal or
built from the module's constants, evaluated in its module."""

import ast
import importlib
from pathlib import Path

import pytest

from hub.store import postgres

pytestmark = pytest.mark.hub

STORE = Path(__file__).resolve().parents[1] / "hub" / "store"


def held_statements() -> list[tuple[str, str]]:
    """(where, SQL) of every `execute_later` call in hub/store."""
    found = []
    for path in sorted(STORE.glob("*.py")):
        module = importlib.import_module(f"hub.store.{path.stem}")
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "execute_later" and node.args):  # fmt: skip
                where = f"{path.name}:{node.lineno}"
                source = ast.unparse(node.args[0])
                if source == "sql":  # the connections' own method, passing it on
                    continue
                try:
                    sql = eval(source, vars(module))  # noqa: S307 (the project's own source)
                except NameError as exc:
                    pytest.fail(f"{where}: the SQL given to execute_later is not a literal "
                                f"or a module constant ({exc})")  # fmt: skip
                found.append((where, sql))
    return found


HELD = held_statements()


def test_the_store_holds_some_statements():
    assert len(HELD) >= 8


@pytest.mark.parametrize(("where", "sql"), HELD, ids=[where for where, _ in HELD])
def test_a_held_insert_goes_by_copy_or_as_one_statement_a_round(where, sql):
    if not sql.lstrip().upper().startswith("INSERT"):
        return  # an UPDATE (a station's new epoch: rare) goes by executemany
    plain = postgres._PLAIN_INSERT.fullmatch(sql) is not None
    upsert = postgres._upsert(sql) is not None
    assert plain or upsert, f"{where}: {sql}"
