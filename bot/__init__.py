"""The Telegram side of Nashra: settings, command handlers, the CLI and the long-running application."""

import os

# python-telegram-bot 22 returns time spans (RetryAfter.retry_after and the like) as ints with a
# deprecation warning on every one it builds, unless PTB_TIMEDELTA opts in to timedelta. The test
# suite runs with it set and the code handles both forms; setting it here makes production behave as
# tested and keeps a warning off the operator's log at every flood wait. An explicit value wins.
os.environ.setdefault("PTB_TIMEDELTA", "1")
