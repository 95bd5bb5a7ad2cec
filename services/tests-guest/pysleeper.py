# A service for the service API's guest test: publishes an endpoint named as the service
# and echoes requests.
import os

import service


def echo(req, sender):
    req["pid"] = sender
    return req


service.serve(service.listen(os.getenv("SERVICE_NAME")), echo)
