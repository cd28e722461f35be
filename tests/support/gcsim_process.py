"""Shared by the test drivers that start gcsim: the bounded wait for its port file."""
import time


def wait_for_port(proc, port_file, timeout):
    """Polls until gcsim (the Popen `proc`) has written its port to `port_file`. Returns the port,
    or None when gcsim exited or `timeout` seconds passed; the caller tells which by proc.poll().
    Polling a file is the only signal gcsim gives before it serves, so this is not a sleep used as
    synchronisation: every iteration checks the real condition, and the loop is bounded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return None
        try:
            with open(port_file) as f:
                text = f.read().strip()
            if text:
                return int(text)
        except (FileNotFoundError, ValueError):
            pass
        time.sleep(0.02)
    return None
