"""Stock counts and their approval, full-count runs and count tasks."""

from collections.abc import Iterator
from dataclasses import dataclass

from hub.store.conditions import Where, page
from hub.store.connection import Connection


@dataclass(frozen=True)
class CountRow:
    id: int
    event_id: int
    station: str
    sku: str
    location: str
    lot: str | None
    book: int
    counted: int
    variance: int
    status: str
    task: str | None
    ts: str
    decided_by: str | None
    decided: str | None


_COUNT_COLUMNS = ("id, event_id, station, sku, location, lot, book, counted, variance, status, "
                  "task, ts, decided_by, decided")  # fmt: skip


def count_add(
    conn: Connection, event_id: int, station: str, sku: str, location: str,
    lot: str | None, book: int, counted: int, status: str, task: str | None, ts: str,
) -> int:  # fmt: skip
    cur = conn.execute(
        "INSERT INTO counts (event_id, station, sku, location, lot, book, counted, variance, "
        "status, task, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (event_id, station, sku, location, lot, book, counted, counted - book, status, task, ts),
    )
    return cur.fetchone()[0]


def count_get(conn: Connection, count_id: int) -> CountRow | None:
    row = conn.execute(f"SELECT {_COUNT_COLUMNS} FROM counts WHERE id = ?", (count_id,))
    row = row.fetchone()
    return CountRow(*row) if row else None


def count_list(conn: Connection, status: str | None, limit: int, offset: int) -> list[CountRow]:
    # The status written out (conditions.word): planned without it, walking the primary key
    # backwards testing each row's status looks cheaper than counts_status, and reads the
    # whole table for a rare status (pending). The page's ids first, then their rows: for
    # the ids alone counts_status may be read by itself.
    where = Where().equal_word("status", status)
    rows = conn.execute(
        f"SELECT {_COUNT_COLUMNS} FROM counts WHERE id IN (SELECT id FROM counts {where.sql} "
        f"ORDER BY id DESC {page(limit, offset)}) ORDER BY id DESC",
        where.params,
    ).fetchall()
    return [CountRow(*row) for row in rows]


def counts_pending_of(conn: Connection, sku: str, location: str, lot: str | None) -> list[int]:
    """Ids of the counts of this line still waiting for approval."""
    rows = conn.execute(
        "SELECT id FROM counts WHERE status = 'pending' AND sku = ? AND location = ? "
        "AND lot IS NOT DISTINCT FROM ?",
        (sku, location, lot),
    )
    return [r[0] for r in rows]


def count_decide(
    conn: Connection, count_id: int, status: str, by: str, now: str,
    posted_event: int | None,
) -> None:  # fmt: skip
    conn.execute(
        "UPDATE counts SET status = ?, decided_by = ?, decided = ?, posted_event = ? WHERE id = ?",
        (status, by, now, posted_event, count_id),
    )


def counts_pending(conn: Connection, limit: int, offset: int) -> list[tuple[CountRow, str | None]]:
    """(count, operator who counted) of the counts waiting for approval, oldest first."""
    columns = ", ".join("c." + c for c in _COUNT_COLUMNS.split(", "))
    rows = conn.execute(
        f"SELECT {columns}, json_extract(e.data, '$.operator') FROM counts c "
        "JOIN events e ON e.id = c.event_id WHERE c.status = 'pending' ORDER BY c.id "
        "LIMIT ? OFFSET ?",
        (limit, offset),
    ).fetchall()
    return [(CountRow(*row[:-1]), row[-1]) for row in rows]


def count_run_add(conn: Connection, run: str, cutoff: str, now: str) -> None:
    conn.execute("INSERT INTO count_runs VALUES (?, ?, 'open', ?)", (run, cutoff, now))


def count_run_get(conn: Connection, run: str) -> tuple[str, str, str] | None:
    query = "SELECT cutoff, status, created FROM count_runs WHERE run = ?"
    return conn.execute(query, (run,)).fetchone()


def count_runs(conn: Connection, limit: int) -> list[tuple[str, str, str, str]]:
    """(run, cutoff, status, created) of the latest full counts, newest first."""
    query = "SELECT run, cutoff, status, created FROM count_runs ORDER BY created DESC LIMIT ?"
    return conn.execute(query, (limit,)).fetchall()


