#!/usr/bin/env python3
"""Generate the system-call glue from kernel/include/multios/syscalls.h.

The header is the one definition of the user/kernel ABI (see its opening comment for the
format). cffi's C parser understands the declarations, enums and struct layouts; this
tool reads the doc comments itself, checks the table, and writes into an output folder:

  syscall_dispatch.h/.c  kernel: ksys_ prototypes, thunks, syscall_table, syscall_names
  libmos_syscalls.h/.c   user space: mos_NAME stubs issuing the syscall instruction
  modmos_table.h         X-macro list for the MicroPython mos module
  mos_consts.py          Python constants: numbers, errors, enums, struct layouts
  syscalls_cdef.h        the declarations in a form ffi.cdef() accepts (hosted tests)
  syscalls.md            the reference page

Usage: gensyscalls.py --header kernel/include/multios/syscalls.h --include-dir kernel/include
                      --out build/gen
From SCons: generate(header_path, out_dir) and headers(header_path) for the dependencies.
"""

import argparse
import copy
import os
import re
import sys

import cffi
import cffi.cparser
from cffi import model
from pycparser import c_ast, c_generator

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

OUTPUTS = (
    'syscall_dispatch.h',
    'syscall_dispatch.c',
    'libmos_syscalls.h',
    'libmos_syscalls.c',
    'modmos_table.h',
    'mos_consts.py',
    'syscalls_cdef.h',
    'syscalls.md',
)

MAX_ARGS = 6
MAX_NR = 256
ARG_REGS = ('rdi', 'rsi', 'rdx', 'r10', 'r8', 'r9')
# Headers outside the include folder that the ABI headers may include.
SYSTEM_HEADERS = ('stddef.h', 'stdint.h', 'stdbool.h')
# A `const char *` with one of these name endings is a NUL-terminated string.
STRING_SUFFIXES = ('path', 'name', 'pattern', 'str')
SYSCALL_ENUM = 'mos_syscall'
ERRNO_ENUM = 'mos_errno'
# Service calls answer in the service framework's own error domain (service.h), never errno.
SERVICE_ERROR_ENUM = 'service_error'

KIND_DOC = """\
kinds in "sig", one char per parameter:
  i  signed integer or enum          u  unsigned integer (uintN_t, size_t)
  p  pointer to input bytes: const T * (not a string); the kernel only reads it
  o  pointer the kernel writes (non-const T *); it may read it first (in-out)
  s  NUL-terminated string: const char * named *path, *name, *pattern or *str
  v  NULL-terminated array of strings: const char *const * (argv, envp)"""


class SpecError(Exception):
    """The header breaks a rule; str() is one "file:line: reason" per line."""

    def __init__(self, problems):
        self.problems = sorted(set(problems), key=_problem_key)
        super().__init__('\n'.join(self.problems))


def _problem_key(text):
    m = re.match(r'(.*?):(\d+): ', text)
    return (m.group(1), int(m.group(2)), text) if m else ('', 0, text)


# Reading the headers.

_COMMENT = re.compile(r'//[^\n]*|/\*.*?\*/', re.S)
_DIRECTIVE = re.compile(r'^[ \t]*#[ \t]*(\w*)(.*)$', re.M)
_INT_DEFINE = r'([A-Za-z_]\w*)\s+(-?(?:0[xX][0-9a-fA-F]+|[0-9]+)[uUlL]*)$'


class Header:
    def __init__(self, path, display):
        self.path = path
        self.display = display
        with open(path, encoding='utf-8') as f:
            self.text = f.read()
        self.comments = [(m.start(), m.end(), m.group()) for m in _COMMENT.finditer(self.text)]
        # Comments blanked out, newlines kept: what the parser sees, line for line.
        self.code = _COMMENT.sub(lambda m: re.sub(r'[^\n]', ' ', m.group()), self.text)
        self.line_starts = [0] + [m.end() for m in re.finditer('\n', self.text)]
        self.includes = []
        self.defines = []         # (name, line, value) of `#define NAME <integer>`

    def offset(self, line, column):
        return self.line_starts[line - 1] + column - 1

    def line_of(self, offset):
        return self.text.count('\n', 0, offset) + 1

    def where(self, line):
        return '%s:%d' % (self.display, line)


def _display(path):
    rel = os.path.relpath(os.path.abspath(path), REPO)
    return path if rel.startswith('..') else rel.replace(os.sep, '/')


def _read_headers(header_path, include_dir, problems):
    """Read header_path and the project headers it includes, dependencies first."""
    ordered, seen = [], {}

    def visit(path):
        key = os.path.abspath(path)
        if key in seen:
            return seen[key]
        h = Header(path, _display(path))
        seen[key] = h
        for m in _DIRECTIVE.finditer(h.code):
            word, rest = m.group(1), m.group(2).strip()
            line = h.line_of(m.start())
            if word == 'pragma' and rest == 'once':
                continue
            if word == 'define':
                d = re.match(_INT_DEFINE, rest)
                if d:
                    h.defines.append((d.group(1), line, d.group(2)))
                else:
                    problems.append('%s: #define %s: the generator understands only '
                                    '#define NAME <integer>; use an enum' % (h.where(line), rest))
                continue
            if word != 'include':
                problems.append('%s: preprocessor directive #%s: the generator reads this '
                                'header without a preprocessor; only #pragma once, #include '
                                'and #define NAME <integer> are allowed' % (h.where(line), word))
                continue
            inc = re.match(r'[<"]([^>"]+)[>"]$', rest)
            if not inc:
                problems.append('%s: cannot read #include %s' % (h.where(line), rest))
                continue
            name = inc.group(1)
            candidates = [os.path.join(include_dir, name)]
            if rest.startswith('"'):
                candidates.insert(0, os.path.join(os.path.dirname(path), name))
            found = next((c for c in candidates if os.path.isfile(c)), None)
            if found:
                h.includes.append(visit(found))
            elif name not in SYSTEM_HEADERS:
                problems.append('%s: cannot find %s in %s' % (h.where(line), name, include_dir))
        ordered.append(h)
        return h

    visit(header_path)
    return ordered


