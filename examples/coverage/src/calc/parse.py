"""A very small expression parser: "1 + 2" -> 3."""

from calc.ops import add, divide


def parse_expr(text):
    tokens = text.split()
    if len(tokens) != 3:
        raise ValueError("expected 'a op b'")
    left, op, right = tokens
    a, b = int(left), int(right)
    if op == "+":
        return add(a, b)
    if op == "/":
        return divide(a, b)
    raise ValueError("unknown operator %r" % op)


def tokens_of(text):
    for token in text.split():
        if token.isdigit():
            yield int(token)
        else:
            yield token
