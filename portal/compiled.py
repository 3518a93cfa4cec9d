"""Queries the ORM writes once and that are run many times, for the few on every alert's path.

Building a query (its filters, then compiling it to SQL) costs more Python than running it on a
kept connection: profiled under load, building them took a sixth of the events call's time and
about a third of a delivery worker's. A `CompiledQuery` has the ORM build and compile its query
once per database, with a stand-in for each value, then runs that SQL with the values put where
the stand-ins were. A row read comes back through the compiler's own converters, so a date or a
JSON column reads as it would through the queryset.

Give it only queries whose SQL does not depend on their values (no `__in` of a list whose length
varies, no None that the ORM would turn into IS NULL): each stand-in must appear among the compiled
query's parameters exactly once, which is checked when it is compiled. Any other parameter (a
constant written into the query, such as a state) is kept as it is. A stand-in must be a value its
field accepts (a number in the column's range): the ORM compiles no SQL for a filter that cannot match.
"""

from collections.abc import Callable
from typing import Any

from django.db import connections, transaction
from django.db.models import QuerySet
from django.db.models.sql import Query, UpdateQuery


def update_query(queryset: QuerySet, **values: Any) -> UpdateQuery:
    """The query `queryset.update(**values)` would run, not run."""
    query = queryset.query.chain(UpdateQuery)
    assert isinstance(query, UpdateQuery)
    query.add_update_values(values)
    return query


def _index_of(param: Any, stand_ins: tuple[Any, ...]) -> int | None:
    # The ORM may wrap a value in a type of its own (psycopg's Int4 for an int, on PostgreSQL).
    matches = (i for i, stand_in in enumerate(stand_ins) if isinstance(param, type(stand_in)) and param == stand_in)
    return next(matches, None)


class _Compiled:
    def __init__(self, query: Query, alias: str, stand_ins: tuple[Any, ...]) -> None:
        self.compiler = query.get_compiler(using=alias)
        self.sql, params = self.compiler.as_sql()
        # Each parameter is a stand-in's place (its index) or a constant of the query's, kept.
        self.params: list[tuple[int | None, Any]] = [(_index_of(param, stand_ins), param) for param in params]
        places = sorted(place for place, _ in self.params if place is not None)
        if places != list(range(len(stand_ins))):
            raise ValueError(f"Each stand-in of {stand_ins!r} must be one of the parameters {params!r} exactly once.")
        # A value is wrapped as the ORM wrapped its stand-in, if it did.
        self.wrappers = {
            place: type(param)
            for place, param in self.params
            if place is not None and type(param) is not type(stand_ins[place])
        }
        self.is_update = isinstance(query, UpdateQuery)
        if not self.is_update:
            columns = [selected[0] for selected in self.compiler.select[: self.compiler.col_count]]
            self.converters = self.compiler.get_converters(columns)

    def wrap(self, place: int, value: Any) -> Any:
        wrapper = self.wrappers.get(place)
        return value if wrapper is None else wrapper(value)


class CompiledQuery:
    """`build(*stand_ins)` makes the query (a QuerySet, or an `update_query`); `rows(*values)` and
    `update(*values)` run it with each value where its stand-in was."""

    def __init__(self, build: Callable[..., QuerySet | UpdateQuery], *stand_ins: Any) -> None:
        if len(set(map(repr, stand_ins))) != len(stand_ins):
            raise ValueError(f"The stand-ins must differ: {stand_ins!r}")
        self.build, self.stand_ins = build, stand_ins
        self._compiled: dict[tuple[str, str], _Compiled] = {}

    def _for(self, alias: str) -> _Compiled:
        key = (alias, connections[alias].vendor)
        compiled = self._compiled.get(key)
        if compiled is None:
            built = self.build(*self.stand_ins)
            query = built.query if isinstance(built, QuerySet) else built
            compiled = self._compiled[key] = _Compiled(query, alias, self.stand_ins)
        return compiled

    def _execute(self, alias: str, values: tuple[Any, ...], update: bool) -> tuple[_Compiled, Any]:
        if len(values) != len(self.stand_ins):
            raise TypeError(f"{len(self.stand_ins)} values are needed, not {len(values)}.")
        compiled = self._for(alias)
        if compiled.is_update != update:
            kind, method = ("an update", "update") if compiled.is_update else ("a read", "rows")
            raise TypeError(f"This query is {kind}: use {method}().")
        params = [
            constant if place is None else compiled.wrap(place, values[place]) for place, constant in compiled.params
        ]
        cursor = connections[alias].cursor()
        try:
            # As QuerySet.update and iteration do: a failed statement in a transaction marks it for
            # rollback, even if the caller catches the error.
            with transaction.mark_for_rollback_on_error(using=alias):
                cursor.execute(compiled.sql, params)
        except BaseException:
            cursor.close()
            raise
        return compiled, cursor

    def rows(self, *values: Any, using: str = "default") -> list[tuple[Any, ...]]:
        compiled, cursor = self._execute(using, values, update=False)
        with cursor:
            rows = cursor.fetchall()
        if compiled.converters:
            rows = [tuple(row) for row in compiled.compiler.apply_converters(rows, compiled.converters)]
        return rows

    def update(self, *values: Any, using: str = "default") -> int:
        """Runs an update_query; returns how many rows it changed."""
        _, cursor = self._execute(using, values, update=True)
        with cursor:
            return cursor.rowcount
