"""services/svcmgr/definition.py: the seed's example, every field's checks, JSON."""

import json

import pytest

import seed_example

import definition
from definition import load
from errors import DefinitionError
from mos_consts import (ConfigurationError, InvalidConfiguration, SERVICE_TYPE_USER,
                        SERVICE_TYPE_SYSTEM, SERVICE_TYPE_GROUP, SERVICE_TYPE_LOAD_BALANCER,
                        SERVICE_FORMAT_JSON)

# The seed's example, as written (with the exec it needs to run).
SEED = seed_example.WEB_SERVER_RUNNABLE


def test_seed_example_loads():
    d = load(SEED, "web-server.toml")
    assert d.name == "web-server"
    assert d.title() == "Web Server"
    assert d.description == "HTTP web server"
    assert d.type == SERVICE_TYPE_USER
    assert d.auto_restart is True and d.max_restarts == 5
    assert d.health_check_interval == 30000
    assert [x[0] for x in d.requires] == ["database", "cache"]
    assert [x[0] for x in d.wants] == ["logging"]
    assert all(x[2] == 30000 for x in d.requires)
    assert d.network == {"bind_address": "0.0.0.0", "bind_port": 8080, "protocol": "http",
                         "ssl_enabled": True}
    assert d.resources == {"cpu_limit": 2.0, "memory_limit": 512 << 20, "file_descriptor_limit": 1024}
    assert d.argv() == ("/bin/web-server", ["/bin/web-server"])
    assert d.ready == "notify" and d.enabled is True


def test_defaults_stay_on_the_class():
    d = load('[service]\nname = "a"\nexec = "/bin/a"\n', "a.toml")
    own = set(vars(d))
    assert own <= {"name", "program", "filename"}
    assert d.version == "0.0.0" and d.tags == () and d.requires == ()


def test_every_field():
    text = '''[service]
name = "api.v2"
display_name = "API"
description = ""
type = "load-balancer"
enabled = false
exec = "/srv/api.py"
args = ["--port", "80"]
env = { MODE = "fast", _X1 = "" }
version = "2.1.0-rc.1"
tags = ["http", "edge"]
metadata = { region = "eu", weight = 3, canary = false, ratio = 0.5 }
endpoints = ["api.ctl", { name = "api.http", protocol = "HTTP", port = 80, address = "::1" }]
auto_restart = true
max_restarts = 0
restart_period = 1000
health_check_interval = 0
ready = "check"
start_check = ["/bin/probe", "api"]
start_timeout = 100
stop_timeout = 0

[service.dependencies]
timeout = 500
required = ["database>=2.0,<3", { name = "cache", version = "~=1.2", timeout = 50 }]
optional = [{ name = "logging" }]
'''
    d = load(text, "api.toml")
    assert d.type == SERVICE_TYPE_LOAD_BALANCER and d.enabled is False
    assert d.argv() == ("/bin/python", ["/bin/python", "/srv/api.py", "--port", "80"])
    assert d.env == {"MODE": "fast", "_X1": ""}
    assert d.tags == ("http", "edge")
    assert d.metadata["weight"] == 3 and d.metadata["canary"] is False
    assert d.endpoints == (("api.ctl", "ipc", 0, ""), ("api.http", "http", 80, "::1"))
    assert d.ready == "check" and d.start_check == ("/bin/probe", "api")
    db, cache = d.requires
    assert db[0] == "database" and db[1].matches("2.5") and not db[1].matches("3.0") and db[2] == 500
    assert cache[0] == "cache" and cache[1].matches("1.9") and not cache[1].matches("2.0") and cache[2] == 50
    assert d.wants[0][0] == "logging" and d.wants[0][2] == 500
    # Round trip through to_dict and JSON.
    again = load(json.dumps(d.to_dict()), "api.json")
    assert again.to_dict() == d.to_dict()


@pytest.mark.parametrize("alias", ["SystemService", "system"])
def test_type_aliases(alias):
    d = load('[service]\nname = "a"\nexec = "/bin/a"\ntype = "%s"\n' % alias, "a.toml")
    assert d.type == SERVICE_TYPE_SYSTEM


