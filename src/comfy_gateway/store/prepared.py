"""The statements on every job's path, compiled once and run on the driver's cursor.

Through SQLAlchemy Core, each ``execute`` builds an execution context, dispatches
events, constructs parameters and wraps the result; for the short statements a job runs
that costs several times more than the database takes to run them (measured in one
process on SQLite: ``get_job``'s two SELECTs 232 µs through Core, 25 µs on the cursor).
So the statements a job runs every time are SQLAlchemy Core statements still — built
once, compiled by SQLAlchemy for the connection's dialect — but executed on the DBAPI
cursor of the connection SQLAlchemy opened and holds in its transaction:

- parameters go through each type's own bind processor, results through each column's
  result processor (``dialect_impl`` of the type, as Core does), so values go in and
  come out exactly as through ``Connection.execute``;
- a driver error is wrapped into SQLAlchemy's exception classes as Core wraps it, so
  the store's error handling (locks, constraint violations) sees no difference;
- statements with RETURNING or SELECT give rows as dicts keyed by column name.

Only fixed statements go through here: ones whose SQL does not change between calls
(no expanding ``IN`` parameters: write ``a = x OR a = y`` instead).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import ClauseElement

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    """One statement as one dialect runs it."""

    sql: str
    positional: bool
    binds: tuple[tuple[str, Any], ...]  # name, default value, in the statement's order
    bind_processors: tuple[tuple[int, Callable[[Any], Any]], ...]  # position, processor
    names: tuple[str, ...]  # result columns
    result_processors: tuple[tuple[int, Callable[[Any], Any]], ...]  # column, processor

    def arguments(self, parameters: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        get = parameters.get
        values = [get(name, default) for name, default in self.binds]
        for position, process in self.bind_processors:
            values[position] = process(values[position])
        if self.positional:
            return values
        return dict(zip((name for name, _ in self.binds), values, strict=True))

    def row(self, raw: Sequence[Any]) -> dict[str, Any]:
        if not self.result_processors:
            return dict(zip(self.names, raw, strict=True))
        values = list(raw)
        for position, process in self.result_processors:
            values[position] = process(values[position])
        return dict(zip(self.names, values, strict=True))


class Prepared:
    """A fixed Core statement run on the driver's cursor (see the module docstring)."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def rows(self, conn: Connection, parameters: Mapping[str, Any]) -> list[dict[str, Any]]:
        compiled, cursor = self._run(conn, parameters)
        try:
            return [compiled.row(raw) for raw in cursor.fetchall()]
        finally:
            cursor.close()

    def first(self, conn: Connection, parameters: Mapping[str, Any]) -> dict[str, Any] | None:
        found = self.rows(conn, parameters)
        return found[0] if found else None

    def scalar(self, conn: Connection, parameters: Mapping[str, Any]) -> Any:
        row = self.first(conn, parameters)
        return None if row is None else next(iter(row.values()))

    def execute(self, conn: Connection, parameters: Mapping[str, Any]) -> int:
        """Run a statement without RETURNING; the number of rows it changed."""
        _, cursor = self._run(conn, parameters)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def execute_many(self, conn: Connection, many: Sequence[Mapping[str, Any]]) -> None:
        compiled = self._for(conn.dialect)
        arguments: Any = [compiled.arguments(parameters) for parameters in many]
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            with _as_sqlalchemy_error(conn.dialect, compiled.sql, arguments):
                cursor.executemany(compiled.sql, arguments)
        finally:
            cursor.close()

    def _run(self, conn: Connection, parameters: Mapping[str, Any]) -> tuple[_Compiled, Any]:
        compiled = self._for(conn.dialect)
        arguments = compiled.arguments(parameters)
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            with _as_sqlalchemy_error(conn.dialect, compiled.sql, arguments):
                cursor.execute(compiled.sql, arguments)
        except BaseException:
            cursor.close()
            raise
        return compiled, cursor

    def _for(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = _compile(self.statement, dialect)
        return compiled


def _compile(statement: ClauseElement, dialect: Dialect) -> _Compiled:
    compiled = statement.compile(dialect=dialect)
    if "POSTCOMPILE" in compiled.string:
        raise ValueError(f"a prepared statement cannot expand parameters: {compiled.string}")
    defaults = compiled.construct_params(_check=False) or {}  # type: ignore[call-arg]
    names: Sequence[str] = compiled.positiontup or list(compiled.binds)  # type: ignore[attr-defined]
    binds = tuple((name, defaults.get(name)) for name in names)
    bind_processors = _present(
        compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)  # type: ignore[attr-defined]
        for name in names
    )
    exported = tuple(getattr(statement, "exported_columns", ()))
    result_processors = _present(
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in exported
    )
    return _Compiled(
        sql=compiled.string,
        positional=bool(compiled.positional),  # type: ignore[attr-defined]
        binds=binds,
        bind_processors=bind_processors,
        names=tuple(column.key for column in exported),
        result_processors=result_processors,
    )


def _present(processors: Iterable[Processor]) -> tuple[tuple[int, Callable[[Any], Any]], ...]:
    """The processors that exist, with their positions (most values need none)."""
    return tuple(
        (position, process) for position, process in enumerate(processors) if process is not None
    )


class _as_sqlalchemy_error:
    """Wrap a driver error the way ``Connection.execute`` would."""

    def __init__(self, dialect: Dialect, sql: str, arguments: Any) -> None:
        self._dialect = dialect
        self._sql = sql
        self._arguments = arguments

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, traceback: Any) -> None:
        dbapi = self._dialect.loaded_dbapi
        if exc is None or not isinstance(exc, dbapi.Error):
            return
        raise sa_exc.DBAPIError.instance(
            self._sql, self._arguments, exc, dbapi.Error, dialect=self._dialect
        ) from exc
