# TOML 1.0.0 parser for service definitions.
#
# Runs on MicroPython (the svcmgr guest) and CPython (host unit tests), so it
# keeps to the subset both share: no datetime, no re, no typing.  The scanner
# works on UTF-8 bytes because indexing a non-ASCII str is O(n) on MicroPython.
#
#   loads(text, filename)             -> dict
#   loads_with_lines(text, filename)  -> (dict, {key path tuple: line})
#   loads_bytes(data, filename, with_lines=False)  strict UTF-8, same results
#
# Errors raise TomlError (a ValueError) carrying filename, line, col, reason.
# Key paths in the line map use an int index for array elements, so the
# second [[service.ports]] table is ("service", "ports", 1).

_TAB = 9
_LF = 10
_CR = 13
_SPACE = 32
_QUOTE = 34  # "
_HASH = 35
_APOS = 39  # '
_COMMA = 44
_DASH = 45
_DOT = 46
_ZERO = 48
_NINE = 57
_COLON = 58
_EQUALS = 61
_LBRACKET = 91
_BACKSLASH = 92
_RBRACKET = 93
_LBRACE = 123
_RBRACE = 125

# Arrays and inline tables are parsed recursively, up to two frames per level;
# this keeps the guest's C stack use bounded.
MAX_NESTING = 24

_DIGITS = "0123456789"
_HEXDIGITS = "0123456789abcdefABCDEF"
_HEXBYTES = b"0123456789abcdefABCDEF"

_BARE_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
_BARE = bytearray(256)
for _c in _BARE_BYTES:
    _BARE[_c] = 1

# Bytes that end a number, date or boolean token.
_TOKEN_END = bytearray(256)
for _c in b" \t\r\n,]}#":
    _TOKEN_END[_c] = 1

_ESCAPES = {
    ord("b"): b"\x08",
    ord("t"): b"\t",
    ord("n"): b"\n",
    ord("f"): b"\x0c",
    ord("r"): b"\r",
    _QUOTE: b'"',
    _BACKSLASH: b"\\",
}

_INT_MIN = -(1 << 63)
_INT_MAX = (1 << 63) - 1

# Kinds of tables the document structure creates; inline tables are not
# recorded and so are immutable.
_IMPLICIT = 1  # created as the parent in a [a.b] header; may be defined once later
_HEADER = 2  # defined by [header] or [[header]]
_DOTTED = 3  # created by a dotted key; open only within its own section


class TomlError(ValueError):
    def __init__(self, filename, line, col, reason):
        super().__init__("%s:%d:%d: %s" % (filename, line, col, reason))
        self.filename = filename
        self.line = line
        self.col = col
        self.reason = reason

    def __str__(self):
        return "%s:%d:%d: %s" % (self.filename, self.line, self.col, self.reason)


class _Invalid(Exception):
    pass