def _parser_text(headers):
    # Directives are blanked in place, so pycparser's line numbers are the files' own. The
    # integer #defines go to cffi up front: its #define scanner would eat blank lines.
    defines = ['#define %s %s\n' % (name, value) for h in headers for name, _, value in h.defines]
    parts = ['# 1 "<defines>"\n' + ''.join(defines)] if defines else []
    for h in headers:
        parts.append('# 1 "%s"\n%s\n' % (h.display, _DIRECTIVE.sub('', h.code)))
    return ''.join(parts)


# The model the outputs are written from.

class Param:
    def __init__(self, name, decl, cast, kind, size):
        self.name, self.decl, self.cast, self.kind, self.size = name, decl, cast, kind, size


class Call:
    def __init__(self, name, where):
        self.name = name
        self.where = where
        self.nr = None
        self.params = []
        self.summary = ''
        self.details = []
        self.returns = ''
        self.noreturn = False
        self.errors = []          # (name, reason)

    def c_params(self):
        return ', '.join(p.decl for p in self.params) or 'void'

    def sig(self):
        return ''.join(p.kind for p in self.params)


class Enum:
    """An enum, or the `#define NAME <integer>` lines of one header (define=True)."""

    def __init__(self, tag, doc, where, define=False):
        self.tag, self.doc, self.where, self.define = tag, doc, where, define
        self.members = []         # (C name, value, description)


class Struct:
    def __init__(self, tag, doc, where, union):
        self.tag, self.doc, self.where, self.union = tag, doc, where, union
        self.size = 0
        self.fields = []          # (name, offset, size, C type, Python struct format, description)


class Spec:
    def __init__(self, header, include_dir):
        self.header = header
        self.include_dir = include_dir
        self.headers = []
        self.calls = []
        self.enums = []
        self.structs = []
        self.cdef_decls = []      # type declarations as cffi accepts them
        self.errnos = {}          # name -> (value, description)
        self.service_errors = {}  # the same for enum service_error

    @property
    def source(self):
        return _display(self.header)

    @property
    def include_name(self):
        rel = os.path.relpath(os.path.abspath(self.header), os.path.abspath(self.include_dir))
        return rel.replace(os.sep, '/')

    @property
    def count(self):
        return max([c.nr for c in self.calls] + [-1]) + 1


# Doc comments.

def _doc_before(h, offset, allowed=r'[\w\s*]*'):
    """The /** */ comment that ends right before offset, with only `allowed` between."""
    for start, end, text in reversed(h.comments):
        if end <= offset:
            if text.startswith('/**') and re.fullmatch(allowed, h.text[end:offset]):
                return start, text
            return None
    return None


def _trailing_comment(h, line, column):
    """The comment after a member on its own line: `MOS_EPERM = 1, // meaning`."""
    start = h.offset(line, column)
    end = h.line_starts[line] if line < len(h.line_starts) else len(h.text)
    for cstart, cend, text in h.comments:
        if start <= cstart < end:
            return _clean_comment(text)
    return ''


def _clean_comment(text):
    text = re.sub(r'^/\*\*?<?|\*/$|^//', '', text)
    text = re.sub(r'\n[ \t]*\*(?!/)', '\n', text)
    return ' '.join(text.split())


def _first_sentence(text):
    m = re.match(r'(.+?[.!?])(\s+|$)(.*)', text, re.S)
    return (m.group(1), m.group(3).strip()) if m else (text, '')


def _parse_call_doc(h, call, start, raw, errnos, problems):
    body = raw[3:-2]
    body = re.sub(r'\n[ \t]*\*(?!/)', '\n', body)
    base = h.line_of(start)
    tags = list(re.finditer(r'(?<![\w-])(errors|returns):', body))
    text = body[:tags[0].start()] if tags else body
    paragraphs = [' '.join(p.split()) for p in re.split(r'\n\s*\n', text) if p.strip()]
    if not paragraphs:
        problems.append('%s: sys_%s: the doc comment has no description'
                        % (h.where(base), call.name))
    else:
        call.summary, rest = _first_sentence(paragraphs[0])
        call.details = ([rest] if rest else []) + paragraphs[1:]
    seen = {}
    for i, tag in enumerate(tags):
        value = body[tag.end():tags[i + 1].start() if i + 1 < len(tags) else len(body)]
        line = base + body.count('\n', 0, tag.start())
        if tag.group(1) in seen:
            problems.append('%s: sys_%s: second "%s:"' % (h.where(line), call.name, tag.group(1)))
        seen[tag.group(1)] = line
        if tag.group(1) == 'returns':
            call.returns = ' '.join(value.split())
            call.noreturn = call.returns.rstrip('.').lower() == 'never'
            continue
        flat = ' '.join(value.split())
        if flat.rstrip('.').lower() == 'none':
            continue
        pos = 0
        item = re.compile(r'\s*([A-Za-z_]\w*)\s*(?:\(([^()]*)\))?\s*(,|\.?\s*$)')
        while pos < len(value.rstrip()):
            m = item.match(value, pos)
            where = h.where(line + value.count('\n', 0, pos))
            if not m:
                problems.append('%s: sys_%s: cannot read the errors list at "%s"; write '
                                '"errors: MOS_EX (why), MOS_EY" or "errors: none"'
                                % (where, call.name, value[pos:].strip()[:30]))
                break
            name, reason = m.group(1), ' '.join((m.group(2) or '').split())
            where = h.where(line + value.count('\n', 0, m.start(1)))
            if name not in errnos:
                problems.append('%s: sys_%s: undeclared error name %s (not in enum %s)'
                                % (where, call.name, name, ERRNO_ENUM))
            elif name in [e for e, _ in call.errors]:
                problems.append('%s: sys_%s: %s listed twice' % (where, call.name, name))
            else:
                call.errors.append((name, reason))
            pos = m.end()
    if 'errors' not in seen:
        problems.append('%s: sys_%s: the doc comment has no "errors:" (write "errors: none" '
                        'if the call cannot fail)' % (h.where(base), call.name))


