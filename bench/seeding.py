"""Seeding a benchmark's data set fast on PostgreSQL: COPY into a model's table, and primary keys reserved up front."""


def copy_rows(cursor, model, columns: list[str], rows) -> int:
    """COPY rows (tuples in the order of `columns`, given by field name) into the model's table; every other column
    gets its field's default, so a field added later with a default needs no change here."""
    from django.db import connection

    opts = model._meta
    given = [opts.get_field(name) for name in columns]
    rest = [field for field in opts.concrete_fields if field.name not in columns and not field.primary_key]
    constants = tuple(field.get_db_prep_save(field.get_default(), connection) for field in rest)
    names = ", ".join(connection.ops.quote_name(field.column) for field in given + rest)
    count = 0
    with cursor.copy(f"COPY {connection.ops.quote_name(opts.db_table)} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row + constants)
            count += 1
    return count


def ids_reserve(cursor, model, count: int) -> range:
    """A block of `count` primary keys taken from the table's sequence (nobody else writes during the seeding)."""
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [model._meta.db_table])
    sequence = cursor.fetchone()[0]
    cursor.execute("SELECT nextval(%s)", [sequence])
    first = cursor.fetchone()[0]
    cursor.execute("SELECT setval(%s, %s)", [sequence, first + count - 1])
    return range(first, first + count)
