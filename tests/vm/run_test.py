#!/usr/bin/env python3
"""Integration tests: boot guest payloads under cellvm and check what they
print on the serial console and how cellvm exits.

usage: run_test.py CASE CELLVM [PAYLOAD]
Every case but `errors` needs /dev/kvm: meson runs them through kvmhost.
"""
import os
import signal
import subprocess
import sys
import tempfile
import time



def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def run(args, timeout=60, **kw):
    p = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=timeout, **kw)
    out, err = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
    print(f"$ {' '.join(args)}\n--- rc {p.returncode}\n--- stdout\n{out}--- stderr\n{err}")
    return p.returncode, out, err


def expect(cond, msg):
    if not cond:
        fail(msg)


def case_selftest(cellvm, payload):
    rc, out, _ = run([cellvm, "run", "--kernel", payload, "--serial", "stdio"])
    expect("selftest: PASS" in out, "no PASS line")
    expect(rc == 0, f"exit status {rc}, expected 0")


def case_exit_status(cellvm, payload):
    rc, out, _ = run([cellvm, "run", "--kernel", payload, "--cmdline", "exit=7"])
    expect("selftest: PASS" in out, "no PASS line")
    expect(rc == 7, f"exit status {rc}, expected the guest's 7")


def run_until(args, needle, timeout=30):
    """Start cellvm, wait for `needle` on the console, stop it with SIGTERM."""
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    out = b""
    deadline = time.monotonic() + timeout
    os.set_blocking(p.stdout.fileno(), False)
    while time.monotonic() < deadline and needle not in out:
        time.sleep(0.05)
        chunk = p.stdout.read()
        if chunk:
            out += chunk
        if p.poll() is not None:
            break
    p.send_signal(signal.SIGTERM)
    try:
        rest, err = p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        fail("cellvm did not stop on SIGTERM")
    out += rest or b""
    text, err = out.decode(errors="replace"), err.decode(errors="replace")
    print(f"$ {' '.join(args)}\n--- rc {p.returncode}\n--- stdout\n{text}--- stderr\n{err}")
    return p.returncode, text, err


def case_cmdline_memory(cellvm, payload):
    """The demo guest echoes its command line and RAM size."""
    rc, out, _ = run_until([cellvm, "run", "--kernel", payload, "--memory", "64M",
                            "--cmdline", "hello=world  spaces"], b"alive 1")
    expect("cmdline: hello=world  spaces" in out, "the command line did not reach the guest")
    expect("ram: 63 MiB" in out or "ram: 64 MiB" in out, "the guest did not see 64 MiB")
    expect(rc == 0, f"exit status {rc} after SIGTERM")


def case_smp(cellvm, payload):
    rc, out, _ = run([cellvm, "run", "--kernel", payload, "--cpus", "2"])
    expect("smp: 2 cpus online" in out, "the second vCPU did not report")
    expect(rc == 0, f"exit status {rc}")


def case_serial_file(cellvm, payload):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "console.log")
        rc, out, _ = run([cellvm, "run", "--kernel", payload, "--serial", "file:" + path])
        expect(rc == 0, f"exit status {rc}")
        expect(out == "", "console output went to stdout instead of the file")
        text = open(path, errors="replace").read()
        expect("selftest: PASS" in text, "console file lacks the PASS line")


