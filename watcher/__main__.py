"""`python -m watcher` is the same as the `watcher` command."""

from watcher.cli import run

# Guarded: a worker process started with "spawn" (watcher.prepare) imports the parent's main module.
if __name__ == "__main__":
    run()
