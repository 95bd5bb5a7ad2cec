"""The seed's web-server definition (shared/seed/000_*.txt, "Service Definition"), as written
there, and the same with the one line a runnable service adds: the program it runs."""

WEB_SERVER = """\
[service]
name = "web-server"
display_name = "Web Server"
description = "HTTP web server"
type = "UserService"
auto_restart = true
max_restarts = 5
health_check_interval = 30000

[service.dependencies]
required = ["database", "cache"]
optional = ["logging"]

[service.network]
bind_address = "0.0.0.0"
bind_port = 8080
protocol = "Http"
ssl_enabled = true

[service.resources]
cpu_limit = 2.0
memory_limit = "512MB"
file_descriptor_limit = 1024
"""

WEB_SERVER_RUNNABLE = WEB_SERVER.replace("health_check_interval = 30000\n",
                                         'health_check_interval = 30000\nexec = "/bin/web-server"\n')

# The service manager's scenarios also pin the database's version, as issue 5's example does.
WEB_SERVER_VERSIONED = WEB_SERVER_RUNNABLE.replace('required = ["database", "cache"]',
                                                   'required = ["database>=2.0,<3", "cache"]')
