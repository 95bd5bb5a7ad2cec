# Versions and version constraints for dependencies.
#
#   version     1, 2.0, 2.1.3, 2.1.3.4, 1.0.0-rc.1 (a pre-release sorts before its release);
#               "+build" metadata is accepted and ignored; a leading "v" is allowed.
#   constraint  clauses joined by commas, all of which must hold:
#               ==V  !=V  >=V  <=V  >V  <V  ~=V  and a bare V (same as ==V);
#               ==2.*, !=2.1.*, 2.* match by prefix; * alone matches anything.
#               ~=2.1 means >=2.1,==2.*; ~=2.1.3 means >=2.1.3,==2.1.* (PEP 440).
#   dependency  a service name followed by a constraint: database>=2.0,<3
#
# Missing trailing numbers are zeros: 2 == 2.0 == 2.0.0.

_OPS = ("==", "!=", ">=", "<=", "~=", ">", "<")
_DIGITS = "0123456789"
_NAME_END = "=!<>~ \t"
_PART_CHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-"
_MAX_PARTS = 4


def _numbers(text, what):
    parts = text.split(".")
    if len(parts) > _MAX_PARTS:
        raise ValueError("%s %r has more than %d numbers" % (what, text, _MAX_PARTS))
    nums = []
    for p in parts:
        if not p or not _all_in(p, _DIGITS):
            raise ValueError("%s %r is not numbers separated by dots" % (what, text))
        if len(p) > 9:
            raise ValueError("%s %r has a number that is too long" % (what, text))
        nums.append(int(p))
    return nums


def _all_in(text, chars):
    return not text.strip(chars)  # nothing left: every character is one of chars


def _any_in(text, chars):
    for c in chars:
        if c in text:
            return True
    return False


def parse_version(text):
    """The sort key of a version string; ValueError if it is not one."""
    if type(text) is not str:
        raise ValueError("a version must be a string")
    s = text.strip()
    if s[:1] in ("v", "V"):
        s = s[1:]
    plus = s.find("+")
    if plus >= 0:
        if not _all_in(s[plus + 1:].replace(".", ""), _PART_CHARS) or plus == len(s) - 1:
            raise ValueError("version %r has bad build metadata" % text)
        s = s[:plus]
    pre = ()
    dash = s.find("-")
    if dash >= 0:
        tail = s[dash + 1:]
        s = s[:dash]
        parts = []
        for p in tail.split("."):
            if not p or not _all_in(p, _PART_CHARS):
                raise ValueError("version %r has a bad pre-release part" % text)
            # Numeric identifiers sort before alphanumeric ones (semver 11.4).
            parts.append((0, int(p), "") if _all_in(p, _DIGITS) else (1, 0, p))
        pre = tuple(parts)
    if not s:
        raise ValueError("%r is not a version" % text)
    nums = _numbers(s, "version")
    while len(nums) < _MAX_PARTS:
        nums.append(0)
    # A release sorts after all of its pre-releases.
    return (tuple(nums), 0 if pre else 1, pre)


def is_version(text):
    try:
        parse_version(text)
        return True
    except ValueError:
        return False


def compare(a, b):
    """-1, 0 or 1 as version a is lower than, equal to or higher than b."""
    ka = parse_version(a)
    kb = parse_version(b)
    return (ka > kb) - (ka < kb)


class Constraint:
    """A parsed constraint: a list of (op, key, prefix) clauses; prefix is the list of
    leading numbers for wildcard clauses (==2.* has prefix [2]), else None."""

    def __init__(self, text):
        self.text = text.strip()
        self.clauses = []
        if self.text == "" or self.text == "*":
            return
        for raw in self.text.split(","):
            self._clause(raw.strip())

    def _clause(self, c):
        if not c:
            raise ValueError("empty clause in constraint %r" % self.text)
        op = None
        for o in _OPS:
            if c.startswith(o):
                op = o
                c = c[len(o):].strip()
                break
        if op is None:
            if c[0] in "=!<>~":
                raise ValueError("%r: unknown operator in constraint %r (==, !=, >=, <=, >, <, ~=)" % (c, self.text))
            op = "=="
        if not c:
            raise ValueError("%s needs a version in constraint %r" % (op, self.text))
        if c == "*":
            if op != "==":
                raise ValueError("only == takes a bare * in constraint %r" % self.text)
            return
        if c.endswith(".*"):
            if op not in ("==", "!="):
                raise ValueError("a wildcard needs == or != in constraint %r" % self.text)
            self.clauses.append((op, None, _numbers(c[:-2], "version prefix")))
            return
        if "*" in c:
            raise ValueError("a wildcard must be the last part, as in 2.*, in %r" % self.text)
        key = parse_version(c)
        if op == "~=":
            nums = _numbers(c.split("-")[0].split("+")[0].lstrip("vV"), "version")
            if len(nums) < 2:
                raise ValueError("~= needs at least two numbers (~=2.1) in %r" % self.text)
            self.clauses.append((">=", key, None))
            self.clauses.append(("==", None, nums[:-1]))
            return
        self.clauses.append((op, key, None))

    def matches(self, version):
        try:
            key = parse_version(version)
        except ValueError:
            return False
        for op, ck, prefix in self.clauses:
            if prefix is not None:
                hit = list(key[0][:len(prefix)]) == prefix
                if hit != (op == "=="):
                    return False
            elif op == "==":
                if key != ck:
                    return False
            elif op == "!=":
                if key == ck:
                    return False
            elif op == ">=":
                if key < ck:
                    return False
            elif op == "<=":
                if key > ck:
                    return False
            elif op == ">":
                if key <= ck:
                    return False
            elif key >= ck:  # <
                return False
        return True

    def __str__(self):
        return self.text

    def __repr__(self):
        return "Constraint(%r)" % self.text


def parse_dependency(text):
    """'database>=2.0,<3' -> ('database', Constraint or None); ValueError if malformed.
    The name is not checked here (definition.py does that)."""
    if type(text) is not str:
        raise ValueError("a dependency must be a string")
    s = text.strip()
    if s and not _any_in(s, _NAME_END):
        return s, None  # a plain name, the usual case
    i = 0
    while i < len(s) and s[i] not in _NAME_END:
        i += 1
    name = s[:i]
    rest = s[i:].strip()
    if not name:
        raise ValueError("dependency %r has no service name" % text)
    if not rest:
        return name, None
    if rest[0] not in "=!<>~":
        raise ValueError("dependency %r: expected an operator (==, >=, ...) after %r" % (text, name))
    return name, Constraint(rest)
