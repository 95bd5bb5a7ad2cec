# Frozen into every build of the port (host and guest): the Python half of asyncio.
include("$(MPY_DIR)/extmod/asyncio")