# Types.

_GEN = c_generator.CGenerator()


def _render(node):
    return _GEN.visit(node)


def _cast_text(param_type):
    t = copy.deepcopy(param_type)
    inner = t
    while not isinstance(inner, c_ast.TypeDecl):
        inner = inner.type
    inner.declname = None
    return _render(c_ast.Typename(None, [], None, t))


def _is_signed(ffi, name):
    if name == 'char':
        return True         # x86_64 System V: char is signed
    return int(ffi.cast(name, -1)) < 0


def _classify(ffi, tp, name, struct_tags):
    """(kind, pointee size or 0) for a parameter, or raise ValueError(reason)."""
    if isinstance(tp, model.PrimitiveType):
        if not tp.is_integer_type():
            raise ValueError('%s has type %s: only integers, enums and pointers fit a '
                             'register the generator can classify' % (name, tp.name))
        return ('i' if _is_signed(ffi, tp.name) else 'u'), 0
    if isinstance(tp, model.EnumType):
        return 'i', 0
    if isinstance(tp, model.BaseFunctionType):
        raise ValueError('%s is a function pointer, which the generator cannot classify' % name)
    if isinstance(tp, model.StructOrUnion):
        raise ValueError('%s: %s passed by value; pass a pointer' % (name, tp.get_c_name()))
    if not isinstance(tp, model.PointerType):
        raise ValueError('%s has type %s, which the generator cannot classify'
                         % (name, tp.get_c_name()))
    to = tp.totype
    const = bool(tp.quals & model.Q_CONST)
    if isinstance(to, model.BaseFunctionType):
        raise ValueError('%s is a function pointer, which the generator cannot classify' % name)
    if isinstance(to, model.StructOrUnion) and to.name not in struct_tags:
        raise ValueError('%s points to %s, which the headers do not declare'
                         % (name, to.get_c_name()))
    if isinstance(to, model.PrimitiveType) and to.name == 'char':
        if not const:
            return 'o', 0
        if name.lower().endswith(STRING_SUFFIXES):
            return 's', 0
        raise ValueError('const char *%s: a string parameter must be named *%s; pass bytes '
                         'as const void *' % (name, ', *'.join(STRING_SUFFIXES)))
    if (isinstance(to, model.PointerType) and const and to.quals & model.Q_CONST
            and isinstance(to.totype, model.PrimitiveType) and to.totype.name == 'char'):
        return 'v', 0
    size = 0
    if isinstance(to, (model.PrimitiveType, model.EnumType, model.StructOrUnion)):
        size = ffi.sizeof(to.get_c_name())
    return ('p' if const else 'o'), size


def _py_format(ctype, ffi):
    kind = ctype.kind
    if kind == 'array' and ctype.item.kind == 'primitive' and ffi.sizeof(ctype.item) == 1:
        return '<%ds' % ctype.length
    if kind == 'array' and ctype.item.kind in ('primitive', 'enum', 'pointer'):
        return '<%d%s' % (ctype.length, _py_format(ctype.item, ffi)[1:])
    if kind in ('primitive', 'enum'):
        if ctype.cname in ('float', 'double'):
            return '<' + ('f' if ctype.cname == 'float' else 'd')
        size = ffi.sizeof(ctype)
        letter = {1: 'b', 2: 'h', 4: 'i', 8: 'q'}[size]
        if not _is_signed(ffi, ctype.cname):
            letter = letter.upper()
        return '<' + letter
    if kind == 'pointer':
        return '<Q'
    return '<%ds' % ffi.sizeof(ctype)


# Loading and checking.

def headers(header_path, include_dir=None):
    """The headers the generator reads for header_path: the build's dependencies."""
    include_dir = include_dir or _default_include_dir(header_path)
    problems = []
    found = [h.path for h in _read_headers(header_path, include_dir, problems)]
    return found


def _default_include_dir(header_path):
    return os.path.dirname(os.path.dirname(os.path.abspath(header_path)))