def test_group():
    d = load('[service]\nname = "g"\ntype = "ServiceGroup"\nmembers = ["a", "b"]\n', "g.toml")
    assert d.type == SERVICE_TYPE_GROUP and d.members == ("a", "b") and d.argv() == (None, None)


BASE = '[service]\nname = "svc"\nexec = "/bin/svc"\n'

# (text after BASE, line, reason fragment). BASE is lines 1-3.
INVALID = [
    ('nmae = "x"\n', 4, "service.nmae: unknown key; did you mean 'name'?"),
    ('auto_restrat = true\n', 4, "did you mean 'auto_restart'?"),
    ('zzzzzz = 1\n', 4, "unknown key; the keys here are name, "),
    ('display_name = 3\n', 4, "service.display_name: must be a string, not an integer"),
    ('display_name = "%s"\n' % ("x" * 129), 4, "at most 128 characters"),
    ('description = true\n', 4, "must be a string, not a boolean"),
    ('type = "UserServce"\n', 4, "did you mean 'UserService'?"),
    ('type = 1\n', 4, "service.type: must be a string"),
    ('enabled = "yes"\n', 4, "service.enabled: must be true or false, not a string"),
    ('args = "x"\n', 4, "service.args: must be an array, not a string"),
    ('args = ["a", 2]\n', 4, "service.args[1]: must be a string, not an integer"),
    ('env = ["A=1"]\n', 4, "service.env: must be a table"),
    ('env = { 1A = "x" }\n', 4, "service.env.1A: '1A' is not a variable name"),
    ('env = { A = 1 }\n', 4, "service.env.A: must be a string"),
    ('version = "two"\n', 4, "service.version: 'two' is not a version"),
    ('version = 2\n', 4, "service.version: must be a string"),
    ('tags = ["a b"]\n', 4, "a tag has no spaces"),
    ('tags = ["a", "a"]\n', 4, "service.tags[1]: tag 'a' is listed twice"),
    ('tags = [""]\n', 4, "service.tags[0]: must not be empty"),
    ('metadata = { a = [1] }\n', 4, "service.metadata.a: must be a string, number or boolean, not an array"),
    ('endpoints = [{ port = 1 }]\n', 4, "service.endpoints[0]: an endpoint needs a name"),
    ('endpoints = [{ name = "e", port = 70000 }]\n', 4, "service.endpoints[0].port: must be an integer from 1 to 65535, not 70000"),
    ('endpoints = [{ name = "e", protocl = "tcp" }]\n', 4, "did you mean 'protocol'?"),
    ('endpoints = [{ name = "e", protocol = "ftp" }]\n', 4, "'ftp' is not one of tcp, udp, http, https, ipc"),
    ('endpoints = ["e", "e"]\n', 4, "endpoint 'e' is listed twice"),
    ('endpoints = ["a b"]\n', 4, "is not an endpoint name"),
    ('auto_restart = 1\n', 4, "service.auto_restart: must be true or false, not an integer"),
    ('max_restarts = -1\n', 4, "service.max_restarts: must be an integer from 0 to 1000, not -1"),
    ('max_restarts = 1.5\n', 4, "service.max_restarts: must be an integer, not a float"),
    ('max_restarts = true\n', 4, "service.max_restarts: must be an integer, not a boolean"),
    ('restart_period = 0\n', 4, "service.restart_period: must be an integer from 1 to 86400000 (ms), not 0"),
    ('restart_delay = -1\n', 4, "service.restart_delay: must be an integer from 0 to 30000 (ms), not -1"),
    ('restart_delay = 30001\n', 4, "service.restart_delay: must be an integer from 0 to 30000 (ms), not 30001"),
    ('health_check_interval = -5\n', 4, "health_check_interval: must be an integer from 0"),
    ('health_check_interval = 1979-05-27\n', 4, "must be an integer (ms), not a date or time"),
    ('ready = "now"\n', 4, "service.ready: 'now' is not one of notify, endpoint, check"),
    ('ready = "check"\n', 4, "ready = \"check\" needs start_check"),
    ('ready = "endpoint"\n', 4, "needs endpoints"),
    ('start_check = ["/bin/x"]\n', 4, "start_check is used only with ready = \"check\""),
    ('ready = "check"\nstart_check = ["x"]\n', 5, "service.start_check[0]: must be an absolute path"),
    ('ready = "check"\nstart_check = []\n', 5, "service.start_check: must name a program"),
    ('start_timeout = 0\n', 4, "service.start_timeout: must be an integer from 1"),
    ('stop_timeout = "5s"\n', 4, "service.stop_timeout: must be an integer (ms), not a string"),
    ('members = ["a"]\n', 4, "only a group"),
    ('\n[service.dependencies]\nrequired = "db"\n', 6, "service.dependencies.required: must be an array, not a string"),
    ('\n[service.dependencies]\nrequired = ["db>=two"]\n', 6, "service.dependencies.required[0]: version 'two' is not numbers"),
    ('\n[service.dependencies]\nrequired = ["db=>2"]\n', 6, "'=>2': unknown operator"),
    ('\n[service.dependencies]\nrequired = ["Bad Name"]\n', 6, "dependency 'Bad Name': expected an operator"),
    ('\n[service.dependencies]\nrequired = ["db"]\noptional = ["db"]\n', 7, "'db' is listed already in required"),
    ('\n[service.dependencies]\nrequired = [{ version = "1" }]\n', 6, "a dependency needs a name"),
    ('\n[service.dependencies]\nrequired = [{ name = "db", timeout = -1 }]\n', 6, "timeout: must be an integer from 0"),
    ('\n[service.dependencies]\nrequired = [{ name = "db", version = "~=2" }]\n', 6, "~= needs at least two numbers"),
    ('\n[service.dependencies]\nrequird = ["db"]\n', 6, "did you mean 'required'?"),
    ('\n[service.dependencies]\ntimeout = 1.0\n', 6, "service.dependencies.timeout: must be an integer (ms), not a float"),
    ('\n[service.network]\nbind_port = 65536\n', 6, "service.network.bind_port: must be an integer from 0 to 65535, not 65536"),
    ('\n[service.network]\nbind_address = "300.1.1.1"\n', 6, "'300.1.1.1' is not an IPv4 address"),
    ('\n[service.network]\nbind_address = "example host"\n', 6, "is not an IP address"),
    ('\n[service.network]\nprotocol = "Htp"\n', 6, "did you mean 'http'?"),
    ('\n[service.network]\nssl_enabled = "true"\n', 6, "ssl_enabled: must be true or false, not a string"),
    ('\n[service.network]\nport = 80\n', 6, "service.network.port: unknown key"),
    ('\n[service.resources]\ncpu_limit = 0\n', 6, "must be more than 0 and at most 256 CPUs, not 0"),
    ('\n[service.resources]\ncpu_limit = "2"\n', 6, "must be a number of CPUs, not a string"),
    ('\n[service.resources]\nmemory_limit = "512 parsecs"\n', 6, "'512 parsecs' is not a size"),
    ('\n[service.resources]\nmemory_limit = "1KB"\n', 6, "must be from 4 KiB to 1 TiB, not 1024 bytes"),
    ('\n[service.resources]\nmemory_limit = true\n', 6, "must be a size"),
    ('\n[service.resources]\nfile_descriptor_limit = 0\n', 6, "file_descriptor_limit: must be an integer from 1"),
    ('\n[service.resources]\ncpu_limt = 1\n', 6, "did you mean 'cpu_limit'?"),
    ('\n[servce]\n', 5, "servce: unknown key; did you mean 'service'?"),
]


