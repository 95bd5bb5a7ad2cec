import sys
from pathlib import Path

# The service manager's modules are plain top-level modules on the guest.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "services" / "svcmgr"))