def count_run_set(conn: Connection, run: str, status: str) -> None:
    conn.execute("UPDATE count_runs SET status = ? WHERE run = ?", (status, run))


def count_task_add(
    conn: Connection, task: str, station: str, location: str, sku: str | None,
    run: str | None, now: str,
) -> None:  # fmt: skip
    conn.execute(
        "INSERT INTO count_tasks (task, station, location, sku, status, run, created) "
        "VALUES (?, ?, ?, ?, 'open', ?, ?)",
        (task, station, location, sku, run, now),
    )


def count_task_get(conn: Connection, task: str) -> tuple | None:
    """(station, location, sku, status, run)."""
    return conn.execute(
        "SELECT station, location, sku, status, run FROM count_tasks WHERE task = ?", (task,)
    ).fetchone()


def count_task_done(conn: Connection, task: str, now: str) -> None:
    conn.execute(
        "UPDATE count_tasks SET status = 'done', done = ? WHERE task = ? AND status = 'open'",
        (now, task),
    )


def count_tasks_open_skus(conn: Connection) -> set[str]:
    rows = conn.execute(
        "SELECT DISTINCT sku FROM count_tasks WHERE status = 'open' AND sku IS NOT NULL"
    )
    return {r[0] for r in rows}


def count_tasks(
    conn: Connection, run: str | None, status: str | None, limit: int | None = None
) -> list[dict]:
    """Tasks of a run and/or in a status, by task id; all of them without `limit`."""
    where = Where().equal("run", run).equal_word("status", status)
    rows = conn.execute(
        "SELECT task, station, location, sku, status, run, created, done FROM count_tasks "
        f"{where.sql} ORDER BY task" + (" LIMIT ?" if limit is not None else ""),
        (*where.params, *((limit,) if limit is not None else ())),
    ).fetchall()
    keys = ("task", "station", "location", "sku", "status", "run", "created", "done")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def counts_of_run(conn: Connection, run: str) -> list[CountRow]:
    rows = conn.execute(
        f"SELECT {', '.join('c.' + c for c in _COUNT_COLUMNS.split(', '))} FROM counts c "
        "JOIN count_tasks t ON t.task = c.task WHERE t.run = ? ORDER BY c.id",
        (run,),
    ).fetchall()
    return [CountRow(*row) for row in rows]


# Lines a due-count read takes at once: a page wants 50 due lines, and lines are skipped
# (counted lately, or a task open), so a few hundred suffice for most pages.
_DUE_CHUNK = 500


def count_due_lines(conn: Connection) -> Iterator[tuple[str, str, int, str | None, str]]:
    """(sku, location, qty, last count day, ABC class) of every non-zero stock line, by sku
    and location, lazily: the caller reads only as many as it needs (and closes it).

    Read in keyset chunks of `_DUE_CHUNK` lines, a literal LIMIT: PostgreSQL's client reads
    a statement's whole result at once (one statement for every line read every line of a
    big site for a page of 50), and plans a `LIMIT ?` whose value it does not know as a
    tenth of the table. The activity and class are looked up per line (one row per sku),
    not joined: a join is planned over both whole tables."""
    after: tuple[str, str] | None = None
    while True:
        where = Where() if after is None else Where().add("(b.sku, b.location) > (?, ?)", *after)
        rows = conn.execute(
            "SELECT b.sku, b.location, sum(b.qty), "
            "(SELECT a.last_count FROM sku_activity a WHERE a.sku = b.sku), "
            "coalesce((SELECT c.class FROM abc_classes c WHERE c.sku = b.sku), 'C') "
            f"FROM balances b {where.sql} GROUP BY b.sku, b.location HAVING sum(b.qty) != 0 "
            f"ORDER BY b.sku, b.location LIMIT {_DUE_CHUNK}",
            where.params,
        ).fetchall()
        yield from rows
        if len(rows) < _DUE_CHUNK:
            return
        after = rows[-1][0], rows[-1][1]
