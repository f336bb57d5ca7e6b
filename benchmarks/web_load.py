"""Load on the web app: many people posting diary records and opening their dashboard at once.

For each database (SQLite by default; PostgreSQL too with ``--postgres-url`` or
``ATTUNEMENT_TEST_DATABASE_URL``), three real uvicorn servers run on loopback from the start:
the app, a bare ASGI app and a plain FastAPI app. ``--clients`` concurrent clients (each its
own account, cookie and CSRF token) then load them, ``--duration`` seconds per phase:

1. ``mixed``: every client alternately posts an interaction record (``POST /api/interactions``:
   validated, scored with the interaction instrument, access-checked, stored) and loads its
   relationship's dashboard page (``GET /dashboard/{id}``);
2. ``paced``: the same clients send requests on a fixed schedule, ``--rate`` per second in
   all (half diary posts, half dashboards), whatever the answers' speed. Latency counts from
   the moment a request was due, so a server that falls behind cannot hide it;
3. in ``--rounds`` turns of duration / rounds seconds each (this machine's speed drifts, and
   the ratio must compare like with like):
   ``diary``: every client only posts interaction records to the app;
   ``bare``: the same JSON to the bare ASGI app (no framework, no session, no validation, no
   scoring), which does the single INSERT of an interaction row through the app's writer
   settings, in a worker thread as FastAPI does;
   ``fastapi``: the same insert in one plain FastAPI route (no middleware), which shows how
   much of the gap between the app and the bare route is the framework's own;
4. ``paced`` again, against the bare route.

It prints throughput and p50/p99 latency per phase and request kind, the server's CPU time per
request, and the ratio of the app's diary throughput to the bare route's, overall and per
round (the aims: p99 under 100 ms, ratio at least 0.6). In the saturated phases each client
sends its next request the moment the last is answered, so the server is always saturated
and, by Little's law, the mean latency is simply clients / throughput (50 clients at 500
requests/s: 100 ms): latency is judged in the paced phase, throughput in the others.

    python benchmarks/web_load.py                      # 30 s per phase, 50 clients, SQLite
    python benchmarks/web_load.py --duration 6 --clients 10 --rate 50
    python benchmarks/web_load.py --postgres-url postgresql://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx

RESPONSES = {f"interaction_{n}": (n % 7) + 1 for n in range(1, 9)}
PASSWORD = "benchmark passphrase 1"


# -- the servers (run in a subprocess: the load generator must not share their GIL) -----------


def single_insert(database_url: str) -> tuple[Any, Callable[[dict[str, Any]], int]]:
    """The engine (the app's writer settings) and a function storing one interaction row."""
    import sqlalchemy as sa

    from attunement.store.engine import open_database
    from attunement.store.models import Channel, Interaction, RecordSource
    from attunement.store.types import utcnow

    engine = open_database(database_url).engine  # the app's writer: the same pool settings
    table = Interaction.__table__

    def insert(data: dict[str, Any]) -> int:
        now = utcnow()
        statement = (
            sa.insert(table)
            .values(
                person_id=data["person_id"],
                relationship_id=data["relationship_id"],
                occurred_at=now,
                duration_minutes=data.get("duration_minutes"),
                channel=Channel(data["channel"]),
                instrument_version="bare",
                responses=data.get("responses", {}),
                scores={},
                note=data.get("note"),
                note_shared=False,
                shared=True,
                source=RecordSource.APP,
                created_at=now,
            )
            .returning(table.c.id)
        )
        with engine.begin() as connection:
            return int(connection.execute(statement).scalar_one())

    return engine, insert


def bare_app(database_url: str) -> Any:
    """An ASGI app that stores one interaction row per POST, nothing more."""
    import anyio

    engine, insert = single_insert(database_url)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    engine.dispose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["method"] == "GET":  # the readiness probe
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        new_id = await anyio.to_thread.run_sync(insert, json.loads(body))
        payload = json.dumps({"id": new_id}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 201,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    return app


def framework_app(database_url: str) -> Any:
    """A FastAPI app with one plain route doing the same single insert: FastAPI's own cost,
    without sessions, CSRF, validation, access checks or scoring."""
    from fastapi import Body, FastAPI
    from fastapi.responses import JSONResponse

    engine, insert = single_insert(database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(lifespan=lifespan)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/bare")
    def bare(data: dict[str, Any] = Body(...)) -> JSONResponse:  # noqa: B008
        return JSONResponse({"id": insert(data)}, status_code=201)

    return app


def serve(kind: str, database_url: str, port: int, data_dir: str) -> None:
    """Run the app (``kind="app"``) or the bare route under uvicorn until killed."""
    import logging

    import uvicorn

    from attunement.settings import Settings
    from attunement.web import create_app
    from attunement.web.mail import ConsoleMailer

    logging.disable(logging.WARNING)
    if kind == "app":
        settings = Settings(
            environment="test",
            database_url=database_url,
            data_dir=Path(data_dir),
            secret_key="benchmark-secret-key-0123456789-abcdefghij",
        )
        app = create_app(settings, mailer=ConsoleMailer(), freeze_after_start=True)
    else:
        import gc

        app = bare_app(database_url) if kind == "bare" else framework_app(database_url)
        gc.collect()
        gc.freeze()  # as the app does once started (attunement serve)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_level="error",
        access_log=False,
        timeout_keep_alive=60,
    )


# -- the load ---------------------------------------------------------------------------------


@dataclass
class Client:
    http: httpx.AsyncClient
    token: str
    person_id: int
    relationship_id: int


class Step(Protocol):
    def __call__(
        self, client: Client, turn: int, timings: Timings, due: float | None = None
    ) -> Awaitable[None]: ...


@dataclass
class Timings:
    by_kind: dict[str, list[float]] = field(default_factory=dict)
    errors: int = 0

    def add(self, kind: str, seconds: float) -> None:
        self.by_kind.setdefault(kind, []).append(seconds)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    kind: str, database_url: str, data_dir: str
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    code = (
        "import sys; sys.path.insert(0, 'benchmarks'); import web_load; "
        f"web_load.serve({kind!r}, {database_url!r}, {port}, {data_dir!r})"
    )
    process = subprocess.Popen([sys.executable, "-c", code], cwd=Path(__file__).parent.parent)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/health", timeout=1)
            return process, base
        except httpx.TransportError:
            if process.poll() is not None:
                raise RuntimeError(f"the {kind} server exited") from None
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the {kind} server did not start")


async def new_client(base: str, index: int) -> Client:
    http = httpx.AsyncClient(base_url=base, timeout=60)
    token = (await http.get("/api/csrf")).json()["csrf_token"]
    headers = {"X-CSRF-Token": token}
    account = {
        "email": f"load{index}-{uuid.uuid4().hex[:6]}@example.org",
        "display_name": f"Client {index}",
        "password": PASSWORD,
    }
    created = await http.post("/api/accounts", json=account, headers=headers)
    if created.status_code != 201:
        raise RuntimeError(f"sign-up failed: {created.status_code} {created.text[:300]}")
    me = created.json()
    token = (await http.get("/api/csrf")).json()["csrf_token"]
    headers = {"X-CSRF-Token": token}
    relationship = await http.post(
        "/api/relationships", json={"type": "friend", "role": "friend"}, headers=headers
    )
    return Client(http, token, me["id"], relationship.json()["id"])


async def run_phase(clients: list[Client], duration: float, step: Step) -> tuple[Timings, float]:
    timings = Timings()
    stop = time.perf_counter() + duration

    async def loop(client: Client) -> None:
        turn = 0
        while time.perf_counter() < stop:
            await step(client, turn, timings)
            turn += 1

    started = time.perf_counter()
    await asyncio.gather(*(loop(client) for client in clients))
    return timings, time.perf_counter() - started


async def timed(
    timings: Timings,
    kind: str,
    request: Awaitable[httpx.Response],
    ok: int,
    due: float | None = None,
) -> None:
    started = time.perf_counter() if due is None else due
    try:
        response = await request
    except httpx.TransportError:  # a dropped keep-alive connection: counted, not fatal
        timings.errors += 1
        return
    elapsed = time.perf_counter() - started
    if response.status_code != ok:
        timings.errors += 1
    timings.add(kind, elapsed)


def diary_body(client: Client) -> dict[str, Any]:
    return {
        "relationship_id": client.relationship_id,
        "person_id": client.person_id,
        "channel": "phone",
        "duration_minutes": 15,
        "responses": RESPONSES,
        "note": "a short private note",
    }


async def post_diary(client: Client, turn: int, timings: Timings, due: float | None = None) -> None:
    body = diary_body(client)
    body.pop("person_id")
    headers = {"X-CSRF-Token": client.token}
    request = client.http.post("/api/interactions", json=body, headers=headers)
    await timed(timings, "diary", request, 201, due)


async def mixed(client: Client, turn: int, timings: Timings, due: float | None = None) -> None:
    if turn % 2 == 0:
        await post_diary(client, turn, timings, due)
    else:
        path = f"/dashboard/{client.relationship_id}"
        await timed(timings, "dashboard", client.http.get(path), 200, due)


def bare_step(base: str) -> Step:
    async def step(client: Client, turn: int, timings: Timings, due: float | None = None) -> None:
        body = diary_body(client)
        await timed(timings, "insert", client.http.post(f"{base}/bare", json=body), 201, due)

    return step


async def run_paced(
    clients: list[Client], duration: float, rate: float, step: Step
) -> tuple[Timings, float]:
    """Requests due at a fixed rate (open loop), spread over the clients in turn."""
    timings = Timings()
    count = max(1, int(duration * rate))
    start = time.perf_counter() + 0.1

    async def one(k: int) -> None:
        due = start + k / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        await step(clients[k % len(clients)], k // len(clients), timings, due)

    await asyncio.gather(*(one(k) for k in range(count)))
    return timings, time.perf_counter() - start


def cpu_seconds(process: subprocess.Popen[bytes]) -> float | None:
    """CPU time (user + system) the server has used so far (Linux; None elsewhere)."""
    try:
        fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def report(
    database: str,
    phase: str,
    timings: Timings,
    elapsed: float,
    cpu: tuple[float | None, float | None] = (None, None),
) -> float:
    total = sum(len(v) for v in timings.by_kind.values())
    for kind, values in sorted(timings.by_kind.items()):
        cuts = (
            statistics.quantiles(values, n=100, method="inclusive")
            if len(values) > 1
            else values * 99
        )
        print(
            f"{database:<10} {phase:<7} {kind:<10} {len(values):>7} "
            f"{len(values) / elapsed:>9.1f} {cuts[49] * 1000:>8.1f} {cuts[98] * 1000:>8.1f}"
        )
    before, after = cpu
    if before is not None and after is not None and total:
        print(f"{'':<10} {phase:<7} server CPU {(after - before) / total * 1000:.2f} ms/request")
    if timings.errors:
        print(f"{'':<10} {phase:<7} {timings.errors} responses had an unexpected status")
    return total / elapsed


class CollectorPauses:
    """The load generator's own garbage-collection pauses.

    While the generator collects, it neither sends nor reads answers, and every request due
    meanwhile is timed as if the server had been slow. So everything made before a phase is
    frozen out of the collector's reach (it then looks only at what the phase makes), and the
    longest pause that remains is reported beside the latencies.
    """

    def __init__(self) -> None:
        self.longest = 0.0
        self._started = 0.0
        gc.callbacks.append(self._observe)

    def _observe(self, phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.longest = max(self.longest, time.perf_counter() - self._started)

    def before_phase(self) -> None:
        gc.collect()
        gc.freeze()
        self.longest = 0.0


PAUSES = CollectorPauses()


@dataclass
class Tally:
    """One kind of load measured over several rounds: its answers, time and server CPU."""

    timings: Timings = field(default_factory=Timings)
    elapsed: float = 0.0
    cpu: float | None = 0.0
    rates: list[float] = field(default_factory=list)
    longest_generator_pause: float = 0.0

    async def run(
        self, server: subprocess.Popen[bytes], load: Awaitable[tuple[Timings, float]]
    ) -> None:
        PAUSES.before_phase()
        before = cpu_seconds(server)
        timings, elapsed = await load
        after = cpu_seconds(server)
        self.longest_generator_pause = max(self.longest_generator_pause, PAUSES.longest)
        self.cpu = (
            None
            if before is None or after is None or self.cpu is None
            else (self.cpu + after - before)
        )
        for kind, values in timings.by_kind.items():
            self.timings.by_kind.setdefault(kind, []).extend(values)
        self.timings.errors += timings.errors
        self.elapsed += elapsed
        self.rates.append(sum(len(v) for v in timings.by_kind.values()) / elapsed)

    def report(self, database: str, phase: str) -> float:
        return report(database, phase, self.timings, self.elapsed, (0.0, self.cpu))


def p99(timings: Timings) -> float:
    values = [v for kind in timings.by_kind.values() for v in kind]
    return statistics.quantiles(values, n=100, method="inclusive")[98] if len(values) > 1 else 0


async def bench_database(
    name: str, url: str, duration: float, count: int, rate: float, rounds: int
) -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        # All three servers run from the start, and the saturated phases alternate in rounds:
        # this machine's speed drifts, and the ratio must compare like with like.
        servers = {kind: start_server(kind, url, data_dir) for kind in ("app", "bare", "framework")}
        (app, base), (bare, bare_base), (plain, plain_base) = servers.values()
        clients: list[Client] = []
        try:
            # Accounts are made a few at a time: sign-up is not what is measured.
            gate = asyncio.Semaphore(4)

            async def gated(index: int) -> Client:
                async with gate:
                    return await new_client(base, index)

            clients = list(await asyncio.gather(*(gated(i) for i in range(count))))
            mixed_tally = Tally()
            await mixed_tally.run(app, run_phase(clients, duration, mixed))
            mixed_tally.report(name, "mixed")
            paced_app = Tally()
            await paced_app.run(app, run_paced(clients, duration, rate, mixed))
            paced_app.report(name, "paced")
            tallies = {"diary": Tally(), "bare": Tally(), "fastapi": Tally()}
            loads: dict[str, tuple[subprocess.Popen[bytes], Step]] = {
                "diary": (app, post_diary),
                "bare": (bare, bare_step(bare_base)),
                "fastapi": (plain, bare_step(plain_base)),
            }
            for _round in range(rounds):
                for phase, (server, step) in loads.items():
                    await tallies[phase].run(server, run_phase(clients, duration / rounds, step))
            for phase, tally in tallies.items():
                tally.report(name, phase)
            paced_bare = Tally()
            await paced_bare.run(bare, run_paced(clients, duration, rate, bare_step(bare_base)))
            paced_bare.report(name, "paced")
        finally:
            await asyncio.gather(*(client.http.aclose() for client in clients))
            for process, _base in servers.values():
                process.terminate()
                process.wait(timeout=30)
    diary, bare_tally, plain_tally = tallies["diary"], tallies["bare"], tallies["fastapi"]

    def ratio(a: Tally, b: Tally) -> str:
        each = " ".join(f"{x / y:.2f}" for x, y in zip(a.rates, b.rates, strict=True))
        overall = (len_of(a) / a.elapsed) / (len_of(b) / b.elapsed)
        return f"{overall:.2f} (rounds: {each})"

    print(f"{name:<10} ratio   app diary / bare insert throughput = {ratio(diary, bare_tally)}")
    print(
        f"{name:<10} ratio   plain FastAPI route / bare insert throughput = "
        f"{ratio(plain_tally, bare_tally)} (the framework's own share of the gap)"
    )
    print(
        f"{name:<10} paced   app p99 at {rate:g} requests/s = "
        f"{p99(paced_app.timings) * 1000:.1f} ms (aim: under 100 ms; the load generator's "
        f"own longest GC pause in that phase: {paced_app.longest_generator_pause * 1000:.1f} ms)"
    )


def len_of(tally: Tally) -> int:
    return sum(len(v) for v in tally.timings.by_kind.values())


def sqlite_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'bench.sqlite3'}"


def postgres_database(admin_url: str) -> tuple[str, Callable[[], None]]:
    """A fresh PostgreSQL database for the run, and a function that drops it."""
    from sqlalchemy.engine import make_url

    from attunement.store import create_engine_from_url

    name = f"attunement_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine_from_url(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    return url, drop


def use_fast_event_loop() -> None:
    """Run the load generator on uvloop where installed (it is a dependency of the app): the
    generator shares the machine with the servers, and what it spends they cannot use."""
    try:
        import uvloop
    except ImportError:  # Windows: the standard loop
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per phase")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    parser.add_argument(
        "--rate",
        type=float,
        default=100.0,
        help="requests per second in all in the paced phase (default 100: each of 50 people "
        "every half second)",
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("ATTUNEMENT_TEST_DATABASE_URL"),
        help="an administrative PostgreSQL URL (a database is created and dropped)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="the app, the bare route and the plain FastAPI route take turns this many times, "
        "each for duration / rounds seconds (default 3)",
    )
    parser.add_argument("--skip-sqlite", action="store_true", help="only PostgreSQL")
    args = parser.parse_args()
    use_fast_event_loop()
    print(
        f"{args.clients} clients, {args.duration:g} s per phase, paced at {args.rate:g}/s, "
        "loopback, one server process\n"
        f"{'database':<10} {'phase':<7} {'request':<10} {'count':>7} {'req/s':>9} "
        f"{'p50 ms':>8} {'p99 ms':>8}"
    )
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as folder:
            url = sqlite_url(Path(folder))
            asyncio.run(
                bench_database("sqlite", url, args.duration, args.clients, args.rate, args.rounds)
            )
    if args.postgres_url:
        url, drop = postgres_database(args.postgres_url)
        try:
            asyncio.run(
                bench_database("postgres", url, args.duration, args.clients, args.rate, args.rounds)
            )
        finally:
            drop()
    else:
        print("postgres   skipped: give --postgres-url or set ATTUNEMENT_TEST_DATABASE_URL")


if __name__ == "__main__":
    main()