def load(header_path, include_dir=None):
    """Parse and check the header; return a Spec or raise SpecError."""
    include_dir = include_dir or _default_include_dir(header_path)
    problems = []
    spec = Spec(header_path, include_dir)
    spec.headers = _read_headers(header_path, include_dir, problems)
    if problems:
        raise SpecError(problems)
    by_display = {h.display: h for h in spec.headers}
    text = _parser_text(spec.headers)

    try:
        ast = cffi.cparser.Parser()._parse(text)[0]
    except cffi.CDefError as e:
        raise SpecError([_syntax_problem(str(e), spec.headers)])
    decls = [d for d in ast.ext if d.coord and d.coord.file in by_display]

    def where(node):
        return '%s:%d' % (node.coord.file, node.coord.line)

    # Pass 1, on the syntax tree: names, numbering and pairing.
    enum_nodes, struct_nodes, funcs = [], [], []

    class Collect(c_ast.NodeVisitor):
        def visit_Enum(self, node):
            if node.values is not None:
                enum_nodes.append(node)

        def visit_Struct(self, node):
            if node.decls is not None:
                struct_nodes.append(node)
            self.generic_visit(node)

        visit_Union = visit_Struct

    for d in decls:
        if isinstance(d, c_ast.Decl) and isinstance(d.type, c_ast.FuncDecl):
            funcs.append(d)
        elif isinstance(d, c_ast.Decl) and d.name is not None:
            problems.append('%s: %s: only types and system calls belong in the header'
                            % (where(d), d.name))
        else:
            Collect().visit(d)
            spec.cdef_decls.append(_render(d) + ';')

    members = {}
    for node in enum_nodes:
        for e in node.values.enumerators:
            if e.name in members:
                problems.append('%s: %s declared twice (first at %s)'
                                % (where(e), e.name, members[e.name]))
            members.setdefault(e.name, where(e))
    for h in spec.headers:
        for name, line, _ in h.defines:
            if name in members:
                problems.append('%s: %s declared twice (first at %s)'
                                % (h.where(line), name, members[name]))
            members.setdefault(name, h.where(line))
    syscall_enum = next((n for n in enum_nodes if n.name == SYSCALL_ENUM), None)
    errno_enum = next((n for n in enum_nodes if n.name == ERRNO_ENUM), None)
    for tag, node in ((SYSCALL_ENUM, syscall_enum), (ERRNO_ENUM, errno_enum)):
        if node is None:
            problems.append('%s:1: no enum %s in the headers' % (spec.headers[-1].display, tag))
    numbered = {}
    if syscall_enum is not None:
        for e in syscall_enum.values.enumerators:
            if not e.name.startswith('SYS_'):
                problems.append('%s: %s: enum %s holds only SYS_name numbers'
                                % (where(e), e.name, SYSCALL_ENUM))
            elif e.value is None:
                problems.append('%s: %s needs an explicit number, so inserting a call '
                                'never renumbers the others' % (where(e), e.name))
            else:
                numbered.setdefault(e.name[4:], e)

    calls = {}
    for d in funcs:
        if not d.name.startswith('sys_'):
            problems.append('%s: %s: system calls are declared as long sys_NAME(...)'
                            % (where(d), d.name))
            continue
        name = d.name[4:]
        if name in calls:
            problems.append('%s: sys_%s declared twice (first at %s)'
                            % (where(d), name, calls[name][0].where))
            continue
        call = Call(name, where(d))
        calls[name] = (call, d)
        if name not in numbered and syscall_enum is not None:
            problems.append('%s: sys_%s has no number: add SYS_%s to enum %s'
                            % (where(d), name, name, SYSCALL_ENUM))
    for name, e in numbered.items():
        if name not in calls:
            problems.append('%s: SYS_%s has no prototype: declare long sys_%s(...)'
                            % (where(e), name, name))

    # Pass 2, with cffi's semantics: values, layouts, docs, parameter types.
    ffi = cffi.FFI()
    try:
        ffi.cdef(text)
    except (cffi.CDefError, cffi.FFIError) as e:
        if problems:
            raise SpecError(problems)
        raise SpecError([_syntax_problem(str(e), spec.headers)])
    if ffi.sizeof('long') != 8 or ffi.sizeof('void *') != 8:
        raise SpecError(['%s:1: cffi lays structs out for this host, which is not LP64; '
                         'run the generator on an x86_64 (or other LP64) host' % spec.source])
    constants = ffi._parser._int_constants
    declarations = ffi._parser._declarations

    errno_names = set()
    if errno_enum is not None:
        errno_names = {e.name for e in errno_enum.values.enumerators}
    service_enum = next((n for n in enum_nodes if n.name == SERVICE_ERROR_ENUM), None)
    service_error_names = {e.name for e in service_enum.values.enumerators} if service_enum else set()

    for node in enum_nodes:
        h = by_display[node.coord.file]
        doc = _doc_before(h, h.offset(node.coord.line, node.coord.column))
        en = Enum(node.name, _clean_comment(doc[1]) if doc else '', where(node))
        for e in node.values.enumerators:
            desc = _trailing_comment(h, e.coord.line, e.coord.column)
            if not desc:
                before = _doc_before(h, h.offset(e.coord.line, e.coord.column), r'[\s,{]*')
                desc = _clean_comment(before[1]) if before else ''
            en.members.append((e.name, constants[e.name], desc))
        spec.enums.append(en)
    for h in spec.headers:
        if h.defines:
            en = Enum(None, '', h.where(h.defines[0][1]), define=True)
            for name, line, _ in h.defines:
                en.members.append((name, constants[name], _trailing_comment(h, line, 1)))
            spec.enums.append(en)
    if errno_enum is not None:
        if 'MOS_ENOSYS' not in errno_names:
            problems.append('%s: enum %s needs MOS_ENOSYS: the dispatcher returns it for an '
                            'unknown number' % (where(errno_enum), ERRNO_ENUM))
        for name, value, desc in next(e for e in spec.enums if e.tag == ERRNO_ENUM).members:
            spec.errnos[name] = (value, desc)
            if not 0 < value < 4096:
                problems.append('%s: %s = %d: error numbers are 1..4095 so that -errno '
                                'never looks like a result' % (members[name], name, value))
    if service_enum is not None:
        for name, value, desc in next(e for e in spec.enums if e.tag == SERVICE_ERROR_ENUM).members:
            spec.service_errors[name] = (value, desc)

    struct_tags = set()
    for node in struct_nodes:
        if not node.name:
            problems.append('%s: anonymous struct: give ABI structs a tag' % where(node))
            continue
        union = isinstance(node, c_ast.Union)
        struct_tags.add(node.name)
        h = by_display[node.coord.file]
        doc = _doc_before(h, h.offset(node.coord.line, node.coord.column),
                          r'\s*(typedef\s+)?(struct|union)\s*')
        st = Struct(node.name, _clean_comment(doc[1]) if doc else '', where(node), union)
        cname = ('union ' if union else 'struct ') + node.name
        ctype = ffi.typeof(cname)
        st.size = ffi.sizeof(ctype)
        field_nodes = {f.name: f for f in node.decls}
        end = 0
        for fname, field in ctype.fields:
            fnode = field_nodes.get(fname)
            fwhere = where(fnode) if fnode else st.where
            if field.bitsize != -1:
                problems.append('%s: %s.%s is a bit-field; bit-fields have no fixed layout'
                                % (fwhere, cname, fname))
            fsize = ffi.sizeof(field.type)
            if not union and field.offset > end:
                problems.append('%s: %s has %d bytes of hidden padding before %s: add an '
                                'explicit reserved field' % (fwhere, cname,
                                                             field.offset - end, fname))
            end = max(end, field.offset + fsize)
            desc = _trailing_comment(h, fnode.coord.line, fnode.coord.column) if fnode else ''
            ftext = _render(fnode).strip() if fnode else fname
            st.fields.append((fname, field.offset, fsize, ftext, _py_format(field.type, ffi),
                              desc))
        if end < st.size:
            problems.append('%s: %s has %d bytes of hidden padding at its end: add an '
                            'explicit reserved field' % (st.where, cname, st.size - end))
        spec.structs.append(st)

    used = {}
    for name, (call, d) in sorted(calls.items()):
        h = by_display[d.coord.file]
        e = numbered.get(name)
        if e is not None:
            call.nr = constants[e.name]
            if not 0 <= call.nr < MAX_NR:
                problems.append('%s: SYS_%s = %d: numbers are 0..%d'
                                % (where(e), name, call.nr, MAX_NR - 1))
            if call.nr in used:
                problems.append('%s: SYS_%s = %d: number already used by SYS_%s'
                                % (where(e), name, call.nr, used[call.nr]))
            used.setdefault(call.nr, name)
        doc = _doc_before(h, h.offset(d.coord.line, d.coord.column))
        if doc is None:
            problems.append('%s: sys_%s has no doc comment: /** description. errors: ... */ '
                            'right before it' % (where(d), name))
        else:
            _parse_call_doc(h, call, doc[0], doc[1], errno_names | service_error_names, problems)
            kinds = {'service' if n in service_error_names else 'errno' for n, _ in call.errors}
            if len(kinds) > 1:
                problems.append('%s: sys_%s lists kernel errnos and service errors; a call answers '
                                'in one domain' % (where(d), name))
        ftype = declarations['function ' + d.name][0]
        if not (isinstance(ftype.result, model.PrimitiveType) and ftype.result.name == 'long'):
            problems.append('%s: sys_%s returns %s; system calls return long'
                            % (where(d), name, ftype.result.get_c_name()))
        if ftype.ellipsis:
            problems.append('%s: sys_%s takes "..."; system calls have fixed parameters'
                            % (where(d), name))
        params = [p for p in (d.type.args.params if d.type.args else [])
                  if not (isinstance(p, c_ast.Typename) and _render(p) == 'void')]
        if len(params) > MAX_ARGS:
            problems.append('%s: sys_%s has %d parameters; at most %d fit in registers'
                            % (where(d), name, len(params), MAX_ARGS))
        for p, tp in zip(params, ftype.args):
            pwhere = where(p)
            if not getattr(p, 'name', None):
                problems.append('%s: sys_%s: parameter %d needs a name'
                                % (pwhere, name, params.index(p) + 1))
                continue
            if isinstance(p.type, c_ast.ArrayDecl):
                problems.append('%s: sys_%s: %s is an array; declare it as a pointer'
                                % (pwhere, name, p.name))
                continue
            try:
                kind, size = _classify(ffi, tp, p.name, struct_tags)
            except ValueError as err:
                problems.append('%s: sys_%s: %s' % (pwhere, name, err))
                continue
            call.params.append(Param(p.name, _render(p), _cast_text(p.type), kind, size))
        has_pointer = any(p.kind in 'posv' for p in call.params)
        listed = [n for n, _ in call.errors]
        service_call = any(n in service_error_names for n in listed)
        bad_pointer = 'InvalidConfiguration' if service_call else 'MOS_EFAULT'
        if doc and has_pointer and (bad_pointer in errno_names | service_error_names) and \
                bad_pointer not in listed:
            problems.append('%s: sys_%s takes a pointer, so its errors must list %s'
                            % (where(d), name, bad_pointer))
        spec.calls.append(call)

    _check_python_names(spec, problems)
    if problems:
        raise SpecError(problems)
    spec.calls.sort(key=lambda c: c.nr)
    return spec