@pytest.mark.parametrize("extra,line,reason", INVALID)
def test_invalid_field(extra, line, reason):
    with pytest.raises(DefinitionError) as ei:
        load(BASE + extra, "/etc/services/svc.toml")
    e = ei.value
    assert e.code == InvalidConfiguration and e.name == "InvalidConfiguration"
    assert e.filename == "/etc/services/svc.toml"
    assert reason in e.reason, e.reason
    assert e.line == line, str(e)
    assert str(e).startswith("InvalidConfiguration: /etc/services/svc.toml:%d: " % line)


@pytest.mark.parametrize("text,line,reason", [
    ('', 1, "there is no [service] table"),
    ('[service]\nexec = "/bin/a"\n', 1, "[service] has no name"),
    ('[service]\nname = "a"\n', 1, "[service] has no exec"),
    ('[service]\nname = "-a"\nexec = "/bin/a"\n', 2, "'-a' is not a service name"),
    ('[service]\nname = "%s"\nexec = "/bin/a"\n' % ("a" * 64), 2, "at most 63 characters"),
    ('[service]\nname = "a"\nexec = "bin/a"\n', 3, "must be an absolute path, like /bin/a"),
    ('[service]\nname = "a"\nexec = "/bin/"\n', 3, "names a folder"),
    ('service = 1\n', 1, "service: must be a table, not an integer"),
    ('[service]\nname = "g"\ntype = "group"\n', 1, "a group needs members"),
    ('[service]\nname = "g"\ntype = "group"\nmembers = ["g"]\n', 4, "a group cannot be its own member"),
    ('[service]\nname = "g"\ntype = "group"\nmembers = ["a"]\nexec = "/bin/a"\n', 5, "a group runs no program"),
])
def test_invalid_document(text, line, reason):
    with pytest.raises(DefinitionError) as ei:
        load(text, "x.toml")
    assert reason in ei.value.reason
    assert ei.value.line == line


