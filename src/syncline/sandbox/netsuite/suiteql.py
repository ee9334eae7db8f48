"""The subset of SuiteQL the connector relies on, evaluated over the sandbox's records.

Supported: `SELECT [DISTINCT] cols | * FROM table [WHERE cond] [ORDER BY col [ASC|DESC], ...]`;
columns may be `TO_CHAR(col, 'fmt') [AS alias]`; conditions combine comparisons (= != <> < <= > >=),
`IS [NOT] NULL`, `[NOT] IN (...)`, `LIKE`, with AND / OR / NOT and parentheses; literals are strings,
numbers, `TO_DATE(...)` and `TO_TIMESTAMP(...)`. As in NetSuite, column names come back lower-case,
values are strings, booleans are "T"/"F", null columns are omitted, and a bare date column is
formatted for the user's date preference (M/D/YYYY), which is why the connector uses TO_CHAR.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from syncline.sandbox.netsuite.problems import NetSuiteProblem
from syncline.sandbox.netsuite.store import ITEM_TYPES, TRANSACTION_TYPES, RecordStore

Row = dict[str, Any]
_TOKEN = re.compile(
    r"\s*(?:('(?:[^']|'')*')|(\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_.]*)|(<=|>=|<>|!=|[=<>(),*]))"
)
_ITEM_TYPE_CODES = {
    "inventoryItem": "InvtPart",
    "nonInventorySaleItem": "NonInvtPart",
    "serviceSaleItem": "Service",
}
_TRAN_TYPE_CODES = {
    "salesOrder": "SalesOrd",
    "invoice": "CustInvc",
    "customerPayment": "CustPymt",
    "creditMemo": "CustCred",
}
_DATE_COLUMNS = {"lastmodifieddate", "datecreated", "trandate", "duedate", "startdate", "enddate"}
_FORMATS = {"YYYY-MM-DD HH24:MI:SS": "%Y-%m-%d %H:%M:%S", "YYYY-MM-DD": "%Y-%m-%d", "MM/DD/YYYY": "%m/%d/%Y"}


def syntax_error(detail: str) -> NetSuiteProblem:
    return NetSuiteProblem(
        400,
        "INVALID_PARAMETER",
        "Invalid search query. Detailed unprocessed description follows. Search error occurred: " + detail,
    )


def tokenize(text: str) -> list[str]:
    tokens, pos = [], 0
    text = text.strip().rstrip(";")
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise syntax_error(f"unexpected text at position {pos}: {text[pos : pos + 20]!r}")
        tokens.append(match.group(0).strip())
        pos = match.end()
    return [t for t in tokens if t]


@dataclass
class Column:
    source: str
    alias: str
    fmt: str | None = None


@dataclass
class Query:
    table: str
    columns: list[Column] | None
    where: Callable[[Row], bool]
    order: list[tuple[str, bool]]
    distinct: bool


class Parser:
    """Recursive descent over the token list; errors name the token that was not understood."""

    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.pos = 0

    def peek(self, offset: int = 0) -> str:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else ""

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if not token or (expected and token.upper() != expected):
            raise syntax_error(f"expected {expected or 'more input'} but found {token or 'end of query'!r}")
        self.pos += 1
        return token

    def accept(self, word: str) -> bool:
        if self.peek().upper() == word:
            self.pos += 1
            return True
        return False

    def parse(self) -> Query:
        self.take("SELECT")
        distinct = self.accept("DISTINCT")
        columns = None if self.accept("*") else self.columns()
        self.take("FROM")
        table = self.take().lower()
        where: Callable[[Row], bool] = lambda _row: True  # noqa: E731
        if self.accept("WHERE"):
            where = self.disjunction()
        order: list[tuple[str, bool]] = []
        if self.accept("ORDER"):
            self.take("BY")
            order.append(self.order_item())
            while self.accept(","):
                order.append(self.order_item())
        if self.peek():
            raise syntax_error(f"unsupported clause starting at {self.peek()!r}")
        return Query(table, columns, where, order, distinct)

    def columns(self) -> list[Column]:
        cols = [self.column()]
        while self.accept(","):
            cols.append(self.column())
        return cols

    def column(self) -> Column:
        if self.peek().upper() == "TO_CHAR":
            self.take()
            self.take("(")
            source = self.take().lower()
            self.take(",")
            fmt = _string(self.take())
            self.take(")")
            column = Column(source, f"expr{self.pos}", fmt)
        else:
            name = self.take().lower()
            column = Column(name, name)
        if self.accept("AS") or (
            self.peek() and self.peek().upper() not in {"FROM", ","} and self.peek() != ","
        ):
            column.alias = self.take().lower()
        return column

    def order_item(self) -> tuple[str, bool]:
        name = self.take().lower()
        descending = self.accept("DESC")
        if not descending:
            self.accept("ASC")
        return name, descending

    def disjunction(self) -> Callable[[Row], bool]:
        parts = [self.conjunction()]
        while self.accept("OR"):
            parts.append(self.conjunction())
        return lambda row: any(p(row) for p in parts)

    def conjunction(self) -> Callable[[Row], bool]:
        parts = [self.negation()]
        while self.accept("AND"):
            parts.append(self.negation())
        return lambda row: all(p(row) for p in parts)

    def negation(self) -> Callable[[Row], bool]:
        if self.accept("NOT"):
            inner = self.negation()
            return lambda row: not inner(row)
        if self.peek() == "(":
            self.take("(")
            inner = self.disjunction()
            self.take(")")
            return inner
        return self.comparison()

    def comparison(self) -> Callable[[Row], bool]:
        left = self.operand()
        if self.accept("IS"):
            negate = self.accept("NOT")
            self.take("NULL")
            return lambda row: (left(row) is None) != negate
        negate = self.accept("NOT")
        if self.accept("IN"):
            self.take("(")
            options = [self.operand()]
            while self.accept(","):
                options.append(self.operand())
            self.take(")")
            return lambda row: _in(left(row), [o(row) for o in options]) != negate
        if self.accept("LIKE"):
            pattern = _like(_string(self.take()))
            return lambda row: (left(row) is not None and bool(pattern.fullmatch(str(left(row))))) != negate
        op = self.take()
        right = self.operand()
        return lambda row: _compare(left(row), op, right(row))

    def operand(self) -> Callable[[Row], Any]:
        token = self.take()
        upper = token.upper()
        if token.startswith("'"):
            text = _string(token)
            return lambda _row: text
        if re.fullmatch(r"\d+(?:\.\d+)?", token):
            number = Decimal(token)
            return lambda _row: number
        if upper in {"TO_DATE", "TO_TIMESTAMP"}:
            self.take("(")
            text = _string(self.take())
            fmt = _string(self.take()) if self.accept(",") else "YYYY-MM-DD HH24:MI:SS"
            self.take(")")
            moment = _parse_moment(text, fmt)
            return lambda _row: moment
        name = token.lower()
        return lambda row: row.get(name)


def _string(token: str) -> str:
    if not token.startswith("'"):
        raise syntax_error(f"expected a quoted string but found {token!r}")
    return token[1:-1].replace("''", "'")


def _like(pattern: str) -> re.Pattern[str]:
    return re.compile(re.escape(pattern).replace("%", ".*").replace("_", "."), re.IGNORECASE)


def _parse_moment(text: str, fmt: str) -> dt.datetime:
    python_fmt = _FORMATS.get(fmt.upper())
    if python_fmt is None:
        raise syntax_error(f"unsupported date format {fmt!r}; use one of {', '.join(_FORMATS)}")
    try:
        return dt.datetime.strptime(text, python_fmt).replace(tzinfo=dt.UTC)
    except ValueError as exc:
        raise syntax_error(f"{text!r} does not match format {fmt!r}") from exc


def _coerce(left: Any, right: Any) -> tuple[Any, Any]:
    if isinstance(left, dt.datetime) and isinstance(right, str):
        return left, _loose_moment(right)
    if isinstance(right, dt.datetime) and isinstance(left, str):
        return _loose_moment(left), right
    if isinstance(left, Decimal) and isinstance(right, str):
        return left, _decimal(right)
    if isinstance(right, Decimal) and isinstance(left, str):
        return _decimal(left), right
    return left, right


def _decimal(text: str) -> Decimal | str:
    try:
        return Decimal(text)
    except InvalidOperation:
        return text


def _loose_moment(text: str) -> dt.datetime:
    for fmt in ("YYYY-MM-DD HH24:MI:SS", "YYYY-MM-DD", "MM/DD/YYYY"):
        try:
            return _parse_moment(text, fmt)
        except NetSuiteProblem:
            continue
    raise syntax_error(f"{text!r} is not a date")


_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<>": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _compare(left: Any, op: str, right: Any) -> bool:
    if left is None or right is None:
        return False
    left, right = _coerce(left, right)
    if isinstance(left, str) and isinstance(right, str):
        left, right = left.lower(), right.lower()
    function = _OPERATORS.get(op)
    if function is None:
        raise syntax_error(f"unsupported operator {op!r}")
    try:
        return bool(function(left, right))
    except TypeError as exc:
        raise syntax_error(f"cannot compare {left!r} with {right!r}") from exc


def _in(value: Any, options: list[Any]) -> bool:
    return any(_compare(value, "=", option) for option in options)


# -- tables ----------------------------------------------------------------------------------------


def table_rows(store: RecordStore, table: str) -> Iterator[Row]:
    """Flatten records into SuiteQL rows with typed values (datetimes, Decimals, strings)."""
    if table == "item":
        for record_type in ITEM_TYPES:
            for record in store.all(record_type):
                yield {**_flatten(record), "itemtype": _ITEM_TYPE_CODES[record_type]}
    elif table == "transaction":
        for record_type in TRANSACTION_TYPES:
            for record in store.all(record_type):
                row = _flatten(record)
                row["type"] = _TRAN_TYPE_CODES[record_type]
                row["foreigntotal"] = row.get("total")
                row["entity"] = row.get("entity") or row.get("customer")
                yield row
    elif table in {"customer", "contact", "subsidiary", "currency", "accountingperiod"}:
        record_type = "accountingPeriod" if table == "accountingperiod" else table
        for record in store.all(record_type):
            yield _flatten(record)
    else:
        raise syntax_error(f"Record '{table}' was not found.")


def _flatten(record: dict[str, Any]) -> Row:
    row: Row = {}
    for field, value in record.items():
        name = field.lower()
        if isinstance(value, dict):
            if "id" in value:
                row[name] = str(value["id"])
            continue
        if name == "id":
            row[name] = Decimal(str(value))
        elif name in _DATE_COLUMNS and isinstance(value, str):
            row[name] = _loose_or_iso(value)
        elif isinstance(value, bool):
            row[name] = "T" if value else "F"
        elif isinstance(value, int | float):
            row[name] = Decimal(str(value))
        elif value is not None:
            row[name] = value
    return row


def _loose_or_iso(value: str) -> dt.datetime:
    if "T" in value:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)


def render_value(value: Any, fmt: str | None, column: str) -> str | None:
    """Values are text: numbers as written, dates per the user's preference or the TO_CHAR format."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if fmt:
            python_fmt = _FORMATS.get(fmt.upper())
            if python_fmt is None:
                raise syntax_error(f"unsupported TO_CHAR format {fmt!r}")
            return value.strftime(python_fmt)
        return f"{value.month}/{value.day}/{value.year}"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    return str(value)


def run_query(store: RecordStore, text: str) -> list[dict[str, str]]:
    """Execute one query; the caller pages the result."""
    if not text.strip().upper().startswith("SELECT"):
        raise syntax_error("only SELECT statements are supported")
    query = Parser(text).parse()
    rows = [row for row in table_rows(store, query.table) if query.where(row)]
    for name, descending in reversed(query.order):
        rows.sort(key=lambda row, n=name: _sort_key(row.get(n)), reverse=descending)  # type: ignore[misc]
    items = [_project(row, query.columns) for row in rows]
    if query.distinct:
        unique: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
        for item in items:
            unique.setdefault(tuple(sorted(item.items())), item)
        items = list(unique.values())
    return items


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (1, "")
    if isinstance(value, str):
        return (0, value.lower())
    return (0, value)


def _project(row: Row, columns: list[Column] | None) -> dict[str, str]:
    selected = columns or [Column(name, name) for name in row]
    out: dict[str, str] = {}
    for column in selected:
        rendered = render_value(row.get(column.source), column.fmt, column.source)
        if rendered is not None:
            out[column.alias] = rendered
    return out


__all__ = ["Parser", "run_query", "syntax_error", "table_rows"]
