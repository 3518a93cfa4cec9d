"""New rows of several tables stored together, in one statement where the database allows it.

Queueing a data alert stores its delivery and the audit record of it; in a transaction of their own
that is four round trips to PostgreSQL (BEGIN, two INSERTs, COMMIT). PostgreSQL runs the INSERTs of
a `WITH` query together, as one statement, so in autocommit they are one round trip and still all
or nothing. SQLite has no INSERT inside WITH: there they are saved in one transaction.

Each INSERT is the one Django would send for `save(force_insert=True)`, made by its own compiler,
so a field added to a model needs nothing here. What `save()` does beside it is not done on
PostgreSQL, so give `insert_together` only rows that need none of it:
- a primary key the database numbers is neither sent (even when set) nor read back;
- no pre_save or post_save signal is sent (none is connected to the models it stores today);
- a field with a database default or a generated field is not read back;
- the database is the one the router gives the first row's model.
"""

from django.db import connections, router, transaction
from django.db.models import Model
from django.db.models.sql import InsertQuery


def insert_together(*rows: Model) -> None:
    """Store new `rows` (of one database) all or none."""
    if not rows:
        raise ValueError("insert_together needs at least one row.")
    using = router.db_for_write(type(rows[0]))
    connection = connections[using]
    if connection.vendor != "postgresql":
        with transaction.atomic(using=using):
            for row in rows:
                row.save(force_insert=True, using=using)
        return
    statements = [_insert_sql(row, using) for row in rows]
    *first, (last, _) = statements
    sql = last
    if first:
        sql = "WITH " + ", ".join(f"insert_{n} AS ({part})" for n, (part, _) in enumerate(first)) + f" {last}"
    params = [param for _, part_params in statements for param in part_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    for row in rows:
        row._state.adding = False
        row._state.db = using


def _insert_sql(row: Model, using: str) -> tuple[str, tuple]:
    meta = row._meta
    fields = [field for field in meta.local_concrete_fields if not field.generated and field is not meta.auto_field]
    query = InsertQuery(type(row))
    query.insert_values(fields, [row])
    [(sql, params)] = query.get_compiler(using=using).as_sql()
    return sql, tuple(params)