def _frac(us):
    if not us:
        return ""
    if us % 1000 == 0:
        return ".%03d" % (us // 1000)
    return ".%06d" % us


class _Temporal:
    def _key(self):
        raise NotImplementedError

    def __eq__(self, other):
        return type(self) is type(other) and self._key() == other._key()

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        return "%s('%s')" % (type(self).__name__, self.isoformat())

    def __str__(self):
        return self.isoformat()


class LocalDate(_Temporal):
    def __init__(self, year, month, day):
        self.year = year
        self.month = month
        self.day = day

    def _key(self):
        return (self.year, self.month, self.day)

    def isoformat(self):
        return "%04d-%02d-%02d" % (self.year, self.month, self.day)


class LocalTime(_Temporal):
    def __init__(self, hour, minute, second, microsecond=0):
        self.hour = hour
        self.minute = minute
        self.second = second
        self.microsecond = microsecond

    def _key(self):
        return (self.hour, self.minute, self.second, self.microsecond)

    def isoformat(self):
        return "%02d:%02d:%02d%s" % (
            self.hour, self.minute, self.second, _frac(self.microsecond))


class LocalDateTime(_Temporal):
    def __init__(self, year, month, day, hour, minute, second, microsecond=0):
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
        self.microsecond = microsecond

    def _key(self):
        return (self.year, self.month, self.day,
                self.hour, self.minute, self.second, self.microsecond)

    def isoformat(self):
        return "%04d-%02d-%02dT%02d:%02d:%02d%s" % (
            self.year, self.month, self.day,
            self.hour, self.minute, self.second, _frac(self.microsecond))


class OffsetDateTime(_Temporal):
    # offset_minutes is east of UTC: +05:30 is 330, Z is 0.
    def __init__(self, year, month, day, hour, minute, second, microsecond=0,
                 offset_minutes=0):
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
        self.microsecond = microsecond
        self.offset_minutes = offset_minutes

    def _key(self):
        return (self.year, self.month, self.day, self.hour, self.minute,
                self.second, self.microsecond, self.offset_minutes)

    def isoformat(self):
        off = self.offset_minutes
        if off == 0:
            tz = "Z"
        else:
            sign = "+" if off > 0 else "-"
            off = abs(off)
            tz = "%s%02d:%02d" % (sign, off // 60, off % 60)
        return "%04d-%02d-%02dT%02d:%02d:%02d%s%s" % (
            self.year, self.month, self.day, self.hour, self.minute,
            self.second, _frac(self.microsecond), tz)


def _is_d2(s, i):
    return i + 2 <= len(s) and s[i] in _DIGITS and s[i + 1] in _DIGITS


def _days_in_month(year, month):
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _parse_date(s):
    if not (len(s) >= 10 and _is_d2(s, 0) and _is_d2(s, 2) and s[4] == "-"
            and _is_d2(s, 5) and s[7] == "-" and _is_d2(s, 8)):
        raise _Invalid("invalid date, expected YYYY-MM-DD")
    year = int(s[0:4])
    month = int(s[5:7])
    day = int(s[8:10])
    if month < 1 or month > 12:
        raise _Invalid("month out of range")
    if day < 1 or day > _days_in_month(year, month):
        raise _Invalid("day out of range for the month")
    return year, month, day


def _parse_time(s, i):
    # Returns (hour, minute, second, microsecond, end index).
    if not (_is_d2(s, i) and i + 8 <= len(s) and s[i + 2] == ":"
            and _is_d2(s, i + 3) and s[i + 5] == ":" and _is_d2(s, i + 6)):
        raise _Invalid("invalid time, expected HH:MM:SS")
    hour = int(s[i:i + 2])
    minute = int(s[i + 3:i + 5])
    second = int(s[i + 6:i + 8])
    if hour > 23:
        raise _Invalid("hour out of range")
    if minute > 59:
        raise _Invalid("minute out of range")
    if second > 60:
        raise _Invalid("second out of range")
    j = i + 8
    us = 0
    if j < len(s) and s[j] == ".":
        k = j + 1
        while k < len(s) and s[k] in _DIGITS:
            k += 1
        if k == j + 1:
            raise _Invalid("expected digits after the decimal point")
        # Precision beyond microseconds is truncated, as the spec requires.
        digits = s[j + 1:k][:6]
        us = int(digits + "000000"[len(digits):])
        j = k
    return hour, minute, second, us, j


def _parse_datetime(s):
    if len(s) > 2 and s[2] == ":":
        h, mi, sec, us, j = _parse_time(s, 0)
        if j != len(s):
            raise _Invalid("unexpected text after time")
        return LocalTime(h, mi, sec, us)
    y, mo, d = _parse_date(s)
    if len(s) == 10:
        return LocalDate(y, mo, d)
    if s[10] not in "Tt ":
        raise _Invalid("expected 'T' between date and time")
    h, mi, sec, us, j = _parse_time(s, 11)
    if j == len(s):
        return LocalDateTime(y, mo, d, h, mi, sec, us)
    if s[j] in "Zz" and j + 1 == len(s):
        return OffsetDateTime(y, mo, d, h, mi, sec, us, 0)
    if (s[j] in "+-" and j + 6 == len(s) and _is_d2(s, j + 1)
            and s[j + 3] == ":" and _is_d2(s, j + 4)):
        oh = int(s[j + 1:j + 3])
        om = int(s[j + 4:j + 6])
        if oh > 23 or om > 59:
            raise _Invalid("time zone offset out of range")
        off = oh * 60 + om
        if s[j] == "-":
            off = -off
        return OffsetDateTime(y, mo, d, h, mi, sec, us, off)
    raise _Invalid("invalid time zone offset, expected Z or +HH:MM")


def _scan_digits(s, i, allowed):
    # Index after a run of digits with single underscores between digits,
    # or -1 if the run is empty or an underscore is misplaced.
    n = len(s)
    if i >= n or s[i] not in allowed:
        return -1
    i += 1
    while i < n:
        c = s[i]
        if c == "_":
            if i + 1 >= n or s[i + 1] not in allowed:
                return -1
            i += 2
        elif c in allowed:
            i += 1
        else:
            break
    return i


def _parse_number(s):
    if s in ("inf", "+inf"):
        return float("inf")
    if s == "-inf":
        return float("-inf")
    if s in ("nan", "+nan", "-nan"):
        return float("nan")
    n = len(s)
    if n > 2 and s[0] == "0" and s[1] in "xob":
        allowed = {"x": _HEXDIGITS, "o": "01234567", "b": "01"}[s[1]]
        if _scan_digits(s, 2, allowed) != n:
            raise _Invalid("invalid %s integer" % {
                "x": "hexadecimal", "o": "octal", "b": "binary"}[s[1]])
        return int(s[2:].replace("_", ""), {"x": 16, "o": 8, "b": 2}[s[1]])
    i = 1 if s[0] in "+-" else 0
    j = _scan_digits(s, i, _DIGITS)
    if j < 0:
        raise _Invalid("invalid number" if s[i:i + 1] in _DIGITS else "invalid value")
    if s[i] == "0" and j - i > 1:
        raise _Invalid("leading zeros are not allowed")
    if j == n:
        v = int(s.replace("_", ""))
        if v < _INT_MIN or v > _INT_MAX:
            raise _Invalid("integer does not fit in 64 bits")
        return v
    if s[j] == ".":
        j = _scan_digits(s, j + 1, _DIGITS)
        if j < 0:
            raise _Invalid("expected digits after the decimal point")
    if j < n and s[j] in "eE":
        j += 1
        if j < n and s[j] in "+-":
            j += 1
        j = _scan_digits(s, j, _DIGITS)
        if j < 0:
            raise _Invalid("expected digits in the exponent")
    if j != n:
        raise _Invalid("invalid number")
    return float(s.replace("_", ""))


class _Parser:
    def __init__(self, src, filename, start):
        self.src = src
        self.n = len(src)
        self.filename = filename
        self.start = start
        self.root = {}
        self.kind = {id(self.root): _HEADER}
        self.dotted_section = {}
        self.aot = set()
        self.section = 0
        self.lines = {}
        self.line_pos = 0
        self.line_no = 1

    def error(self, pos, reason):
        src = self.src
        if pos > self.n:
            pos = self.n
        line = src.count(b"\n", 0, pos) + 1
        start = src.rfind(b"\n", 0, pos) + 1
        if line == 1:
            start = self.start
        try:
            col = len(src[start:pos].decode("utf-8")) + 1
        except UnicodeError:
            col = pos - start + 1
        return TomlError(self.filename, line, col, reason)

    def line_at(self, pos):
        # Keys are recorded in source order, so count forward from the last one.
        if pos < self.line_pos:
            self.line_pos = 0
            self.line_no = 1
        self.line_no += self.src.count(b"\n", self.line_pos, pos)
        self.line_pos = pos
        return self.line_no

    def skip_ws(self, pos):
        src = self.src
        n = self.n
        while pos < n:
            c = src[pos]
            if c != _SPACE and c != _TAB:
                break
            pos += 1
        return pos

    def comment(self, pos):
        # pos is at '#'; returns the position of the line ending (or EOF).
        src = self.src
        n = self.n
        pos += 1
        while pos < n:
            c = src[pos]
            if c == _LF:
                return pos
            if c < 32 and c != _TAB or c == 127:
                if c == _CR and pos + 1 < n and src[pos + 1] == _LF:
                    return pos
                raise self.error(pos, "control character U+%04X is not allowed in a comment" % c)
            pos += 1
        return pos

    def newline(self, pos):
        # Accepts LF or CRLF at pos; returns the position after it.
        src = self.src
        c = src[pos]
        if c == _LF:
            return pos + 1
        if c == _CR and pos + 1 < self.n and src[pos + 1] == _LF:
            return pos + 2
        if c == _CR:
            raise self.error(pos, "carriage return not followed by a line feed")
        return -1

    def skip_blank(self, pos):
        # Whitespace, newlines and comments, as allowed inside arrays.
        src = self.src
        n = self.n
        while pos < n:
            c = src[pos]
            if c == _SPACE or c == _TAB:
                pos += 1
            elif c == _LF or c == _CR:
                pos = self.newline(pos)
            elif c == _HASH:
                pos = self.comment(pos)
            else:
                break
        return pos

    def end_of_line(self, pos, what):
        pos = self.skip_ws(pos)
        if pos >= self.n:
            return pos
        c = self.src[pos]
        if c == _HASH:
            pos = self.comment(pos)
            if pos >= self.n:
                return pos
        nxt = self.newline(pos)
        if nxt < 0:
            raise self.error(pos, "expected end of line after %s" % what)
        return nxt

    def parse(self):
        src = self.src
        n = self.n
        pos = self.start
        table = self.root
        path = ()
        while True:
            pos = self.skip_ws(pos)
            if pos >= n:
                break
            c = src[pos]
            if c == _LF or c == _CR:
                pos = self.newline(pos)
                continue
            if c == _HASH:
                pos = self.comment(pos)
                continue
            if c == _LBRACKET:
                pos, table, path = self.header(pos)
                pos = self.end_of_line(pos, "table header")
            else:
                pos = self.keyval(pos, table, path)
                pos = self.end_of_line(pos, "value")
        return self.root

    def key(self, pos):
        # Returns (pos after key and trailing whitespace, [names]).
        src = self.src
        # The usual key, one bare word before '=', checked by C code (strip() leaves
        # nothing when every byte is a bare-key byte; spaces, dots and quotes remain).
        eol = src.find(b"\n", pos)
        eq = src.find(b"=", pos, self.n if eol < 0 else eol)
        if eq > pos:
            word = src[pos:eq].rstrip(b" \t")
            if word and not word.strip(_BARE_BYTES):
                return eq, [word.decode()]
        n = self.n
        names = []
        while True:
            pos = self.skip_ws(pos)
            c = src[pos] if pos < n else -1
            if c == _QUOTE:
                if src.startswith(b'"""', pos):
                    raise self.error(pos, "multi-line strings cannot be keys")
                pos, name = self.basic_string(pos)
            elif c == _APOS:
                if src.startswith(b"'''", pos):
                    raise self.error(pos, "multi-line strings cannot be keys")
                pos, name = self.literal_string(pos)
            elif c >= 0 and _BARE[c]:
                start = pos
                pos += 1
                while pos < n and _BARE[src[pos]]:
                    pos += 1
                name = src[start:pos].decode()
            elif c < 0 or c == _LF or c == _CR or 32 < c < 127:
                raise self.error(pos, "expected a key")
            else:
                raise self.error(pos, "invalid character in key; quote keys that are not A-Za-z0-9_-")
            names.append(name)
            pos = self.skip_ws(pos)
            if pos < n and src[pos] == _DOT:
                pos += 1
                continue
            return pos, names

    def header(self, pos):
        src = self.src
        hpos = pos
        is_array = src.startswith(b"[[", pos)
        pos, names = self.key(pos + (2 if is_array else 1))
        if is_array:
            if not src.startswith(b"]]", pos):
                raise self.error(pos, "expected ']]' to close the array of tables header")
            pos += 2
        else:
            if pos >= self.n or src[pos] != _RBRACKET:
                raise self.error(pos, "expected ']' to close the table header")
            pos += 1
        self.section += 1
        line = self.line_at(hpos)
        kind = self.kind
        lines = self.lines
        table = self.root
        path = ()
        for name in names[:-1]:
            path = path + (name,)
            v = table.get(name)
            if v is None:
                v = {}
                table[name] = v
                kind[id(v)] = _IMPLICIT
                lines[path] = line
            elif type(v) is list:
                if id(v) not in self.aot:
                    raise self.error(hpos, "cannot extend '%s': it is an array value" % _dotted(path))
                path = path + (len(v) - 1,)
                v = v[-1]
            elif type(v) is not dict:
                raise self.error(hpos, "'%s' is already defined as a value" % _dotted(path))
            elif id(v) not in kind:
                raise self.error(hpos, "cannot extend inline table '%s'" % _dotted(path))
            table = v
        name = names[-1]
        path = path + (name,)
        v = table.get(name)
        if is_array:
            if v is None:
                v = []
                table[name] = v
                self.aot.add(id(v))
                lines[path] = line
            elif type(v) is not list or id(v) not in self.aot:
                raise self.error(hpos, "'%s' is already defined and is not an array of tables" % _dotted(path))
            t = {}
            kind[id(t)] = _HEADER
            path = path + (len(v),)
            v.append(t)
            lines[path] = line
            return pos, t, path
        if v is None:
            v = {}
            table[name] = v
        elif type(v) is not dict:
            raise self.error(hpos, "'%s' is already defined as a value" % _dotted(path))
        else:
            k = kind.get(id(v))
            if k == _HEADER:
                raise self.error(hpos, "table [%s] is defined more than once" % _dotted(path))
            if k == _DOTTED:
                raise self.error(hpos, "table '%s' was already defined by dotted keys" % _dotted(path))
            if k is None:
                raise self.error(hpos, "cannot extend inline table '%s'" % _dotted(path))
        kind[id(v)] = _HEADER
        lines[path] = line
        return pos, v, path

    def keyval(self, pos, table, path):
        kpos = pos
        pos, names = self.key(pos)
        if pos >= self.n or self.src[pos] != _EQUALS:
            raise self.error(pos, "expected '=' after key")
        pos = self.skip_ws(pos + 1)
        line = self.line_at(kpos)
        kind = self.kind
        for name in names[:-1]:
            path = path + (name,)
            v = table.get(name)
            if v is None:
                v = {}
                table[name] = v
                kind[id(v)] = _DOTTED
                self.dotted_section[id(v)] = self.section
                self.lines[path] = line
            elif type(v) is list:
                raise self.error(kpos, "'%s' is an array; dotted keys cannot add to it" % _dotted(path))
            elif type(v) is not dict:
                raise self.error(kpos, "'%s' is already defined as a value" % _dotted(path))
            else:
                k = kind.get(id(v))
                if k == _IMPLICIT:
                    kind[id(v)] = _DOTTED
                    self.dotted_section[id(v)] = self.section
                elif k == _HEADER:
                    raise self.error(kpos, "table [%s] cannot be extended with dotted keys" % _dotted(path))
                elif k == _DOTTED:
                    if self.dotted_section[id(v)] != self.section:
                        raise self.error(kpos, "table '%s' was defined by dotted keys in another section" % _dotted(path))
                else:
                    raise self.error(kpos, "cannot extend inline table '%s'" % _dotted(path))
            table = v
        name = names[-1]
        path = path + (name,)
        if name in table:
            raise self.error(kpos, "duplicate key '%s'" % _dotted(path))
        self.lines[path] = line
        pos, value = self.value(pos, path, 0)
        table[name] = value
        return pos

    def value(self, pos, path, depth):
        src = self.src
        n = self.n
        if pos >= n:
            raise self.error(pos, "expected a value")
        c = src[pos]
        if c == _QUOTE:
            if src.startswith(b'"""', pos):
                return self.ml_basic_string(pos)
            return self.basic_string(pos)
        if c == _APOS:
            if src.startswith(b"'''", pos):
                return self.ml_literal_string(pos)
            return self.literal_string(pos)
        if c == _LBRACKET:
            if depth >= MAX_NESTING:
                raise self.error(pos, "arrays and inline tables nest too deeply")
            start = pos
            arr = []
            pos += 1
            while True:
                pos = self.skip_blank(pos)
                if pos >= n:
                    raise self.error(start, "unterminated array")
                if src[pos] == _RBRACKET:
                    return pos + 1, arr
                epath = path + (len(arr),)
                self.lines[epath] = self.line_at(pos)
                pos, v = self.value(pos, epath, depth + 1)
                arr.append(v)
                pos = self.skip_blank(pos)
                if pos < n and src[pos] == _COMMA:
                    pos += 1
                elif pos < n and src[pos] == _RBRACKET:
                    return pos + 1, arr
                elif pos >= n:
                    raise self.error(start, "unterminated array")
                else:
                    raise self.error(pos, "expected ',' or ']' in array")
        if c == _LBRACE:
            if depth >= MAX_NESTING:
                raise self.error(pos, "arrays and inline tables nest too deeply")
            return self.inline_table(pos, path, depth)
        return self.scalar(pos)

    def inline_table(self, pos, path, depth):
        src = self.src
        n = self.n
        result = {}
        # Tables made by dotted keys inside this inline table stay open
        # until its closing brace; nothing else inside it may be extended.
        opened = set()
        pos = self.skip_ws(pos + 1)
        if pos < n and src[pos] == _RBRACE:
            return pos + 1, result
        while True:
            if pos >= n or src[pos] == _LF or src[pos] == _CR:
                raise self.error(pos, "inline table must be closed with '}' on the same line")
            kpos = pos
            pos, names = self.key(pos)
            if pos >= n or src[pos] != _EQUALS:
                raise self.error(pos, "expected '=' after key")
            pos = self.skip_ws(pos + 1)
            line = self.line_at(kpos)
            table = result
            kpath = path
            for name in names[:-1]:
                kpath = kpath + (name,)
                v = table.get(name)
                if v is None:
                    v = {}
                    table[name] = v
                    opened.add(id(v))
                    self.lines[kpath] = line
                elif type(v) is not dict or id(v) not in opened:
                    raise self.error(kpos, "'%s' is already defined" % _dotted(kpath))
                table = v
            name = names[-1]
            kpath = kpath + (name,)
            if name in table:
                raise self.error(kpos, "duplicate key '%s'" % _dotted(kpath))
            self.lines[kpath] = line
            pos, v = self.value(pos, kpath, depth + 1)
            table[name] = v
            pos = self.skip_ws(pos)
            if pos < n and src[pos] == _COMMA:
                pos = self.skip_ws(pos + 1)
                if pos < n and src[pos] == _RBRACE:
                    raise self.error(pos, "trailing comma is not allowed in an inline table")
            elif pos < n and src[pos] == _RBRACE:
                return pos + 1, result
            elif pos >= n or src[pos] == _LF or src[pos] == _CR:
                raise self.error(pos, "inline table must be closed with '}' on the same line")
            else:
                raise self.error(pos, "expected ',' or '}' in inline table")

    def scalar(self, pos):
        src = self.src
        n = self.n
        start = pos
        while pos < n and not _TOKEN_END[src[pos]]:
            pos += 1
        if pos == start:
            raise self.error(pos, "expected a value")
        # A date and a time may be separated by one space.
        if (pos - start == 10 and src[start + 4] == _DASH and pos + 3 < n
                and src[pos] == _SPACE and _ZERO <= src[pos + 1] <= _NINE
                and _ZERO <= src[pos + 2] <= _NINE and src[pos + 3] == _COLON):
            pos += 1
            while pos < n and not _TOKEN_END[src[pos]]:
                pos += 1
        try:
            tok = src[start:pos].decode()
        except UnicodeError:
            raise self.error(start, "invalid value")
        if tok == "true":
            return pos, True
        if tok == "false":
            return pos, False
        c = tok[0]
        if c not in "+-0123456789in":
            raise self.error(start, "invalid value (strings must be quoted)")
        try:
            if _is_d2(tok, 0) and len(tok) > 4 and (
                    tok[2] == ":" or tok[4] == "-" and _is_d2(tok, 2)):
                return pos, _parse_datetime(tok)
            return pos, _parse_number(tok)
        except _Invalid as e:
            raise self.error(start, "%s: '%s'" % (e.args[0], tok))

    def escape(self, pos, parts):
        # pos is at a backslash inside a basic string.
        src = self.src
        if pos + 1 >= self.n:
            raise self.error(pos, "unterminated string")
        c = src[pos + 1]
        simple = _ESCAPES.get(c)
        if simple is not None:
            parts.append(simple)
            return pos + 2
        if c == 117 or c == 85:  # u, U
            width = 4 if c == 117 else 8
            digits = src[pos + 2:pos + 2 + width]
            if len(digits) != width or any(d not in _HEXBYTES for d in digits):
                raise self.error(pos, "\\%s needs %d hex digits" % (chr(c), width))
            cp = int(digits.decode(), 16)
            if cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF:
                raise self.error(pos, "escape is not a Unicode scalar value")
            parts.append(chr(cp).encode("utf-8"))
            return pos + 2 + width
        if c < 32 or c >= 127:
            raise self.error(pos, "invalid escape sequence")
        raise self.error(pos, "invalid escape sequence '\\%s'" % chr(c))

    def bad_char(self, pos, c, start):
        if c == _LF or c == _CR:
            raise self.error(start, "unterminated string")
        raise self.error(pos, "control character U+%04X is not allowed in a string" % c)

    def basic_string(self, pos):
        src = self.src
        # The usual string, without escapes or control characters, found by C code:
        # scanning byte by byte in Python was the larger part of loading a definition.
        end = src.find(b'"', pos + 1)
        if end > pos + 1:
            seg = src[pos + 1:end]
            if min(seg) >= 32 and seg.find(b"\\") < 0 and seg.find(b"\x7f") < 0:
                return end + 1, seg.decode()
        elif end == pos + 1:
            return end + 1, ""
        n = self.n
        parts = []
        i = pos + 1
        run = i
        while True:
            if i >= n:
                raise self.error(pos, "unterminated string")
            c = src[i]
            if c == _QUOTE:
                parts.append(src[run:i])
                return i + 1, b"".join(parts).decode()
            if c == _BACKSLASH:
                parts.append(src[run:i])
                i = self.escape(i, parts)
                run = i
            elif c < 32 and c != _TAB or c == 127:
                self.bad_char(i, c, pos)
            else:
                i += 1

    def literal_string(self, pos):
        src = self.src
        n = self.n
        i = pos + 1
        while True:
            if i >= n:
                raise self.error(pos, "unterminated string")
            c = src[i]
            if c == _APOS:
                return i + 1, src[pos + 1:i].decode()
            if c < 32 and c != _TAB or c == 127:
                self.bad_char(i, c, pos)
            i += 1

    def first_newline(self, i):
        # A newline right after the opening delimiter is not part of the string.
        if self.src.startswith(b"\n", i):
            return i + 1
        if self.src.startswith(b"\r\n", i):
            return i + 2
        return i

    def closing_quotes(self, i, q):
        # At a run of 3+ quotes: up to two extra quotes belong to the content.
        src = self.src
        extra = 0
        while extra < 2 and i + 3 + extra < self.n and src[i + 3 + extra] == q:
            extra += 1
        return i + extra

    def ml_basic_string(self, pos):
        src = self.src
        n = self.n
        parts = []
        i = self.first_newline(pos + 3)
        run = i
        while True:
            if i >= n:
                raise self.error(pos, "unterminated multi-line string")
            c = src[i]
            if c == _QUOTE:
                if src.startswith(b'"""', i):
                    end = self.closing_quotes(i, _QUOTE)
                    parts.append(src[run:end])
                    return end + 3, b"".join(parts).decode()
                i += 1
            elif c == _BACKSLASH:
                parts.append(src[run:i])
                j = self.skip_ws(i + 1)
                if j < n and (src[j] == _LF or src[j] == _CR):
                    # Line-ending backslash: drop whitespace up to the next text.
                    while j < n:
                        d = src[j]
                        if d == _SPACE or d == _TAB:
                            j += 1
                        elif d == _LF or d == _CR:
                            j = self.newline(j)
                        else:
                            break
                    i = j
                else:
                    i = self.escape(i, parts)
                run = i
            elif c == _CR:
                if i + 1 < n and src[i + 1] == _LF:
                    parts.append(src[run:i])
                    run = i + 1
                    i += 2
                else:
                    raise self.error(i, "carriage return not followed by a line feed")
            elif c < 32 and c != _TAB and c != _LF or c == 127:
                raise self.error(i, "control character U+%04X must be escaped" % c)
            else:
                i += 1

    def ml_literal_string(self, pos):
        src = self.src
        n = self.n
        start = self.first_newline(pos + 3)
        close = src.find(b"'''", start)
        if close < 0:
            raise self.error(pos, "unterminated multi-line string")
        end = self.closing_quotes(close, _APOS)
        i = start
        while i < end:
            c = src[i]
            if c < 32 and c != _TAB and c != _LF or c == 127:
                if not (c == _CR and i + 1 < end and src[i + 1] == _LF):
                    if c == _CR:
                        raise self.error(i, "carriage return not followed by a line feed")
                    raise self.error(i, "control character U+%04X is not allowed in a literal string" % c)
            i += 1
        text = src[start:end]
        if b"\r" in text:
            text = text.replace(b"\r\n", b"\n")
        return end + 3, text.decode()


def _dotted(path):
    parts = []
    for p in path:
        if type(p) is int:
            parts.append("[%d]" % p)
        else:
            parts.append("." + p if parts else p)
    return "".join(parts)


def _parse(src, filename, start):
    p = _Parser(src, filename, start)
    doc = p.parse()
    return doc, p.lines


def _encode(text, filename):
    if not isinstance(text, str):
        raise TypeError("loads() takes str; use loads_bytes() for bytes")
    try:
        src = text.encode("utf-8")
    except UnicodeError:
        # Only CPython can hold lone surrogates in a str.
        i = 0
        for i in range(len(text)):
            if 0xD800 <= ord(text[i]) <= 0xDFFF:
                break
        line = text.count("\n", 0, i) + 1
        col = i - (text.rfind("\n", 0, i) + 1) + 1
        raise TomlError(filename, line, col, "text is not valid Unicode")
    start = 3 if src.startswith(b"\xef\xbb\xbf") else 0
    return src, start


def loads(text, filename="<string>"):
    src, start = _encode(text, filename)
    return _parse(src, filename, start)[0]


def loads_with_lines(text, filename="<string>"):
    src, start = _encode(text, filename)
    return _parse(src, filename, start)


# Lead bytes whose sequences some decoders (MicroPython's) accept although
# they are overlong, surrogates or beyond U+10FFFF.
_SUSPECT_LEADS = (b"\xc0", b"\xc1", b"\xe0", b"\xed", b"\xf0", b"\xf4",
                  b"\xf5", b"\xf6", b"\xf7", b"\xf8", b"\xf9", b"\xfa",
                  b"\xfb", b"\xfc", b"\xfd", b"\xfe", b"\xff")


def _utf8_error(data):
    # Offset of the first byte that is not part of valid UTF-8, or -1.
    n = len(data)
    i = 0
    while i < n:
        c = data[i]
        if c < 0x80:
            i += 1
            continue
        if 0xC2 <= c <= 0xDF:
            need, lo, hi = 1, 0x80, 0xBF
        elif c == 0xE0:
            need, lo, hi = 2, 0xA0, 0xBF
        elif c == 0xED:
            need, lo, hi = 2, 0x80, 0x9F
        elif 0xE1 <= c <= 0xEF:
            need, lo, hi = 2, 0x80, 0xBF
        elif c == 0xF0:
            need, lo, hi = 3, 0x90, 0xBF
        elif 0xF1 <= c <= 0xF3:
            need, lo, hi = 3, 0x80, 0xBF
        elif c == 0xF4:
            need, lo, hi = 3, 0x80, 0x8F
        else:
            return i
        if i + need >= n:
            return i
        d = data[i + 1]
        if d < lo or d > hi:
            return i
        for k in range(i + 2, i + 1 + need):
            if data[k] < 0x80 or data[k] > 0xBF:
                return i
        i += 1 + need
    return -1


def _validate_utf8(data, filename):
    bad = -1
    try:
        data.decode("utf-8")
    except UnicodeError:
        bad = _utf8_error(data)
        if bad < 0:
            bad = 0
    else:
        for lead in _SUSPECT_LEADS:
            if lead in data:
                bad = _utf8_error(data)
                break
    if bad >= 0:
        line = data.count(b"\n", 0, bad) + 1
        start = data.rfind(b"\n", 0, bad) + 1
        col = len(data[start:bad].decode("utf-8")) + 1
        raise TomlError(filename, line, col, "invalid UTF-8 byte 0x%02X" % data[bad])


def loads_bytes(data, filename="<bytes>", with_lines=False):
    # Strict UTF-8; a bad byte is reported as a TomlError at its line and column.
    data = bytes(data)
    _validate_utf8(data, filename)
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    doc, lines = _parse(data, filename, start)
    if with_lines:
        return doc, lines
    return doc
