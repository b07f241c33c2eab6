"""The Python part of the Debian session (userland/debian/session.sh runs it): Debian's
python3 with subprocess, json, hashlib, threading and asyncio. It prints only what is the
same on every correct kernel and every run; a line starting with FAIL is a failure."""

import asyncio
import hashlib
import json
import os
import queue
import socket
import subprocess
import sys
import threading


def check(what, condition):
    print(("ok " if condition else "FAIL ") + what, flush=True)


def section(name):
    print("== python: " + name, flush=True)


def run_subprocess():
    section("subprocess")
    sorted_out = subprocess.run(
        ["sort"], input="pear\napple\nfig\n", capture_output=True, text=True, check=True
    )
    print("sort:", sorted_out.stdout.split())
    digest = subprocess.check_output(["sha256sum"], input=b"debian\n").split()[0]
    print("sha256sum:", digest.decode())
    failed = subprocess.run(["sh", "-c", "echo to-stderr >&2; exit 5"], capture_output=True)
    print("status", failed.returncode, "stderr", failed.stderr.decode().strip())
    shell = subprocess.run("echo $((6 * 7)) | tr 4 X", shell=True, capture_output=True, text=True)
    print("shell:", shell.stdout.strip())
    pipeline = subprocess.Popen(["seq", "1", "1000"], stdout=subprocess.PIPE)
    counted = subprocess.run(["wc", "-l"], stdin=pipeline.stdout, capture_output=True, text=True)
    pipeline.stdout.close()
    print("pipeline lines:", counted.stdout.strip(), "seq status", pipeline.wait())
    try:
        subprocess.run(["sleep", "10"], timeout=0.5)
        check("subprocess timeout", False)
    except subprocess.TimeoutExpired:
        check("subprocess timeout kills the child", True)
    try:
        subprocess.run(["/nonexistent/program"])
    except FileNotFoundError as error:
        print("missing program:", type(error).__name__, error.errno)


def run_json():
    section("json")
    data = {"name": "Debian", "version": 12, "tags": ["stable", "bookworm"], "pi": 3.25,
            "nested": {"empty": [], "none": None, "yes": True}, "text": "caf\u00e9 \u2713"}
    text = json.dumps(data, sort_keys=True)
    print(text)
    print("ascii off:", json.dumps(data["text"], ensure_ascii=False))
    check("json round trip", json.loads(text) == data)
    path = "/tmp/session/data.json"
    with open(path, "w") as f:
        json.dump(data, f, indent=2, sort_keys=True)
    with open(path) as f:
        check("json through a file", json.load(f) == data)
    print("indented lines:", sum(1 for _ in open(path)))
    try:
        json.loads("{bad json}")
    except json.JSONDecodeError as error:
        print("decode error at column", error.colno)


def run_hashlib():
    section("hashlib")
    data = b"The quick brown fox jumps over the lazy dog"
    for name in ["md5", "sha1", "sha256", "sha512", "blake2b", "sha3_256"]:
        print(name, hashlib.new(name, data).hexdigest()[:32])
    big = hashlib.sha256()
    for i in range(1000):
        big.update(str(i).encode())
    print("incremental sha256", big.hexdigest())
    print("pbkdf2", hashlib.pbkdf2_hmac("sha256", b"password", b"salt", 1000).hex()[:32])
    with open("/tmp/session/numbers.txt", "rb") as f:
        print("file sha256", hashlib.file_digest(f, "sha256").hexdigest())


def run_threading():
    section("threading")
    lock = threading.Lock()
    total = [0]
    results = queue.Queue()

    def worker(n):
        local = sum(range(n * 10000, (n + 1) * 10000))
        with lock:
            total[0] += local
        results.put((n, local % 1000))

    threads = [threading.Thread(target=worker, args=(n,), name=f"worker-{n}") for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("total", total[0], "expected", sum(range(80000)))
    print("results", sorted(results.get() for _ in range(8)))
    barrier = threading.Barrier(4)
    event = threading.Event()
    passed = []

    def waiter(n):
        barrier.wait()
        event.wait(5)
        with lock:
            passed.append(n)

    waiters = [threading.Thread(target=waiter, args=(n,)) for n in range(3)]
    for t in waiters:
        t.start()
    barrier.wait()
    event.set()
    for t in waiters:
        t.join()
    print("passed the barrier and the event:", sorted(passed))
    condition = threading.Condition()
    items = []

    def producer():
        for i in range(5):
            with condition:
                items.append(i)
                condition.notify()

    consumer_got = []
    p = threading.Thread(target=producer)
    p.start()
    while len(consumer_got) < 5:
        with condition:
            condition.wait_for(lambda: items, timeout=5)
            consumer_got.extend(items)
            items.clear()
    p.join()
    print("condition:", consumer_got)
    timer_fired = threading.Event()
    threading.Timer(0.1, timer_fired.set).start()
    check("a timer thread fires", timer_fired.wait(5))
    print("threads alive after the joins:", threading.active_count())


async def echo_server(reader, writer):
    data = await reader.readline()
    writer.write(data.upper())
    await writer.drain()
    writer.close()


async def asyncio_main():
    async def square(n):
        await asyncio.sleep(0.01 * (5 - n))
        return n * n

    print("gather", await asyncio.gather(*(square(n) for n in range(5))))
    done_order = []

    async def tagged(n):
        await asyncio.sleep(0.02 * n)
        done_order.append(n)

    await asyncio.wait([asyncio.create_task(tagged(n)) for n in (3, 1, 2)])
    print("completion order", done_order)
    try:
        await asyncio.wait_for(asyncio.sleep(10), timeout=0.1)
    except asyncio.TimeoutError:
        print("wait_for timed out")
    proc = await asyncio.create_subprocess_exec(
        "sh", "-c", "read line; echo got $line", stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate(b"hello\n")
    print("subprocess:", out.decode().strip(), "status", proc.returncode)
    server_sock, client_sock = socket.socketpair()
    server = asyncio.create_task(
        echo_server(*await asyncio.open_connection(sock=server_sock)))
    reader, writer = await asyncio.open_connection(sock=client_sock)
    writer.write(b"over a socketpair\n")
    await writer.drain()
    print("stream:", (await reader.readline()).decode().strip())
    writer.close()
    await server
    queue_ = asyncio.Queue()

    async def produce():
        for i in range(3):
            await queue_.put(i)
        await queue_.put(None)

    async def consume():
        got = []
        while (item := await queue_.get()) is not None:
            got.append(item)
        return got

    _, consumed = await asyncio.gather(produce(), consume())
    print("queue", consumed)
    loop = asyncio.get_running_loop()
    print("run_in_executor", await loop.run_in_executor(None, sum, range(100)))


def run_asyncio():
    section("asyncio")
    asyncio.run(asyncio_main())
    loop = asyncio.new_event_loop()
    print("event loop:", type(loop._selector).__name__)
    loop.close()


def main():
    print("python", sys.version_info[0], sys.version_info[1], os.uname().sysname, flush=True)
    run_subprocess()
    run_json()
    run_hashlib()
    run_threading()
    run_asyncio()
    print("== python: done", flush=True)


main()
