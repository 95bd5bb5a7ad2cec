"""Choosing the accelerator: TCG by default; KVM only when a probe boot that enters ring 3
succeeds, and a failed probe is one line and a fall-back to TCG, never a hang."""
import time

import qemu_cmd


def test_default_is_tcg(monkeypatch):
    monkeypatch.delenv("MULTIOS_ACCEL", raising=False)
    assert qemu_cmd.choose_accel() == "tcg"


def test_kvm_request_is_probed_and_reported_in_one_line():
    qemu_cmd._probe_result.clear()
    lines = []
    start = time.monotonic()
    accel = qemu_cmd.choose_accel("kvm", report=lines.append)
    elapsed = time.monotonic() - start
    assert elapsed < 30, "the probe must be bounded"
    if accel == "tcg":
        assert len(lines) == 1 and lines[0].startswith("accelerator: KVM failed its probe"), lines
    else:
        assert accel == "kvm" and lines == []


def test_unknown_accelerator_is_refused():
    try:
        qemu_cmd.choose_accel("warp")
    except ValueError as e:
        assert "tcg, kvm or auto" in str(e)
    else:
        raise AssertionError("an unknown accelerator was accepted")