def _syntax_problem(message, headers):
    """A cffi/pycparser message as "file:line: reason"."""
    m = re.search(r'^(\S+?):(\d+):(?:\d+:)?\s*(.*)$', message, re.M)
    if m:
        rest = ' '.join(message[m.end():].split())
        return '%s:%s: %s%s' % (m.group(1), m.group(2), m.group(3), (' ' + rest) if rest else '')
    for h in headers:
        m = re.search(r'(?:^|\s)%s: (.*)$' % re.escape(h.display), message, re.M)
        if m:   # "At end of input": the error is at the last line
            return '%s:%d: %s' % (h.display, h.text.count('\n') or 1, m.group(1))
    return '%s:1: %s' % (headers[-1].display, ' '.join(message.split()))


# Python names: the mos module drops the MOS_ / mos_ prefix.

def _py_name(cname):
    return cname[4:] if cname.startswith('MOS_') else cname


def _py_group(tag):
    return (tag[4:] if tag.startswith('mos_') else tag).upper()


def _python_names(spec):
    names = {}
    for en in spec.enums:
        for cname, _, _ in en.members:
            names.setdefault(_py_name(cname), []).append(en.where)
        if en.tag:
            group = _py_group(en.tag)
            names.setdefault(group + '_NAMES', []).append(en.where)
            if any(desc for _, _, desc in en.members):
                names.setdefault(group + '_TEXT', []).append(en.where)
    for st in spec.structs:
        for suffix in ('_SIZE', '_FIELDS'):
            names.setdefault(_py_group(st.tag) + suffix, []).append(st.where)
    for extra in ('SYS_COUNT', 'SYSCALLS'):
        names.setdefault(extra, []).append('generated')
    return names


