"""A SOQL subset: parser and evaluator over the store.

Supported: `SELECT` fields (including parent relationship paths such as `Account.Owner.Name`),
child relationship subqueries (`(SELECT Id FROM Contacts WHERE ... ORDER BY ... LIMIT n)`) or
`COUNT()`, `FROM`, `WHERE` with `= != <> < > <= >= IN NOT IN LIKE AND OR NOT` and parentheses,
string/number/boolean/null literals, date and datetime literals, the relative date literals
`TODAY YESTERDAY TOMORROW LAST_N_DAYS:n NEXT_N_DAYS:n N_DAYS_AGO:n THIS_MONTH LAST_MONTH THIS_YEAR`,
`ORDER BY` (ASC/DESC, NULLS FIRST/LAST), `LIMIT`, `OFFSET`. Not supported (MALFORMED_QUERY):
nested subqueries, aggregates other than COUNT(), GROUP BY, TYPEOF, semi-joins.

Like Salesforce, names are case-insensitive, string comparison is case-insensitive, and the
answer uses each field's canonical name.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from typing import Any

from syncline.sandbox.salesforce import ids
from syncline.sandbox.salesforce.errors import SalesforceError, invalid_type, malformed_query
from syncline.sandbox.salesforce.schema import FieldDef, ObjectDef, Schema
from syncline.sandbox.salesforce.values import format_datetime, parse_datetime

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>'(?:\\.|[^'\\])*')
    | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))
    | (?P<date>\d{4}-\d{2}-\d{2})
    | (?P<number>-?\d+(?:\.\d+)?)
    | (?P<op><=|>=|!=|<>|=|<|>)
    | (?P<punct>[(),])
    | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*(?::\d+)?)
    )""",
    re.VERBOSE,
)
KEYWORDS = {
    "select", "from", "where", "and", "or", "not", "in", "like", "order", "by", "asc", "desc",
    "nulls", "first", "last", "limit", "offset", "null", "true", "false", "count",
}  # fmt: skip
RELATIVE_DATES = {
    "today", "yesterday", "tomorrow", "last_n_days", "next_n_days", "n_days_ago",
    "this_month", "last_month", "this_year",
}  # fmt: skip


MAX_OFFSET = 2000


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    position: int


@dataclass(frozen=True)
class DateRange:
    """A relative date literal, as the half-open day range [start, end) it denotes."""

    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class Comparison:
    path: tuple[str, ...]
    op: str
    value: Any


@dataclass(frozen=True)
class Membership:
    path: tuple[str, ...]
    values: tuple[Any, ...]
    negate: bool


@dataclass(frozen=True)
class Like:
    path: tuple[str, ...]
    pattern: str


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" | "or"
    parts: tuple[Any, ...]


@dataclass(frozen=True)
class Negation:
    part: Any


@dataclass(frozen=True)
class OrderItem:
    path: tuple[str, ...]
    descending: bool
    nulls_last: bool


