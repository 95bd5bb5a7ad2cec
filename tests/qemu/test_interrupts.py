"""Interrupts and time, booted: the tick arrives at the rate asked for, measured against the
TSC and the host's clock; the nanosecond clock is monotonic; the RTC reads today's UTC date;
in BCD or binary, 24 or 12 hours; the 8259 fallback (no ACPI), the PIT routed through the IOAPIC's override, microvm's two
IOAPICs and the firmware boot paths all work; vectors nobody handles are counted, not fatal."""
import datetime
import time

import pytest

from machine import Machine

TIME_LINE = (rb"time: tsc (\d+)\.(\d\d) ([GM])Hz calibrated by (\w+)[^\n]*?; "
             rb"rtc (\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)")
RESULT = (rb"ktest timer: (\d+) ticks in (\d+\.\d) ms \(tsc\), clock (\d+\.\d) ms, (\d+) exit hooks, "
          rb"spurious (\d+), unexpected (\d+), monotonic (yes|NO)")

# name: (boot mode, kernel options, QEMU arguments, controller, calibration, tick source)
CONFIGS = {
    "apic": ("direct", "", [], rb"apic, 1 ioapic \(24 inputs\), \d+ overrides?", b"hpet", rb"lapic timer"),
    "pic-no-acpi": ("direct", "", ["-no-acpi"], rb"pic \(no ACPI\)", b"pit", rb"pit timer"),
    "pit-via-ioapic": ("direct", "mos.timer=pit", [], rb"apic, ", b"hpet", rb"pit timer via ioapic gsi 2"),
    "microvm": ("microvm", "", [], rb"apic, 2 ioapics \(48 inputs\)", b"pit", rb"lapic timer"),
    "bios-cd": ("bios-cd", "", [], rb"apic, 1 ioapic", b"hpet", rb"lapic timer"),
    "uefi-cd": ("uefi-cd", "", [], rb"apic, 1 ioapic", b"hpet", rb"lapic timer"),
}


def check_time_line(m, calibration):
    t = m.wait_for(TIME_LINE)
    whole, hundredths, unit, by = int(t.group(1)), int(t.group(2)), t.group(3), t.group(4)
    hz = (whole * 100 + hundredths) * (10**7 if unit == b"G" else 10**4)
    assert 100e6 <= hz <= 10e9, t.group(0)
    assert by == calibration, t.group(0)
    # QEMU's RTC starts at the host's time in UTC.
    rtc = datetime.datetime(*(int(g) for g in t.groups()[4:]))
    assert rtc.year >= 2024, t.group(0)
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    assert abs(rtc - now) < datetime.timedelta(days=1), (t.group(0), now)


@pytest.mark.parametrize("config", list(CONFIGS))
def test_timer_ticks_at_1000_hz(config):
    mode, options, qemu_args, controller, calibration, tick = CONFIGS[config]
    uefi = mode.startswith("uefi")
    with Machine("timer-" + config, mode=mode, cmdline=("mos.ktest=timer " + options).strip(),
                 extra_args=qemu_args) as m:
        m.wait_for(rb"irq: " + controller, timeout=90 if uefi else 30)
        check_time_line(m, calibration)
        m.wait_for(rb"ktest timer: starting 1000 Hz")
        started = time.monotonic()
        m.wait_for(rb"ktest timer: tsc [^\n]*; " + tick + rb"[^\n]*, 1000 Hz")
        r = m.wait_for(RESULT)
        wall_ms = (time.monotonic() - started) * 1000
        ticks, tsc_ms, clock_ms, hooks = int(r.group(1)), float(r.group(2)), float(r.group(3)), int(r.group(4))
        spurious, unexpected, monotonic = int(r.group(5)), int(r.group(6)), r.group(7)
        assert ticks == 200, r.group(0)
        # TCG's timing is noisy: the host's clock only bounds it loosely...
        # Host wall time only catches a rate off by a factor: a busy host stretches TCG's time.
        assert 100 <= wall_ms <= 10000, (wall_ms, r.group(0))
        # ...the guest's two clocks agree closely, and the ticks came at about 1 ms each.
        assert abs(tsc_ms - clock_ms) <= 0.05 * tsc_ms, r.group(0)
        assert 190 <= tsc_ms <= 2000, r.group(0)
        assert hooks >= ticks and monotonic == b"yes", r.group(0)
        assert spurious == 0 and unexpected == 0, r.group(0)
        m.wait_for(rb"ktest timer: passed")
        m.expect_exit("MOS_QEMU_EXIT_READY")


@pytest.mark.parametrize("base,options", [
    ("2030-06-15T00:30:00", ""), ("2037-12-31T23:30:00", ""),
    # The kernel rewrites the RTC in binary, 12-hour format: midnight, noon and evening.
    ("2030-06-15T00:30:00", "mos.rtc=binary12"), ("2030-06-15T12:30:00", "mos.rtc=binary12"),
    ("2030-06-15T23:30:00", "mos.rtc=binary12"),
])
def test_rtc_reads_the_date_in_every_format(base, options):
    with Machine("rtc-" + base.replace(":", "") + ("-" + options if options else ""),
                 cmdline=("mos.exit=ready " + options).strip(), extra_args=["-rtc", "base=" + base]) as m:
        # The clock runs from BASE: a few seconds pass before the kernel reads it.
        t = m.wait_for(rb"; rtc (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)")
        read = datetime.datetime.strptime(t.group(1).decode(), "%Y-%m-%d %H:%M:%S")
        assert datetime.timedelta(0) <= read - datetime.datetime.fromisoformat(base) < datetime.timedelta(seconds=20), t.group(0)
        m.expect_exit("MOS_QEMU_EXIT_READY")


@pytest.mark.parametrize("config", ["apic", "pic-no-acpi"])
def test_unhandled_vectors_are_counted_not_fatal(config):
    mode, options, qemu_args, controller = CONFIGS[config][:4]
    with Machine("irq-" + config, mode=mode, cmdline="mos.ktest=irq", extra_args=qemu_args) as m:
        # int 0x99 (no handler), int 0x27 (IRQ7 not in service: spurious under the 8259) and
        # int 0xff (the APIC's spurious vector): one spurious and two unexpected either way.
        m.wait_for(rb"ktest irq: " + controller + rb"[^\n]*: vector 0x99 counted 1, spurious \+1, unexpected \+2")
        m.wait_for(rb"ktest irq: passed")
        m.expect_exit("MOS_QEMU_EXIT_READY")


def test_unknown_ktest_is_refused():
    with Machine("ktest-bogus", cmdline="mos.ktest=nonsense") as m:
        m.wait_for(rb"mos.ktest=nonsense: no such test \(timer, irq")
        m.expect_exit("MOS_QEMU_EXIT_BAD_ARG")
