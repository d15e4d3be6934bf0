"""A seccomp filter for the worker: no new processes, namespaces, mounts or kernel attack surface.

Why: bubblewrap started by root runs the worker as uid 65534 of its own user namespace, which
is root (kuid 0) outside it, and the kernel never applies RLIMIT_NPROC to kuid 0, so an rlimit
cannot stop a fork bomb or children that each take their own memory limit. The filter makes
these system calls fail with EPERM instead, for any uid:

- creating processes or threads (clone, clone3, fork, vfork): the worker needs neither, numpy
  runs with one BLAS thread;
- namespaces and mounts (unshare, setns, mount, umount2, pivot_root, the new mount API),
  ptrace, keyrings, bpf, perf events, userfaultfd and io_uring: none is needed to compute an
  array, and each has been a way out of sandboxes.

A system call of another architecture (i386 on x86_64, or x32's numbers) kills the worker.
bubblewrap installs the filter (`--seccomp FD`, a compiled classic-BPF program) just before
it starts the worker. Only x86_64 and aarch64 are known; elsewhere `program()` is None and the
grader refuses (see sandbox.bwrap_problem).
"""
import os
import platform
import struct

EPERM = 1
_LD_ABS, _JEQ, _JGE, _RET = 0x20, 0x15, 0x35, 0x06
_ALLOW, _KILL, _ERRNO = 0x7FFF0000, 0x80000000, 0x00050000
_X32_BIT = 0x40000000

# (audit architecture, {system call: number})
ARCHITECTURES = {
    "x86_64": (0xC000003E, {
        "clone": 56, "fork": 57, "vfork": 58, "clone3": 435, "unshare": 272, "setns": 308, "mount": 165,
        "umount2": 166, "pivot_root": 155, "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431,
        "fsmount": 432, "fspick": 433, "mount_setattr": 442, "ptrace": 101, "keyctl": 250, "add_key": 248,
        "request_key": 249, "bpf": 321, "perf_event_open": 298, "userfaultfd": 323, "io_uring_setup": 425,
        "io_uring_enter": 426, "io_uring_register": 427}),
    "aarch64": (0xC00000B7, {
        "clone": 220, "clone3": 435, "unshare": 97, "setns": 268, "mount": 40, "umount2": 39, "pivot_root": 41,
        "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433,
        "mount_setattr": 442, "ptrace": 117, "keyctl": 219, "add_key": 217, "request_key": 218, "bpf": 280,
        "perf_event_open": 241, "userfaultfd": 282, "io_uring_setup": 425, "io_uring_enter": 426,
        "io_uring_register": 427}),
}


def _op(code, k, jt=0, jf=0):
    return struct.pack("=HBBI", code, jt, jf, k)


def program(machine=None):
    """The filter as bytes (struct sock_filter[]), or None on an architecture not listed."""
    machine = machine or platform.machine()
    if machine not in ARCHITECTURES:
        return None
    arch, calls = ARCHITECTURES[machine]
    numbers = sorted(set(calls.values()))
    # layout: check arch, load nr, [x32 check], one jeq per number, ALLOW, DENY
    ops = [_op(_LD_ABS, 4), _op(_JEQ, arch, jt=1), _op(_RET, _KILL), _op(_LD_ABS, 0)]
    checks = ([("jge", _X32_BIT)] if machine == "x86_64" else []) + [("jeq", n) for n in numbers]
    for index, (kind, k) in enumerate(checks):
        to_deny = len(checks) - index  # skip the remaining checks and ALLOW
        ops.append(_op(_JGE if kind == "jge" else _JEQ, k, jt=to_deny))
    ops += [_op(_RET, _ALLOW), _op(_RET, _ERRNO | EPERM)]
    return b"".join(ops)


def filter_fd(machine=None):
    """A file descriptor to read the filter from (inheritable, at offset 0), or None."""
    code = program(machine)
    if code is None:
        return None
    fd = os.memfd_create("cnn-grade-seccomp", 0)
    os.write(fd, code)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd
