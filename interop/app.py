"""The "last visited" demo on the real aiohttp-session 2.12.1, with the flags of our `last_visit`.

    python interop/app.py --storage encrypted --secret-key <base64 key> --port 0

It prints "Serving on http://<host>:<port>" first, as our `last_visit` does, so one driver runs both.
"""

import argparse
import asyncio
import base64
import sys
import time

from aiohttp import web
from aiohttp_session import SimpleCookieStorage, get_session, setup


async def index(request):
    session = await get_session(request)
    last_visit = session["last_visit"] if "last_visit" in session else None
    session["last_visit"] = time.time()
    return web.Response(text="Last visited: {}".format(last_visit))


async def peek(request):
    session = await get_session(request)
    last_visit = session["last_visit"] if "last_visit" in session else None
    return web.Response(text="Last visited: {}".format(last_visit))


async def logout(request):
    session = await get_session(request)
    session.invalidate()
    return web.Response(text="Logged out")


def storage(args):
    params = {"cookie_name": args.cookie_name, "max_age": args.max_age}
    if args.storage == "simple":
        return SimpleCookieStorage(**params)
    if args.storage == "encrypted":
        from aiohttp_session.cookie_storage import EncryptedCookieStorage

        return EncryptedCookieStorage(args.secret_key, **params)
    if args.storage == "nacl":
        from aiohttp_session.nacl_storage import NaClCookieStorage

        return NaClCookieStorage(base64.urlsafe_b64decode(args.secret_key), **params)
    if args.storage == "redis":
        from redis import asyncio as aioredis
        from aiohttp_session.redis_storage import RedisStorage

        return RedisStorage(aioredis.from_url(args.redis_url), **params)
    if args.storage == "memcached":
        import aiomcache
        from aiohttp_session.memcached_storage import MemcachedStorage

        host, port = args.memcached.rsplit(":", 1)
        return MemcachedStorage(aiomcache.Client(host, int(port)), **params)
    raise SystemExit("unknown storage " + args.storage)


async def serve(args):
    app = web.Application()
    setup(app, storage(args))
    app.router.add_get("/", index)
    app.router.add_get("/peek", peek)
    app.router.add_get("/logout", logout)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, args.host, args.port)
    await site.start()
    host, port = site._server.sockets[0].getsockname()[:2]
    print("Serving on http://{}:{}".format(host, port), flush=True)
    await asyncio.Event().wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--storage", default="encrypted", choices=["simple", "encrypted", "nacl", "redis", "memcached"])
    parser.add_argument("--secret-key")
    parser.add_argument("--cookie-name", default="AIOHTTP_SESSION")
    parser.add_argument("--max-age", type=int)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379")
    parser.add_argument("--memcached", default="127.0.0.1:11211")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    if args.storage in ("encrypted", "nacl") and not args.secret_key:
        raise SystemExit("--secret-key is required for " + args.storage)
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
