# Frozen into /sbin/svcmgr: what /bin/python has, and the service manager
# (services/svcmgr/*.py); its module `main` runs at start.
include("$(PORT_DIR)/manifest_python.py")
freeze("$(SVCMGR_DIR)")