def _check_python_names(spec, problems):
    for name, wheres in _python_names(spec).items():
        if len(wheres) > 1:
            real = [w for w in wheres if w != 'generated'] or [spec.source + ':1']
            problems.append('%s: the Python constant %s would be defined twice (%s)'
                            % (real[-1], name, ', '.join(wheres)))


# Writing the outputs.

def _banner(spec, lead):
    return '%s generated by tools/gensyscalls.py from %s — edit that file\n' % (lead, spec.source)


def _static_asserts(spec):
    out = []
    for st in spec.structs:
        cname = ('union ' if st.union else 'struct ') + st.tag
        out.append('_Static_assert(sizeof(%s) == %d, "%s is %d bytes in the ABI");'
                   % (cname, st.size, cname, st.size))
        for fname, offset, _, _, _, _ in st.fields:
            out.append('_Static_assert(offsetof(%s, %s) == %d, "%s.%s is at offset %d in the '
                       'ABI");' % (cname, fname, offset, cname, fname, offset, ))
    return '\n'.join(out) + ('\n' if out else '')


def _dispatch_h(spec):
    lines = [_banner(spec, '//'),
             '// The kernel side of the system-call table: each ksys_NAME is implemented by the',
             '// kernel with exactly these parameters; syscall_dispatch calls it by number.',
             '#pragma once', '',
             '#include <stdint.h>', '',
             '#include <%s>' % spec.include_name, '',
             'enum { SYS_COUNT = %d };' % spec.count, '',
             'typedef long (*syscall_thunk_t)(uint64_t a0, uint64_t a1, uint64_t a2, '
             'uint64_t a3, uint64_t a4,', '                                uint64_t a5);', '',
             'extern const syscall_thunk_t syscall_table[SYS_COUNT];',
             'extern const char *const syscall_names[SYS_COUNT];', '',
             '// Runs call nr; -MOS_ENOSYS for a number outside the table or not assigned.',
             'long syscall_dispatch(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, '
             'uint64_t a3, uint64_t a4,', '                      uint64_t a5);', '']
    for c in spec.calls:
        lines.append('long ksys_%s(%s);' % (c.name, c.c_params()))
    return '\n'.join(lines) + '\n'


def _dispatch_c(spec):
    lines = [_banner(spec, '//'),
             '#include <stddef.h>', '#include <stdint.h>', '',
             '#include "syscall_dispatch.h"', '',
             _static_asserts(spec)]
    args = ', '.join('uint64_t a%d' % i for i in range(MAX_ARGS))
    for c in spec.calls:
        lines.append('static long thunk_%s(%s)' % (c.name, args))
        lines.append('{')
        unused = ['(void)a%d;' % i for i in range(len(c.params), MAX_ARGS)]
        if unused:
            lines.append('    ' + ' '.join(unused))
        casts = []
        for i, p in enumerate(c.params):
            if p.kind in 'iu':
                casts.append('(%s)a%d' % (p.cast, i))
            else:
                casts.append('(%s)(uintptr_t)a%d' % (p.cast, i))
        lines.append('    return ksys_%s(%s);' % (c.name, ', '.join(casts)))
        lines.append('}')
        lines.append('')
    lines.append('const syscall_thunk_t syscall_table[SYS_COUNT] = {')
    lines += ['    [SYS_%s] = thunk_%s,' % (c.name, c.name) for c in spec.calls]
    lines.append('};')
    lines.append('')
    lines.append('const char *const syscall_names[SYS_COUNT] = {')
    lines += ['    [SYS_%s] = "%s",' % (c.name, c.name) for c in spec.calls]
    lines.append('};')
    lines.append('')
    lines.append('long syscall_dispatch(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, '
                 'uint64_t a3, uint64_t a4,')
    lines.append('                      uint64_t a5)')
    lines.append('{')
    lines.append('    if (nr >= SYS_COUNT || syscall_table[nr] == NULL)')
    lines.append('        return -MOS_ENOSYS;')
    lines.append('    return syscall_table[nr](a0, a1, a2, a3, a4, a5);')
    lines.append('}')
    return '\n'.join(lines) + '\n'


