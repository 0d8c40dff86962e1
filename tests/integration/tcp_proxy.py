#!/usr/bin/env python3
"""A tiny TCP load balancer for the rolling-restart suite.

    tcp_proxy.py LISTEN_PORT BACKEND_PORT...

Each client connection goes to the next backend in turn; a backend that
refuses the connection (restarting: its listening socket is closed) is
skipped for the next one, as haproxy's redispatch does. Bytes are copied
both ways; when either side closes, so does the other. No HTTP knowledge:
whatever fails, fails in front of the client.
"""
import asyncio
import itertools
import sys

listen_port = int(sys.argv[1])
backends = [int(p) for p in sys.argv[2:]]
turn = itertools.cycle(range(len(backends)))


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def handle(creader, cwriter):
    first = next(turn)
    for i in range(len(backends)):
        port = backends[(first + i) % len(backends)]
        try:
            breader, bwriter = await asyncio.open_connection("127.0.0.1", port)
            break
        except OSError:
            continue
    else:
        cwriter.close()
        return
    await asyncio.gather(pipe(creader, bwriter), pipe(breader, cwriter))


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", listen_port, backlog=512)
    async with server:
        await server.serve_forever()

asyncio.run(main())