@dataclass
class Query:
    """A parsed SOQL statement."""

    object_name: str
    fields: list[tuple[str, ...]] = field(default_factory=list)
    count_only: bool = False
    where: Any = None
    order: list[OrderItem] = field(default_factory=list)
    limit: int | None = None
    offset: int = 0
    subqueries: list[Query] = field(default_factory=list)


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise malformed_query(f"unexpected token: '{text[position:].split()[0]}'")
        kind = match.lastgroup or ""
        tokens.append(Token(kind, match.group(kind), match.start(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str, today: dt.date) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0
        self.today = today

    def peek(self, offset: int = 0) -> Token | None:
        at = self.index + offset
        return self.tokens[at] if at < len(self.tokens) else None

    def is_word(self, word: str, offset: int = 0) -> bool:
        token = self.peek(offset)
        return token is not None and token.kind == "ident" and token.text.lower() == word

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise malformed_query("unexpected end of query")
        self.index += 1
        return token

    def expect_word(self, word: str) -> None:
        token = self.take()
        if token.kind != "ident" or token.text.lower() != word:
            raise malformed_query(f"unexpected token: '{token.text}'")

    def expect_punct(self, char: str) -> None:
        token = self.take()
        if token.text != char:
            raise malformed_query(f"unexpected token: '{token.text}'")

    def parse(self) -> Query:
        query = self._query(nested=False)
        leftover = self.peek()
        if leftover is not None:
            raise malformed_query(f"unexpected token: '{leftover.text}'")
        return query

    def _query(self, nested: bool) -> Query:
        self.expect_word("select")
        fields, count_only, subqueries = self._select_list(nested)
        self.expect_word("from")
        name = self.take()
        if name.kind != "ident" or "." in name.text:  # `FROM Order` is fine: object names aren't reserved
            raise malformed_query(f"unexpected token: '{name.text}'")
        query = Query(object_name=name.text, fields=fields, count_only=count_only, subqueries=subqueries)
        if self.is_word("where"):
            self.take()
            query.where = self._or()
        if self.is_word("order"):
            self.take()
            self.expect_word("by")
            query.order = self._order_list()
        if self.is_word("limit"):
            self.take()
            query.limit = self._integer()
        if self.is_word("offset"):
            self.take()
            query.offset = self._integer()
            if query.offset > MAX_OFFSET:
                raise SalesforceError(
                    400,
                    "NUMBER_OUTSIDE_VALID_RANGE",
                    f"Maximum SOQL offset allowed is {MAX_OFFSET}",
                )
        return query

    def _integer(self) -> int:
        token = self.take()
        if token.kind != "number" or "." in token.text or token.text.startswith("-"):
            raise malformed_query(f"unexpected token: '{token.text}'")
        return int(token.text)

    def _select_list(self, nested: bool) -> tuple[list[tuple[str, ...]], bool, list[Query]]:
        if self.is_word("count") and self.peek(1) is not None and self.peek(1).text == "(":  # type: ignore[union-attr]
            self.take()
            self.expect_punct("(")
            self.expect_punct(")")
            return [], True, []
        fields: list[tuple[str, ...]] = []
        subqueries: list[Query] = []
        while True:
            token = self.take()
            if token.text == "(":
                if nested:
                    raise malformed_query("nested subqueries are not supported")
                subqueries.append(self._query(nested=True))
                self.expect_punct(")")
            elif token.kind != "ident" or token.text.lower() in KEYWORDS - {"count"}:
                raise malformed_query(f"unexpected token: '{token.text}'")
            else:
                fields.append(tuple(token.text.split(".")))
            if self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
                self.take()
                continue
            return fields, False, subqueries

    def _or(self) -> Any:
        parts = [self._and()]
        while self.is_word("or"):
            self.take()
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else BoolOp("or", tuple(parts))

    def _and(self) -> Any:
        parts = [self._not()]
        while self.is_word("and"):
            self.take()
            parts.append(self._not())
        return parts[0] if len(parts) == 1 else BoolOp("and", tuple(parts))

    def _not(self) -> Any:
        if self.is_word("not"):
            self.take()
            return Negation(self._not())
        token = self.peek()
        if token is not None and token.text == "(":
            self.take()
            inner = self._or()
            self.expect_punct(")")
            return inner
        return self._condition()

    def _condition(self) -> Any:
        token = self.take()
        if token.kind != "ident" or token.text.lower() in KEYWORDS:
            raise malformed_query(f"unexpected token: '{token.text}'")
        path = tuple(token.text.split("."))
        if self.is_word("not") and self.is_word("in", 1):
            self.take()
            self.take()
            return Membership(path, self._value_list(), negate=True)
        if self.is_word("in"):
            self.take()
            return Membership(path, self._value_list(), negate=False)
        if self.is_word("like"):
            self.take()
            value = self._value()
            if not isinstance(value, str):
                raise malformed_query("LIKE needs a string pattern")
            return Like(path, value)
        op = self.take()
        if op.kind != "op":
            raise malformed_query(f"unexpected token: '{op.text}'")
        return Comparison(path, "!=" if op.text == "<>" else op.text, self._value())

    def _value_list(self) -> tuple[Any, ...]:
        self.expect_punct("(")
        values = [self._value()]
        while self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
            self.take()
            values.append(self._value())
        self.expect_punct(")")
        return tuple(values)

    def _value(self) -> Any:
        token = self.take()
        if token.kind == "string":
            return _unescape(token.text[1:-1])
        if token.kind == "number":
            return float(token.text) if "." in token.text else int(token.text)
        if token.kind == "date":
            return dt.date.fromisoformat(token.text)
        if token.kind == "datetime":
            return parse_datetime(token.text)
        if token.kind == "ident":
            word = token.text.lower()
            if word in ("true", "false"):
                return word == "true"
            if word == "null":
                return None
            return self._relative_date(word)
        raise malformed_query(f"unexpected token: '{token.text}'")

    def _relative_date(self, word: str) -> DateRange:
        name, _, number = word.partition(":")
        if name not in RELATIVE_DATES or (
            name in ("last_n_days", "next_n_days", "n_days_ago") and not number
        ):
            raise malformed_query(f"unexpected token: '{word}'")
        today, day = self.today, dt.timedelta(days=1)
        n = int(number or 0)
        if name == "today":
            return DateRange(today, today + day)
        if name == "yesterday":
            return DateRange(today - day, today)
        if name == "tomorrow":
            return DateRange(today + day, today + 2 * day)
        if name == "last_n_days":
            return DateRange(today - n * day, today + day)
        if name == "next_n_days":
            return DateRange(today + day, today + (n + 1) * day)
        if name == "n_days_ago":
            return DateRange(today - n * day, today - (n - 1) * day)
        first = today.replace(day=1)
        if name == "this_month":
            return DateRange(first, (first + 32 * day).replace(day=1))
        if name == "last_month":
            return DateRange((first - day).replace(day=1), first)
        return DateRange(today.replace(month=1, day=1), today.replace(year=today.year + 1, month=1, day=1))

    def _order_list(self) -> list[OrderItem]:
        items: list[OrderItem] = []
        while True:
            token = self.take()
            if token.kind != "ident":
                raise malformed_query(f"unexpected token: '{token.text}'")
            descending = False
            if self.is_word("asc") or self.is_word("desc"):
                descending = self.take().text.lower() == "desc"
            nulls_last = descending
            if self.is_word("nulls"):
                self.take()
                which = self.take().text.lower()
                if which not in ("first", "last"):
                    raise malformed_query(f"unexpected token: '{which}'")
                nulls_last = which == "last"
            items.append(OrderItem(tuple(token.text.split(".")), descending, nulls_last))
            if self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
                self.take()
                continue
            return items


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m.group(1), m.group(1)), text)


