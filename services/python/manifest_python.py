# Frozen into /bin/python: asyncio, and the ABI constants generated from the
# syscall table (mos_consts: error numbers, enums, struct layouts for mos).
include("$(PORT_DIR)/manifest.py")
module("mos_consts.py", base_path="$(GEN_DIR)")
module("service.py", base_path="$(PORT_DIR)/lib")  # the service API (lib/service.py)