def case_serial_limit(cellvm, payload):
    """A guest cannot grow a --serial file past --serial-limit; the VM runs on."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "console.log")
        rc, _, err = run([cellvm, "run", "--kernel", payload, "--serial", "file:" + path,
                          "--serial-limit", "64"])
        expect(rc == 0, f"exit status {rc}: the VM must run on past the limit")
        data = open(path, "rb").read()
        note = b"\n[cellvm: serial log limit reached, output dropped]\n"
        expect(data.endswith(note) and len(data) == 64 + len(note),
               f"log is {len(data)} bytes, expected 64 and the note")
        expect("serial log reached its limit of 64 bytes" in err, "limit not reported")


def case_serial_none(cellvm, payload):
    rc, out, _ = run([cellvm, "run", "--kernel", payload, "--serial", "none"])
    expect(rc == 0 and out == "", f"rc {rc}, stdout {out!r}")


def case_boot_timer(cellvm, payload):
    rc, _, err = run([cellvm, "run", "-v", "--kernel", payload])
    expect(rc == 0, f"exit status {rc}")
    expect("boot-timer: guest started" in err and "ms after cellvm" in err,
           "no boot-timer report")


def case_demo(cellvm, payload):
    """The default guest: banner, heartbeat, and a clean stop on SIGTERM."""
    args = [cellvm, "run"] + ([] if payload is None else ["--kernel", payload])
    rc, text, _ = run_until(args, b"alive 1")
    expect("cellvm demo guest" in text, "no banner")
    expect("alive 1" in text, "no heartbeat")
    expect(rc == 0, f"exit status {rc} after SIGTERM, expected 0")


def case_errors(cellvm, _payload):
    with tempfile.TemporaryDirectory() as d:
        empty = os.path.join(d, "empty")
        open(empty, "wb").close()
        cases = [
            (["--kernel", os.path.join(d, "missing")], "No such file"),
            (["--kernel", empty], "empty file"),
            (["--kernel", d], "not a regular file"),
            (["--memory", "12Q"], "--memory"),
            (["--memory", "8M"], "--memory"),
            (["--memory", "99999999999999999999G"], "--memory"),
            (["--cpus", "0"], "--cpus"),
            (["--cpus", "1000"], "--cpus"),
            (["--serial", "tcp:1"], "--serial"),
            (["--bogus"], "unknown option"),
            (["--initrd", os.path.join(d, "missing-initrd")], "missing-initrd"),
            (["--disk", os.path.join(d, "missing.img")], "missing.img"),
            (["--disk", empty + ",format=vmdk"], "format"),
            (["--serial", "file:" + os.path.join(d, "no-dir", "log")], "no-dir"),
            (["--vnc", "127.0.0.1:5999,password-file=" + os.path.join(d, "no-pw")], "no-pw"),
            (["--net", "tap=bad/name"], "bad interface name"),
            (["--net", "tap=" + "x" * 16], "bad interface name"),
            (["--net", "mac=52:54:00:12:34:56"], "which TAP interface"),
            (["--net", "tap=cvnone0,mac=01:00:5e:00:00:01"], "bad MAC address"),
            (["--net", "tap=cvnone0,mac=52:54:00:12:34"], "bad MAC address"),
            (["--net", "tap=cvnone0,speed=10"], "unknown setting"),
            (["--net", "tap=cvnone0"], "no such interface"),
            (["--net", "tap=lo"], "cannot attach"),
        ]
        for extra, needle in cases:
            rc, _, err = run([cellvm, "run"] + extra)
            expect(rc == 125, f"{extra}: exit status {rc}, expected 125")
            expect(needle in err, f"{extra}: message lacks {needle!r}")
            expect(len(err.strip().splitlines()) == 1, f"{extra}: expected one line")
            expect("/dev/kvm" not in err, f"{extra}: /dev/kvm probed before the user's mistake")
        if not os.path.exists("/dev/kvm"):
            # Valid options on a host without KVM: the one thing left to report.
            rc, _, err = run([cellvm, "run", "--memory", "64M"])
            expect(rc == 125 and "/dev/kvm does not exist" in err, "no clear no-KVM message")
            expect(len(err.strip().splitlines()) == 1, "no-KVM: expected one line")


def case_rng(cellvm, payload):
    """virtio-rng end to end: guest-rngtest against a confined cellvm-rng."""
    # --rng is --device rng; a second one is a second PCI function
    for opts in (["--rng"], ["--device", "rng", "--device", "rng"]):
        rc, out, _ = run([cellvm, "run", "--kernel", payload] + opts)
        # The guest exits 0 only after every check (and its PASS line, which the
        # console relay can lose when the run ends at once: not asserted).
        expect(rc == 0, f"{opts}: exit status {rc}, expected 0")
        expect("128 KiB request got" in out, f"{opts}: the guest did not get that far")


def case_rng_absent(cellvm, payload):
    """Without --rng the guest finds no virtio-rng function (the test can fail)."""
    rc, out, _ = run([cellvm, "run", "--kernel", payload])
    # The guest's own status: its last console line may not be relayed
    # before the run ends (the exit port does not wait for the serial process).
    expect(rc == 1, f"exit status {rc}, expected the guest's 1 (no device found)")
    expect("rngtest: PASS" not in out, "rngtest passed without a device")
    # --device names an option-less device of the table, and nothing else
    for t, msg in (("nonesuch", "--device nonesuch: no such device (--device takes: rng)"),
                   ("disk", "--device disk: no such device (--device takes: rng)"),
                   ("../rng", "--device '../rng': a device type is 1-16 of [a-z0-9]")):
        rc, _, err = run([cellvm, "run", "--kernel", payload, "--device", t])
        expect(rc == 125 and msg in err, f"--device {t}: no clear refusal")


def case_rng_many(cellvm, payload):
    """Ten PCI functions (eight disks, the rng after them, a display): the
    slot allocator and MSI-X routing take every one, the rng still works."""
    with tempfile.TemporaryDirectory() as d:
        args = [cellvm, "run", "--kernel", payload, "--rng", "--vga"]
        for i in range(8):
            img = os.path.join(d, f"d{i}.img")
            with open(img, "wb") as f:
                f.truncate(1 << 20)
            args += ["--disk", img]
        rc, out, _ = run(args)
        expect(rc == 0, f"exit status {rc}, expected 0 (every check passed)")
        expect("virtio-rng at 09.0" in out, "the rng is not on the slot after the eight disks")


def case_bad_kernel(cellvm, _payload):
    """A truncated ELF is refused by the loader in the vcpu-worker."""
    with tempfile.TemporaryDirectory() as d:
        trunc = os.path.join(d, "trunc.elf")
        open(trunc, "wb").write(b"\x7fELF\x02\x01\x01" + b"\0" * 20)
        rc, _, err = run([cellvm, "run", "--kernel", trunc])
        expect(rc == 125, f"exit status {rc}, expected 125")
        expect("kernel" in err, "message does not name the kernel")


def main():
    case, cellvm = sys.argv[1], sys.argv[2]
    payload = sys.argv[3] if len(sys.argv) > 3 else None
    if not os.path.exists("/dev/kvm") and case != "errors":
        fail("/dev/kvm is absent: run this through tests/kvmhost/kvmhost (meson does)")
    globals()["case_" + case](cellvm, payload)
    print("PASS")


if __name__ == "__main__":
    main()