def _libmos_h(spec):
    lines = [_banner(spec, '//'),
             '// User-space system-call stubs: mos_NAME(...) issues SYS_NAME. Each returns the',
             '// result (>= 0) or -MOS_Exxx; see syscalls.md.',
             '#pragma once', '',
             '#include <%s>' % spec.include_name, '']
    for c in spec.calls:
        lines.append('// %s' % c.summary)
        attr = '__attribute__((noreturn)) ' if c.noreturn else ''
        lines.append('%slong mos_%s(%s);' % (attr, c.name, c.c_params()))
    return '\n'.join(lines) + '\n'


def _libmos_c(spec):
    lines = [_banner(spec, '//'),
             '// The kernel reads the number from rax and arguments from rdi, rsi, rdx, r10, r8,',
             '// r9 (r10, not rcx: syscall overwrites rcx with the return address and r11 with',
             '// rflags); it preserves every other register.',
             '#include <stddef.h>', '#include <stdint.h>', '',
             '#include "libmos_syscalls.h"', '',
             _static_asserts(spec)]
    for c in spec.calls:
        lines.append('long mos_%s(%s)' % (c.name, c.c_params()))
        lines.append('{')
        lines.append('    register long rax __asm__("rax") = SYS_%s;' % c.name)
        inputs = []
        for i, p in enumerate(c.params):
            reg = ARG_REGS[i]
            value = ('(long)%s' % p.name) if p.kind in 'iu' else '(long)(uintptr_t)%s' % p.name
            lines.append('    register long %s __asm__("%s") = %s;' % (reg, reg, value))
            inputs.append('"r"(%s)' % reg)
        lines.append('    __asm__ volatile("syscall"')
        lines.append('                     : "+r"(rax)')
        lines.append('                     : %s' % ', '.join(inputs) if inputs else '                     :')
        lines.append('                     : "rcx", "r11", "memory");')
        if c.noreturn:
            lines.append('    __builtin_unreachable();')
        else:
            lines.append('    return rax;')
        lines.append('}')
        lines.append('')
    return '\n'.join(lines).rstrip('\n') + '\n'


def _modmos_table(spec):
    lines = [_banner(spec, '//'),
             '// The system calls for the MicroPython mos module, as an X-macro list:',
             '//   MOS_SYSCALL(NAME, NR, NARGS, "sig")   one line per call, by number',
             '//   MOS_SYSCALL_BUF(NAME, ARG, SIZE)      optional: pointer parameter ARG (0-based)',
             '//                                         points to SIZE bytes (a struct or a',
             '//                                         scalar); the module checks buffers with it',
             '// Define MOS_SYSCALL (and MOS_SYSCALL_BUF if wanted), then include this file; it',
             '// undefines both at the end.']
    lines += ['// ' + line for line in KIND_DOC.split('\n')]
    lines += ['', '#ifndef MOS_SYSCALL_BUF', '#define MOS_SYSCALL_BUF(name, arg, size)',
              '#endif', '']
    for c in spec.calls:
        lines.append('MOS_SYSCALL(%s, %d, %d, "%s")' % (c.name, c.nr, len(c.params), c.sig()))
        for i, p in enumerate(c.params):
            if p.size:
                lines.append('MOS_SYSCALL_BUF(%s, %d, %d)' % (c.name, i, p.size))
    lines += ['', '#undef MOS_SYSCALL', '#undef MOS_SYSCALL_BUF']
    return '\n'.join(lines) + '\n'


def _consts_py(spec):
    out = [_banner(spec, '#'),
           '"""MultiOS ABI constants: system-call numbers, error codes, enums, struct layouts.',
           '',
           'C names lose their MOS_ prefix (MOS_EPERM is EPERM). Each named enum also gives',
           'NAME_NAMES (value -> constant name) and, where it has comments, NAME_TEXT.',
           'Each struct gives NAME_SIZE and NAME_FIELDS: (field, offset, struct format) for',
           'struct.unpack_from(fmt, buf, offset). Runs under CPython and MicroPython."""', '']
    for en in spec.enums:
        out.append('# %s (%s)' % ('#define constants' if en.define else _enum_title(en),
                                  en.where))
        for cname, value, _ in en.members:
            out.append('%s = %d' % (_py_name(cname), value))
        if en.tag == SYSCALL_ENUM:
            out.append('SYS_COUNT = %d' % spec.count)
        if en.tag:
            group = _py_group(en.tag)
            first = {}
            for cname, value, _ in en.members:
                first.setdefault(value, _py_name(cname))
            out.append('%s_NAMES = {' % group)
            out += ['    %d: %r,' % (v, n) for v, n in first.items()]
            out.append('}')
            texts = {}
            for cname, value, desc in en.members:
                if desc:
                    texts.setdefault(value, desc)
            if texts:
                out.append('%s_TEXT = {' % group)
                out += ['    %d: %r,' % (v, t) for v, t in texts.items()]
                out.append('}')
        out.append('')
    out.append('# name -> (number, parameter kinds); kinds as in modmos_table.h')
    out.append('SYSCALLS = {')
    out += ['    %r: (%d, %r),' % (c.name, c.nr, c.sig()) for c in spec.calls]
    out.append('}')
    out.append('')
    for st in spec.structs:
        group = _py_group(st.tag)
        out.append('# %s %s (%s)' % ('union' if st.union else 'struct', st.tag, st.where))
        out.append('%s_SIZE = %d' % (group, st.size))
        out.append('%s_FIELDS = (' % group)
        out += ['    (%r, %d, %r),' % (f[0], f[1], f[4]) for f in st.fields]
        out.append(')')
        out.append('')
    return '\n'.join(out).rstrip('\n') + '\n'