def parse(text: str, today: dt.date) -> Query:
    """Parse SOQL text; MALFORMED_QUERY names the token it could not read."""
    if not text or not text.strip():
        raise malformed_query("empty query")
    return _Parser(text, today).parse()


# ---- evaluation ---------------------------------------------------------------------------------


class Resolver:
    """Follows field paths over records, checking them against the schema first."""

    def __init__(self, schema: Schema, lookup: Any) -> None:
        self.schema = schema
        self.lookup = lookup  # callable id -> record | None

    def check(self, obj: ObjectDef, path: tuple[str, ...]) -> list[tuple[ObjectDef, FieldDef]]:
        """The (object, field) steps of `path`; INVALID_FIELD names the first unknown part."""
        steps: list[tuple[ObjectDef, FieldDef]] = []
        current = obj
        for index, part in enumerate(path):
            last = index == len(path) - 1
            fdef = current.field(part) if last else current.relationship(part)
            if fdef is None:
                raise _no_such_column(current.name, ".".join(path), part, relationship=not last)
            steps.append((current, fdef))
            if not last:
                target = self.schema.objects.get(fdef.reference_to[0])
                if target is None:
                    raise _no_such_column(current.name, ".".join(path), part, relationship=True)
                current = target
        return steps

    def value(self, record: dict[str, Any], steps: list[tuple[ObjectDef, FieldDef]]) -> Any:
        current: dict[str, Any] | None = record
        for _, fdef in steps[:-1]:
            target_id = current.get(fdef.name) if current else None
            current = self.lookup(target_id) if target_id else None
            if current is None:
                return None
        return current.get(steps[-1][1].name) if current else None


