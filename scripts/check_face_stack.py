"""Fail loudly if the face stack cannot load its models.

face_recognition_models calls quit() (exit status 0, no message) when pkg_resources is missing, which would
make a broken install look fine; run the import in a child and demand a marker line.
"""

from __future__ import annotations

import subprocess
import sys

CHILD = "import face_recognition, dlib, cv2; print('FACE_STACK_OK', dlib.__version__, cv2.__version__)"

result = subprocess.run(
    [sys.executable, "-W", "ignore", "-c", CHILD], capture_output=True, text=True, check=False
)
if "FACE_STACK_OK" not in result.stdout:
    sys.stderr.write(
        "ERROR: `import face_recognition` cannot load its models.\n"
        "Check that setuptools<82 is installed (face_recognition_models needs pkg_resources) and that\n"
        "dlib-bin and face_recognition_models are installed.\n"
        f"stdout: {result.stdout}\nstderr: {result.stderr}\n"
    )
    sys.exit(1)
print(result.stdout.strip())
