"""Plausible Databricks notebook stack traces around a corpus error message.

The invariant the tests (and AIMS's parsers) rely on: the trace, read without its terminal escape codes, always
*ends with* the full corpus message. Like real notebook output (IPython's coloured tracebacks), about half the traces
carry ANSI colour codes: a red banner and exception names, green frame headers, a bold arrow, grey operators.
"""

from __future__ import annotations

import random
import re

_EXC_RE = re.compile(r"^\s*([A-Za-z_][\w.$]*?(?:Exception|Error|Exit|Failure|Interrupt|Timeout)\w*)\s*(?::|$)")
_JVM_PREFIXES = ("java.", "javax.", "org.", "com.", "scala.", "shaded.", "io.", "py4j.")

COLOURED_SHARE = 0.5
RED, GREEN, BOLD_GREEN, GREY, RESET = "\x1b[0;31m", "\x1b[0;32m", "\x1b[1;32m", "\x1b[38;5;241m", "\x1b[0m"

_USER_LINES = (
    'df = spark.table("raw.{key}")',
    'df.write.mode("overwrite").saveAsTable("curated.{key}")',
    "result = transform_{key}(spark, load_date)",
    'spark.sql(f"MERGE INTO curated.{key} t USING staged s ON t.id = s.id WHEN MATCHED THEN UPDATE SET *")',
    'dbutils.fs.cp(source_path, "abfss://landing@datalake.dfs.core.windows.net/{key}/", recurse=True)',
)


def exception_name(message: str) -> str | None:
    first = message.strip().splitlines()[0] if message.strip() else ""
    m = _EXC_RE.match(first)
    return m.group(1) if m else None


def build_error_trace(message: str, task_key: str, seed: int) -> str:
    rng = random.Random(seed)
    name = exception_name(message)
    cell = rng.randrange(10**9, 10**10)
    line_no = rng.randrange(3, 40)
    code = rng.choice(_USER_LINES).format(key=task_key)
    banner = "-" * 75
    jvm = name is None or name.startswith(_JVM_PREFIXES)
    shown = "Py4JJavaError" if jvm or name is None else name.rsplit(".", 1)[-1]
    head = [banner, f"{shown:<42}Traceback (most recent call last)", f"File <command-{cell}>, line {line_no}"]
    head += [f"    {line_no - 1} ", f"----> {line_no} {code}", ""]
    if jvm:
        obj = f"o{rng.randrange(100, 999)}"
        head += [
            "File /databricks/spark/python/lib/py4j-0.10.9.7-src.zip/py4j/protocol.py:326, in get_return_value"
            "(answer, gateway_client, target_id, name)",
            "    325 if answer[1] == REFERENCE_TYPE:",
            "--> 326     raise Py4JJavaError(",
            '    327         "An error occurred while calling {0}{1}{2}.\\n".',
            '    328         format(target_id, ".", name), value)',
            "",
            f"Py4JJavaError: An error occurred while calling {obj}.{rng.choice(['saveAsTable', 'sql', 'load'])}.",
        ]
    else:
        head += [
            "File /databricks/spark/python/pyspark/errors/exceptions/captured.py:261, in "
            "capture_sql_exception.<locals>.deco(*a, **kw)",
            "    257 converted = convert_exception(e.java_exception)",
            "    258 if not isinstance(converted, UnknownException):",
            "--> 261     raise converted from None",
            "",
        ]
    if rng.random() < COLOURED_SHARE:
        return _coloured(head, message, name)
    return "\n".join(head) + "\n" + message


def _coloured(head: list[str], message: str, name: str | None) -> str:
    """The trace as a notebook prints it to a terminal; every colour is reset before the line ends."""
    painted = []
    for line in head:
        if line.startswith("-" * 10) or "Traceback (most recent call last)" in line:
            first, _, rest = line.partition(" ")
            line = f"{RED}{first}{RESET} {rest}" if rest else f"{RED}{line}{RESET}"
        elif line.startswith("File "):
            line = f"File {GREEN}{line[5:]}{RESET}"
        elif line.startswith(("---->", "-->")):
            arrow, _, code = line.partition(" ")
            line = f"{BOLD_GREEN}{arrow}{RESET} " + code.replace(" = ", f" {GREY}={RESET} ")
        elif line.startswith("Py4JJavaError:"):
            line = f"{RED}Py4JJavaError{RESET}:{line[len('Py4JJavaError:') :]}"
        painted.append(line)
    if name and message.startswith(name):
        message = f"{RED}{name}{RESET}{message[len(name) :]}"
    return "\n".join(painted) + "\n" + message