def _no_such_column(object_name: str, path: str, part: str, relationship: bool) -> SalesforceError:
    if relationship:
        message = (
            f"Didn't understand relationship '{part}' in field path. If you are attempting to use a "
            "custom relationship, be sure to append the '__r' after the custom relationship name. "
            "Please reference your WSDL or the describe call for the appropriate names."
        )
    else:
        message = (
            f"No such column '{part}' on entity '{object_name}'. If you are attempting to use a custom "
            "field, be sure to append the '__c' after the custom field name. Please reference your WSDL "
            "or the describe call for the appropriate names."
        )
    return SalesforceError(400, "INVALID_FIELD", message, [])


@dataclass
class CompiledQuery:
    query: Query
    obj: ObjectDef
    selected: list[list[tuple[ObjectDef, FieldDef]]]
    order: list[tuple[OrderItem, list[tuple[ObjectDef, FieldDef]]]]
    children: list[ChildQuery] = field(default_factory=list)


@dataclass
class ChildQuery:
    """A relationship subquery: the child query, the child's lookup to the parent, the list's name."""

    compiled: CompiledQuery
    lookup: FieldDef
    name: str


def compile_query(query: Query, schema: Schema, resolver: Resolver) -> CompiledQuery:
    obj = schema.object(query.object_name)
    if obj is None:
        raise invalid_type(query.object_name)
    selected = [resolver.check(obj, path) for path in query.fields]
    _check_condition(query.where, obj, resolver)
    order = [(item, resolver.check(obj, item.path)) for item in query.order]
    children = [_compile_child(obj, sub, schema, resolver) for sub in query.subqueries]
    return CompiledQuery(query, obj, selected, order, children)


def _compile_child(parent: ObjectDef, sub: Query, schema: Schema, resolver: Resolver) -> ChildQuery:
    found = schema.child_relationship(parent, sub.object_name)
    if found is None:
        raise SalesforceError(
            400,
            "INVALID_TYPE",
            f"Didn't understand relationship '{sub.object_name}' in FROM part of query call. If you are "
            "attempting to use a custom relationship, be sure to append the '__r' after the custom "
            "relationship name. Please reference your WSDL or the describe call for the appropriate names.",
        )
    child, lookup = found
    compiled = compile_query(replace(sub, object_name=child.name), schema, resolver)
    return ChildQuery(compiled, lookup, str(lookup.child_relationship))


def _check_condition(node: Any, obj: ObjectDef, resolver: Resolver) -> None:
    if node is None:
        return
    if isinstance(node, BoolOp):
        for part in node.parts:
            _check_condition(part, obj, resolver)
    elif isinstance(node, Negation):
        _check_condition(node.part, obj, resolver)
    else:
        steps = resolver.check(obj, node.path)
        fdef = steps[-1][1]
        values = node.values if isinstance(node, Membership) else (getattr(node, "value", None),)
        for value in values:
            _check_literal(fdef, value)


def _check_literal(fdef: FieldDef, value: Any) -> None:
    if value is None:
        return
    if fdef.type in ("date", "datetime") and isinstance(value, str):
        raise SalesforceError(
            400,
            "INVALID_QUERY_FILTER_OPERATOR",
            f"value of filter criterion for field '{fdef.name}' must be of type {fdef.type} and should not "
            "be enclosed in quotes",
        )
    wrong_number = fdef.is_number and (isinstance(value, bool) or not isinstance(value, int | float))
    temporal = isinstance(value, dt.date | DateRange)
    wrong_date = (
        (fdef.type == "date" and isinstance(value, dt.datetime))
        or (fdef.type == "datetime" and isinstance(value, dt.date) and not isinstance(value, dt.datetime))
        or (temporal and fdef.type not in ("date", "datetime"))
    )
    if wrong_number or wrong_date or (fdef.type == "boolean" and not isinstance(value, bool)):
        raise SalesforceError(
            400,
            "INVALID_QUERY_FILTER_OPERATOR",
            f"value of filter criterion for field '{fdef.name}' must be of type {fdef.type}",
        )