def _cdef_h(spec):
    lines = [_banner(spec, '//'),
             '// For ffi.cdef(): the ABI types, the kernel entry points (ksys_NAME) and the',
             '// dispatcher. The only preprocessor lines are integer #defines.', '']
    lines += ['#define %s %s' % (name, value)
              for h in spec.headers for name, _, value in h.defines]
    lines += spec.cdef_decls
    lines += ['', 'enum { SYS_COUNT = %d };' % spec.count,
              'extern const char *const syscall_names[%d];' % spec.count,
              'long syscall_dispatch(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, '
              'uint64_t a3, uint64_t a4, uint64_t a5);']
    lines += ['long ksys_%s(%s);' % (c.name, c.c_params()) for c in spec.calls]
    return '\n'.join(lines) + '\n'


def _enum_title(en):
    if en.define:
        return '#define constants of %s' % en.where.split(':')[0]
    return 'enum ' + (en.tag or '(anonymous)')


def _md_cell(text):
    return text.replace('|', '\\|')


def _md(spec):
    out = ['<!-- %s -->' % _banner(spec, '').strip(), '',
           '# MultiOS system calls', '',
           'A call is the x86_64 `syscall` instruction: the number in `rax`, arguments in `rdi`, '
           '`rsi`, `rdx`, `r10`, `r8`, `r9`, the result in `rax`; `rcx` and `r11` are '
           'clobbered, every other register is preserved. A result >= 0 is success; a '
           'negative result is `-MOS_Exxx`. An unknown number returns `-MOS_ENOSYS`. C '
           'programs call `mos_NAME` from libmos; Python calls `mos.NAME`.', '',
           '| nr | name | signature | description | errors |',
           '| ---: | --- | --- | --- | --- |']
    for c in spec.calls:
        errors = ', '.join('`%s`' % n for n, _ in c.errors) or '—'
        out.append('| %d | [%s](#%s) | `long mos_%s(%s)` | %s | %s |'
                   % (c.nr, c.name, c.name, c.name, c.c_params(), _md_cell(c.summary), errors))
    out.append('')
    for c in spec.calls:
        out += ['## %s' % c.name, '',
                '`long mos_%s(%s)` — number %d, kinds `%s`, declared at %s' %
                (c.name, c.c_params(), c.nr, c.sig() or '-', c.where), '',
                c.summary, '']
        for para in c.details:
            out += [para, '']
        if c.returns:
            out += ['Returns: %s' % c.returns, '']
        if c.errors:
            out.append('Errors:')
            out.append('')
            for name, reason in c.errors:
                value, desc = spec.errnos[name] if name in spec.errnos else spec.service_errors[name]
                out.append('- `%s` (%d): %s' % (name, value, reason or desc))
        else:
            out.append('Errors: none.')
        out.append('')
    out += ['## Error codes', '', '| name | number | meaning |', '| --- | ---: | --- |']
    out += ['| `%s` | %d | %s |' % (n, v, _md_cell(d)) for n, (v, d) in spec.errnos.items()]
    out.append('')
    out += ['## Types', '']
    for st in spec.structs:
        kind = 'union' if st.union else 'struct'
        out += ['### %s %s' % (kind, st.tag), '',
                '%s%d bytes, declared at %s.' % (st.doc + ' ' if st.doc else '', st.size, st.where),
                '', '| offset | size | field | meaning |', '| ---: | ---: | --- | --- |']
        out += ['| %d | %d | `%s` | %s |' % (f[1], f[2], f[3], _md_cell(f[5])) for f in st.fields]
        out.append('')
    for en in spec.enums:
        if en.tag in (SYSCALL_ENUM, ERRNO_ENUM):
            continue
        out += ['### %s' % _enum_title(en), '']
        if en.doc:
            out += [en.doc, '']
        out += ['| name | value | meaning |', '| --- | ---: | --- |']
        out += ['| `%s` | %d | %s |' % (n, v, _md_cell(d)) for n, v, d in en.members]
        out.append('')
    return '\n'.join(out).rstrip('\n') + '\n'


WRITERS = {
    'syscall_dispatch.h': _dispatch_h,
    'syscall_dispatch.c': _dispatch_c,
    'libmos_syscalls.h': _libmos_h,
    'libmos_syscalls.c': _libmos_c,
    'modmos_table.h': _modmos_table,
    'mos_consts.py': _consts_py,
    'syscalls_cdef.h': _cdef_h,
    'syscalls.md': _md,
}


def render(spec):
    """{file name: content} for every output."""
    return {name: WRITERS[name](spec) for name in OUTPUTS}


def generate(header_path, out_dir, include_dir=None):
    """Check the header and write the outputs into out_dir; a file is rewritten only when
    its content changes. Returns the paths of all outputs."""
    spec = load(header_path, include_dir)
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for name, content in render(spec).items():
        path = os.path.join(out_dir, name)
        data = content.encode('utf-8')
        try:
            with open(path, 'rb') as f:
                same = f.read() == data
        except OSError:
            same = False
        if not same:
            tmp = path + '.tmp'
            with open(tmp, 'wb') as f:
                f.write(data)
            os.replace(tmp, path)
        paths.append(path)
    return paths


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--header', default=os.path.join(REPO, 'kernel/include/multios/syscalls.h'))
    ap.add_argument('--include-dir', default=None,
                    help='folder the header\'s #include <...> lines are found in '
                         '(default: two levels above the header)')
    ap.add_argument('--out', required=True, help='output folder, e.g. build/gen')
    args = ap.parse_args(argv)
    try:
        generate(args.header, args.out, args.include_dir)
    except SpecError as e:
        print(str(e), file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
