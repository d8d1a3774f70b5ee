#!/usr/bin/python3
"""A minimal CRI client (runtime.v1, what the kubelet speaks) for the containerd suite.

Debian 12 has no crictl, so this talks gRPC with python3-grpcio and encodes the few
protobuf messages it needs by hand. Usage:
  cri.py SOCKET run-pod NAME HANDLER            -> prints the pod sandbox id
  cri.py SOCKET create POD NAME HANDLER IMAGE CMD... -> prints the container id
  cri.py SOCKET start|stop|rm|status ID
  cri.py SOCKET exec ID CMD...                   -> prints stdout, exits with its code
  cri.py SOCKET stop-pod|rm-pod POD
  cri.py SOCKET pods-q                           -> pod sandbox ids
The pod's cgroup_parent is $CRI_CGROUP_PARENT when set (the kubelet's pod slice).
"""
import os
import sys

import grpc

NODE = 2  # NamespaceMode.NODE: host network, so no CNI is needed


def varint(n):
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def fv(num, n):  # varint field
    return varint(num << 3) + varint(n)


def fb(num, data):  # length-delimited field
    if isinstance(data, str):
        data = data.encode()
    return varint(num << 3 | 2) + varint(len(data)) + data


def parse(buf):
    """protobuf message -> {field: [values]} (varints as int, the rest as bytes)."""
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
    n = shift = 0
    while True:
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


def sandbox_config(name):
    meta = fb(1, name) + fb(2, name + "-uid") + fb(3, "hutch-test") + fv(4, 0)
    nsopts = fv(1, NODE)
    linux = fb(2, fb(1, nsopts))
    if os.environ.get("CRI_CGROUP_PARENT"):
        linux = fb(1, os.environ["CRI_CGROUP_PARENT"]) + linux
    # no hostname: the kubelet sets none for host-network pods (no private UTS ns)
    return fb(1, meta) + fb(8, linux)


def call(chan, method, req):
    f = chan.unary_unary("/runtime.v1.RuntimeService/" + method,
                         request_serializer=lambda b: b,
                         response_deserializer=lambda b: b)
    return parse(f(req, timeout=60))


def main(argv):
    sock, op, args = argv[1], argv[2], argv[3:]
    chan = grpc.insecure_channel("unix://" + sock)
    if op == "run-pod":
        name, handler = args
        r = call(chan, "RunPodSandbox", fb(1, sandbox_config(name)) + fb(2, handler))
        print(r[1][0].decode())
    elif op == "create":
        pod, name, handler, image, cmd = args[0], args[1], args[2], args[3], args[4:]
        cfg = fb(1, fb(1, name)) + fb(2, fb(1, image))
        for c in cmd:
            cfg += fb(3, c)
        # the sandbox config is the pod's, as the kubelet passes it
        r = call(chan, "CreateContainer",
                 fb(1, pod) + fb(2, cfg) + fb(3, sandbox_config(pod_name(chan, pod))))
        print(r[1][0].decode())
    elif op == "start":
        call(chan, "StartContainer", fb(1, args[0]))
    elif op == "stop":
        call(chan, "StopContainer", fb(1, args[0]) + fv(2, 5))
    elif op == "rm":
        call(chan, "RemoveContainer", fb(1, args[0]))
    elif op == "status":
        st = parse(call(chan, "ContainerStatus", fb(1, args[0]))[1][0])
        state = {0: "CREATED", 1: "RUNNING", 2: "EXITED", 3: "UNKNOWN"}[st.get(3, [0])[0]]
        print(state, st.get(7, [0])[0])
    elif op == "exec":
        req = fb(1, args[0])
        for c in args[1:]:
            req += fb(2, c)
        r = call(chan, "ExecSync", req + fv(3, 30))
        sys.stdout.write(r.get(1, [b""])[0].decode())
        sys.stderr.write(r.get(2, [b""])[0].decode())
        return r.get(3, [0])[0]
    elif op == "pods-q":
        for item in call(chan, "ListPodSandbox", b"").get(1, []):
            print(parse(item)[1][0].decode())
    elif op == "stop-pod":
        call(chan, "StopPodSandbox", fb(1, args[0]))
    elif op == "rm-pod":
        call(chan, "RemovePodSandbox", fb(1, args[0]))
    else:
        raise SystemExit("cri.py: unknown operation " + op)
    return 0


def pod_name(chan, pod):
    st = parse(call(chan, "PodSandboxStatus", fb(1, pod))[1][0])
    return parse(st[2][0])[1][0].decode()  # status.metadata.name


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except grpc.RpcError as e:
        sys.stderr.write("cri.py: %s: %s\n" % (e.code().name, e.details()))
        sys.exit(1)