def test_toml_syntax_error_is_configuration_error():
    with pytest.raises(DefinitionError) as ei:
        load('[service]\nname = "a"\nexec = /bin/a\n', "bad.toml")
    e = ei.value
    assert e.code == ConfigurationError and e.line == 3 and e.filename == "bad.toml"


def test_json_form():
    d = {"service": {"name": "web-server", "exec": "/bin/web-server", "type": "UserService",
                     "auto_restart": True, "max_restarts": 5,
                     "dependencies": {"required": ["database>=2.0,<3", "cache"], "optional": ["logging"]},
                     "network": {"bind_port": 8080, "protocol": "Http"},
                     "resources": {"memory_limit": "512MB"}}}
    x = load(json.dumps(d, indent=2), "web.json")
    assert x.name == "web-server" and x.requires[0][1].matches("2.9")
    assert load(json.dumps(d), "web", SERVICE_FORMAT_JSON).name == "web-server"
    assert load(json.dumps(d), "web", "json").network["bind_port"] == 8080


def test_json_errors_have_lines():
    text = '{\n  "service": {\n    "name": "a",\n    "exec": "/bin/a",\n    "max_restarts": "5"\n  }\n}\n'
    with pytest.raises(DefinitionError) as ei:
        load(text, "a.json")
    assert ei.value.line == 5 and "service.max_restarts: must be an integer" in ei.value.reason
    text = '{\n  "service": {\n    "name": "a",\n    "exec": "/bin/a",\n    "tags": [\n      "x",\n      7\n    ]\n  }\n}\n'
    with pytest.raises(DefinitionError) as ei:
        load(text, "a.json")
    assert ei.value.line == 7 and "service.tags[1]" in ei.value.reason


def test_json_syntax_and_duplicates():
    with pytest.raises(DefinitionError) as ei:
        load('{\n"service": {\n"name": "a",,\n}}', "a.json")
    assert ei.value.code == ConfigurationError and ei.value.line == 3
    with pytest.raises(DefinitionError) as ei:
        load('{"service": {"name": "a",\n "exec": "/bin/a",\n "name": "b"}}', "a.json")
    assert ei.value.code == ConfigurationError and "duplicate key 'name'" in ei.value.reason
    assert ei.value.line == 3


def test_sizes():
    assert definition.parse_size("512MB") == 512 << 20
    assert definition.parse_size("64K") == 65536
    assert definition.parse_size("2GiB") == 2 << 30
    assert definition.parse_size("1.5 M") == 3 << 19
    assert definition.parse_size("4096") == 4096
    assert definition.parse_size("12 XB") is None and definition.parse_size("MB") is None


def test_suggest():
    assert definition.suggest("auto_restrat", definition.SERVICE_KEYS) == "auto_restart"
    assert definition.suggest("NAME", definition.SERVICE_KEYS) == "name"
    assert definition.suggest("qqqqqq", definition.SERVICE_KEYS) is None