def matches(node: Any, record: dict[str, Any], compiled: CompiledQuery, resolver: Resolver) -> bool:
    if node is None:
        return True
    if isinstance(node, BoolOp):
        results = (matches(p, record, compiled, resolver) for p in node.parts)
        return all(results) if node.op == "and" else any(results)
    if isinstance(node, Negation):
        return not matches(node.part, record, compiled, resolver)
    steps = resolver.check(compiled.obj, node.path)
    fdef = steps[-1][1]
    actual = resolver.value(record, steps)
    if isinstance(node, Membership):
        found = any(_compare(fdef, actual, "=", v) for v in node.values)
        return not found if node.negate else found
    if isinstance(node, Like):
        if actual is None:
            return False
        regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in node.pattern)
        return re.fullmatch(regex, str(actual), re.IGNORECASE | re.DOTALL) is not None
    return _compare(fdef, actual, node.op, node.value)


def _normalise(fdef: FieldDef, value: Any) -> Any:
    if value is None:
        return None
    if fdef.type in ("id", "reference") and isinstance(value, str):
        return (ids.canonical(value) or value).lower()
    if fdef.type == "datetime":
        if isinstance(value, dt.datetime):
            return format_datetime(value)
        if isinstance(value, dt.date):
            return format_datetime(dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC))
        return value
    if fdef.type == "date" and isinstance(value, dt.date):
        return value.isoformat()
    if fdef.is_number:
        return float(value)
    if isinstance(value, str):
        return value.lower()
    return value


def _compare(fdef: FieldDef, actual: Any, op: str, expected: Any) -> bool:
    if isinstance(expected, DateRange):
        if actual is None:
            return op == "!="
        low, high = _normalise(fdef, expected.start), _normalise(fdef, expected.end)
        value = _normalise(fdef, actual)
        inside = low <= value < high
        outcomes: dict[str, bool] = {
            "=": inside,
            "!=": not inside,
            "<": value < low,
            "<=": value < high,
            ">": value >= high,
            ">=": value >= low,
        }
        return outcomes[op]
    left, right = _normalise(fdef, actual), _normalise(fdef, expected)
    if op == "=":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    if left is None or right is None:
        return False
    ordered: dict[str, bool] = {
        "<": left < right,
        "<=": left <= right,
        ">": left > right,
        ">=": left >= right,
    }
    return ordered[op]


def sort_key(value: Any) -> Any:
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, bool):
        return int(value)
    return value


def execute(compiled: CompiledQuery, rows: list[dict[str, Any]], resolver: Resolver) -> list[dict[str, Any]]:
    """Filter, order and page `rows`; projection is left to the caller (REST and Bulk shape differ)."""
    query = compiled.query
    selected = [r for r in rows if matches(query.where, r, compiled, resolver)]
    for item, steps in reversed(compiled.order):
        present = [r for r in selected if resolver.value(r, steps) is not None]
        absent = [r for r in selected if resolver.value(r, steps) is None]
        present.sort(key=lambda r, s=steps: sort_key(resolver.value(r, s)), reverse=item.descending)  # type: ignore[misc]
        selected = present + absent if item.nulls_last else absent + present
    selected = selected[query.offset :]
    if query.limit is not None:
        selected = selected[: query.limit]
    return selected


__all__ = [
    "CompiledQuery",
    "DateRange",
    "Query",
    "Resolver",
    "compile_query",
    "execute",
    "parse",
    "tokenize",
]
