"""Find and run the Debian tools charrnn drives; a missing one is a CharrnnError naming its package."""
import shutil
import subprocess

from ..errors import CharrnnError

# Tool -> Debian package, for the one-line "install it" message.
PACKAGES = {"fluidsynth": "fluidsynth fluid-soundfont-gm", "abcm2ps": "abcm2ps", "gs": "ghostscript",
            "abc2midi": "abcmidi", "midi2abc": "abcmidi", "abc2abc": "abcmidi"}


class ToolTimeout(CharrnnError):
    """A tool ran past its time limit."""


def find_tool(name):
    """The path of a Debian tool, or a CharrnnError that says which package to install."""
    path = shutil.which(name)
    if path is None:
        pkg = PACKAGES[name]
        raise CharrnnError(f"{name} not found: install the Debian package '{pkg.split()[0]}' "
                           f"(sudo apt-get install {pkg})")
    return path


def run_tool(cmd, what, timeout=120, check=True, cwd=None):
    """Run a tool; returns (completed process, its stderr or else stdout as lines).

    ToolTimeout when it runs past `timeout` s; with check, a CharrnnError on a non-zero exit."""
    try:
        done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, errors="replace",
                              timeout=timeout, cwd=cwd)
    except subprocess.TimeoutExpired:  # e.g. FluidSynth waiting on a note that never ends
        raise ToolTimeout(f"{what} did not finish in {timeout:.0f} s") from None
    lines = (done.stderr or done.stdout).strip().splitlines()
    if check and done.returncode != 0:
        raise CharrnnError(f"{what} failed: {lines[-1] if lines else f'exit status {done.returncode}'}")
    return done, lines
