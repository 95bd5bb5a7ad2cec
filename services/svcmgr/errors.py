# ServiceError: the seed's 17 errors, as the service calls return them (negated).
#
# The codes, names and one-line texts come from the generated mos_consts
# (enum service_error in kernel/include/multios/); nothing is numbered here.

from mos_consts import SERVICE_ERROR_NAMES, SERVICE_ERROR_TEXT


class ServiceError(Exception):
    """An error of a service operation: .code (1..17), .name ("ServiceNotFound") and a
    sentence saying what went wrong in this case (default: the enum's comment)."""

    def __init__(self, code, message=None):
        if message is None:
            message = SERVICE_ERROR_TEXT.get(code, "")
        super().__init__(message)
        self.code = code
        self.name = SERVICE_ERROR_NAMES.get(code, "ServiceError%d" % code)
        self.message = message

    def __str__(self):
        return "%s: %s" % (self.name, self.message)

    def to_dict(self):
        return {"error": self.name, "code": self.code, "message": self.message}


class DefinitionError(ServiceError):
    """A service definition that cannot be used: file, line and reason.
    ConfigurationError when the text does not parse, InvalidConfiguration when a field is
    wrong."""

    def __init__(self, code, filename, line, reason):
        super().__init__(code, "%s:%d: %s" % (filename, line, reason))
        self.filename = filename
        self.line = line
        self.reason = reason

    def to_dict(self):
        d = ServiceError.to_dict(self)
        d["file"] = self.filename
        d["line"] = self.line
        d["reason"] = self.reason
        return d


def error_name(code):
    return SERVICE_ERROR_NAMES.get(code, "ServiceError%d" % code)
