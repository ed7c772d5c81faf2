#!/usr/bin/python3
"""A minimal kubelet for the engine tier: runs one pod with one container
through containerd's CRI plugin (the gRPC API the kubelet calls), waits for
it to exit and prints {"exit_code", "stdout", "stderr", "reason"} as JSON.

Usage: cri.py SOCKET POD.json
POD.json is what the kubelet makes of a pod spec (tests/engines/cri.rs
writes it from examples/kubernetes/elasticsearch.yaml):
  {"name", "image", "command": [], "args": [], "env": {}, "add": [],
   "run_as_user": 0, "allow_privilege_escalation": bool,
   "readonly_rootfs": bool, "mounts": [[host, container, readonly]],
   "log_dir", "timeout", "cgroup_parent"}

Only the few CRI messages used are encoded, by hand (protobuf wire format,
field numbers from cri-api pkg/apis/runtime/v1/api.proto), so no generated
code is needed: python3-grpcio from Debian carries the bytes.
Like the kubelet it passes `capabilities.add` through verbatim (containerd
adds the CAP_ prefix), maps allowPrivilegeEscalation: false to no_new_privs,
and sets KUBERNETES_SERVICE_HOST/PORT in every container's environment.
Always removes what it created, even on failure.
"""
import json
import os
import sys
import time

import grpc

SERVICE = "/runtime.v1.RuntimeService/"


# --- protobuf wire format --------------------------------------------------
def varint(n):
    n &= (1 << 64) - 1  # int64 negatives as two's complement
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def f_bytes(num, data):
    if isinstance(data, str):
        data = data.encode()
    return varint(num << 3 | 2) + varint(len(data)) + data


def f_int(num, n):
    return varint(num << 3) + varint(int(n))


def f_map(num, d):
    return b"".join(f_bytes(num, f_bytes(1, k) + f_bytes(2, v)) for k, v in d.items())


def decode(buf):
    """Field number -> list of values (ints, or bytes for length-delimited)."""
    out, i = {}, 0
    while i < len(buf):
        key, i = read_varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = read_varint(buf, i)
        elif wt == 2:
            n, i = read_varint(buf, i)
            v, i = buf[i:i + n], i + n
        elif wt == 1:
            v, i = buf[i:i + 8], i + 8
        elif wt == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ValueError("wire type %d" % wt)
        out.setdefault(num, []).append(v)
    return out


def read_varint(buf, i):
    shift = n = 0
    while True:
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


# --- the kubelet's requests -------------------------------------------------
NODE, CONTAINER = 2, 1


def sandbox_config(pod, uid):
    meta = f_bytes(1, pod["name"]) + f_bytes(2, uid) + f_bytes(3, "default") + f_int(4, 0)
    # No hostname: hostNetwork pods share the node's UTS namespace.
    # hostNetwork (no CNI on this machine), the pod's own PID namespace per
    # container (shareProcessNamespace: false), IPC shared in the pod.
    ns = f_int(1, NODE) + f_int(2, CONTAINER)
    sec = f_bytes(1, ns)
    linux = f_bytes(1, pod.get("cgroup_parent", "")) + f_bytes(2, sec)
    return (f_bytes(1, meta) + f_bytes(3, pod["log_dir"])
            + f_map(6, {"app": "elasticsearch"}) + f_bytes(8, linux))


def container_config(pod):
    env = dict(pod.get("env", {}))
    # The kubelet adds the service environment of the default namespace.
    env.setdefault("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    env.setdefault("KUBERNETES_SERVICE_PORT", "443")
    caps = b"".join(f_bytes(1, c) for c in pod.get("add", []))
    sec = f_bytes(1, caps)
    sec += f_bytes(5, f_int(1, pod.get("run_as_user", 0)))
    if pod.get("readonly_rootfs"):
        sec += f_int(7, 1)
    if pod.get("allow_privilege_escalation") is False:
        sec += f_int(11, 1)
    ns = f_int(1, NODE) + f_int(2, CONTAINER)
    sec += f_bytes(3, ns)
    cfg = f_bytes(1, f_bytes(1, pod["name"]) + f_int(2, 0))
    cfg += f_bytes(2, f_bytes(1, pod["image"]))
    cfg += b"".join(f_bytes(3, a) for a in pod.get("command", []))
    cfg += b"".join(f_bytes(4, a) for a in pod.get("args", []))
    cfg += b"".join(f_bytes(6, f_bytes(1, k) + f_bytes(2, v)) for k, v in env.items())
    for host, cpath, ro in pod.get("mounts", []):
        cfg += f_bytes(7, f_bytes(1, cpath) + f_bytes(2, host) + (f_int(3, 1) if ro else b""))
    cfg += f_bytes(11, pod["name"] + ".log")
    cfg += f_bytes(15, f_bytes(2, sec))
    return cfg


def parse_log(path):
    """CRI log lines: TIMESTAMP STREAM P|F TEXT (P: partial, no newline)."""
    streams = {"stdout": "", "stderr": ""}
    try:
        text = open(path, encoding="utf-8", errors="replace").read()
    except FileNotFoundError:
        return streams
    for line in text.split("\n"):
        parts = line.split(" ", 3)
        if len(parts) < 3 or parts[1] not in streams:
            continue
        body = parts[3] if len(parts) > 3 else ""
        streams[parts[1]] += body + ("" if parts[2] == "P" else "\n")
    return streams


def main():
    sock, pod_file = sys.argv[1], sys.argv[2]
    pod = json.load(open(pod_file))
    ch = grpc.insecure_channel("unix://" + sock)
    call = lambda m, req: ch.unary_unary(SERVICE + m)(req, timeout=60)
    uid = "ld11-%d-%d" % (os.getpid(), time.monotonic_ns())
    sb_cfg = sandbox_config(pod, uid)
    result = {"exit_code": None, "stdout": "", "stderr": "", "reason": ""}
    sandbox = container = None
    try:
        sandbox = decode(call("RunPodSandbox", f_bytes(1, sb_cfg)))[1][0].decode()
        req = f_bytes(1, sandbox) + f_bytes(2, container_config(pod)) + f_bytes(3, sb_cfg)
        container = decode(call("CreateContainer", req))[1][0].decode()
        call("StartContainer", f_bytes(1, container))
        # The kubelet learns of an exit through PLEG's relist: poll the status.
        deadline = time.monotonic() + pod.get("timeout", 60)
        while True:
            st = decode(decode(call("ContainerStatus", f_bytes(1, container)))[1][0])
            if st.get(3, [0])[0] == 2:  # CONTAINER_EXITED
                code = st.get(7, [0])[0]
                result["exit_code"] = code - (1 << 32) if code >= 1 << 31 else code
                result["reason"] = st.get(10, [b""])[0].decode()
                break
            if time.monotonic() > deadline:
                result["reason"] = "timeout"
                break
            time.sleep(0.02)
        result.update(parse_log(os.path.join(pod["log_dir"], pod["name"] + ".log")))
    except grpc.RpcError as e:
        result["reason"] = "rpc: %s: %s" % (e.code(), e.details())
    finally:
        if container:
            try:
                call("StopContainer", f_bytes(1, container) + f_int(2, 0))
                call("RemoveContainer", f_bytes(1, container))
            except grpc.RpcError:
                pass
        if sandbox:
            try:
                call("StopPodSandbox", f_bytes(1, sandbox))
                call("RemovePodSandbox", f_bytes(1, sandbox))
            except grpc.RpcError:
                pass
    print(json.dumps(result))


if __name__ == "__main__":
    main()
