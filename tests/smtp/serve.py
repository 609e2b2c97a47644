"""aiosmtpd delivering into the maildir given as argument, on a loopback port the kernel picks.

Prints the port on the first line of stdout once listening, then serves until killed. (`python -m
aiosmtpd -l HOST:PORT` needs the port up front, and finding a free one from outside means binding and
releasing it, which races with every other process looking for a free port.) The SMTP settings are
aiosmtpd's defaults, as with `python -m aiosmtpd -n -c aiosmtpd.handlers.Mailbox MAILDIR`.
"""

import asyncio
import sys

from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import SMTP


async def main(maildir: str) -> None:
    handler = Mailbox(maildir)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler), host="127.0.0.1", port=0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


asyncio.run(main(sys.argv[1]))
