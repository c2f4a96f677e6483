#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""kvmhost's repeat policy, checked in the shared box (tests/kvmhost/README.md).

  kvmhost_test.py KVMHOST BUILD SOURCE

A command killed at its --deadline runs again and then fails with 125; a
command that failed with "triple fault" or Python's subprocess.TimeoutExpired
in its output runs again and its last status counts; --attempts sets how many runs in all (default 2); any other
failure runs once; a box that stops answering is replaced and the command
runs again in the new one. A shared box refuses a request for other TCG
threading, and --tcg-thread single starts QEMU with one TCG thread.
"""
import os
import signal
import subprocess
import sys
import tempfile
import time


def main():
    kvmhost, build, source = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3]
    # the shares of the build's shared box (kvm_opts, tests/meson.build)
    box = ["--shared", os.path.join(build, "kvmhost"), "--share", build, "--share-ro", source]
    failed = []
    with tempfile.TemporaryDirectory(dir=build, prefix="kvmhost-test-") as d:
        def case(name, deadline, script, want_status, want_runs, want_text=(), extra=()):
            runs = os.path.join(d, name)
            cmd = [kvmhost] + box + ["--deadline", str(deadline), *extra, "--", "sh", "-c",
                                     f"echo run >> {runs}; {script}"]
            p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               timeout=600)
            out = p.stdout + p.stderr
            n = open(runs).read().count("run") if os.path.exists(runs) else 0
            ok = p.returncode == want_status and n == want_runs and \
                all(t in out for t in want_text)
            print(f"{'ok' if ok else 'FAIL'} {name}: status {p.returncode} (want {want_status}), "
                  f"{n} runs (want {want_runs})", flush=True)
            if not ok:
                print(out)
                failed.append(name)

        case("plain_failure", 60, "echo some error; exit 4", 4, 1)
        case("success", 60, "exit 0", 0, 1)
        case("guest_crash", 60, "echo 'cellvm: error: guest crashed on vcpu 0: triple fault'; exit 4",
             4, 2, ["after a guest crash in the box; running the command again, run 2 of at most 2"])
        case("guest_crash_3", 60, "echo 'cellvm: error: guest crashed on vcpu 0: triple fault'; exit 4",
             4, 3, ["running the command again, run 3 of at most 3"], ["--attempts", "3"])
        case("guest_crash_pass_3", 60,
             f"[ $(wc -l < {d}/guest_crash_pass_3) -ge 3 ] || "
             "{ echo 'cellvm: error: guest crashed on vcpu 0: triple fault'; exit 1; }", 0, 3,
             extra=["--attempts", "3"])
        case("guest_crash_then_pass", 60,
             f"[ $(wc -l < {d}/guest_crash_then_pass) -ge 2 ] || "
             "{ echo 'KVM: entry failed, hardware error 0x80000021'; exit 1; }", 0, 2)
        case("own_timeout", 60, "echo 'subprocess.TimeoutExpired: Command timed out after "
             "60 seconds'; exit 1", 1, 2,
             ["after one of the command's runs timed out; running the command again, run 2 of"])
        case("deadline", 3, "sleep 120", 125, 2,
             ["had not ended after 3 s: killing it", "running the command again, run 2 of at most 2"])

        # A box that freezes under a command (seen in CI): QEMU stopped from
        # here. The command is run again in a new box.
        import json
        import threading

        def freeze():
            time.sleep(2)
            with open(os.path.join(build, "kvmhost", "box.json")) as f:
                os.kill(json.load(f)["pid"], signal.SIGSTOP)
        threading.Thread(target=freeze, daemon=True).start()
        case("frozen_box", 5, "sleep 120", 125, 2,
             ["the box stopped answering", "running the command again in a new box"])
        case("after_frozen_box", 60, "exit 0", 0, 1)
        # A shared box serves only requests for its own TCG threading.
        case("other_threading", 60, "exit 0", 125, 0, ["stop it first"],
             ["--tcg-thread", "single"])

        # --tcg-thread single: a box whose QEMU runs both vCPUs on one thread.
        one = os.path.join(d, "box-1t")
        os.mkdir(one)
        p = subprocess.run([kvmhost, "--shared", one, "--tcg-thread", "single", "--share", build,
                            "--share-ro", source, "--", "nproc"], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=600)
        try:
            with open(os.path.join(one, "box.json")) as f:
                with open(f"/proc/{json.load(f)['pid']}/cmdline", "rb") as c:
                    argv = c.read().split(b"\0")
        except (OSError, ValueError, KeyError):
            argv = []
        subprocess.run([kvmhost, "--shared", one, "--stop"], timeout=120)
        accel = argv[argv.index(b"-accel") + 1].decode() if b"-accel" in argv[:-1] else None
        ok = p.returncode == 0 and p.stdout.strip() == "2" and accel == "tcg,thread=single"
        print(f"{'ok' if ok else 'FAIL'} single_thread: status {p.returncode}, nproc "
              f"{p.stdout.strip()!r} (want '2'), QEMU -accel {accel}", flush=True)
        if not ok:
            print(p.stderr)
            failed.append("single_thread")
    if failed:
        print(f"FAIL: {' '.join(failed)}")
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
