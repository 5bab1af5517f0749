"""Build minidl's native modules with CMake.

Project metadata lives in pyproject.toml; this file only teaches setuptools to compile the two
extensions by running CMake (CMakeLists.txt) instead of its own compiler calls:

    minidl._C       always
    minidl._C_cuda  when CMake finds a CUDA compiler (or MINIDL_CUDA=ON); skipped otherwise

Environment variables, forwarded to CMake:
    MINIDL_CUDA=AUTO|ON|OFF      build _C_cuda when nvcc is found (AUTO, default) / always / never
    MINIDL_PORTABLE=ON           no -march=native: for wheels you move to other machines
    MINIDL_SANITIZE=ON           AddressSanitizer + UndefinedBehaviorSanitizer (see scripts/sanitize.sh)
    CMAKE_CUDA_ARCHITECTURES     e.g. "80;90" (default 90)
    CMAKE_ARGS                   any extra CMake arguments, e.g. "-DCMAKE_BUILD_TYPE=Debug"
    CMAKE_BUILD_PARALLEL_LEVEL   compile jobs (default: all cores)

The CMake build directory is build/cmake-<python>-<hash of the environment>, kept between builds
so that a rebuild after editing one .cpp recompiles only that file.
"""

import contextlib
import hashlib
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent
MODULES_LIST = "minidl_built_modules.txt"  # written by CMakeLists.txt: the modules it configured


class CMakeExtension(Extension):
    """An extension whose sources CMake knows; setuptools only needs its name."""

    def __init__(self, name, optional=False):
        super().__init__(name, sources=[], optional=optional)


def _cmake_command():
    """The cmake of the `cmake` Python package (a build requirement) when installed, else PATH's."""
    try:
        import cmake

        candidate = Path(cmake.CMAKE_BIN_DIR) / "cmake"
        if candidate.exists():
            return str(candidate)
    except (ImportError, AttributeError):
        pass
    found = shutil.which("cmake")
    if found is None:
        raise RuntimeError("building minidl needs CMake >= 3.18: pip install cmake")
    return found


def _on_off(name, default="OFF"):
    value = os.environ.get(name, default).strip().upper()
    if value in ("1", "ON", "TRUE", "YES"):
        return "ON"
    if value in ("0", "OFF", "FALSE", "NO", ""):
        return "OFF"
    raise RuntimeError(f"{name} must be ON or OFF, got {os.environ[name]!r}")


@contextlib.contextmanager
def _exclusive(lock_path):
    """Hold an exclusive lock on lock_path: two builds in one build directory at the same time
    (two terminals, an editor's and a test runner's) would overwrite each other's objects."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no locking, builds must not overlap
        yield
        return
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


class CMakeBuild(build_ext):
    def run(self):
        built = self._cmake_build()
        # A module CMake did not build (no nvcc, or MINIDL_CUDA=OFF) is left out, so setuptools
        # neither copies nor installs it.
        skipped = [ext for ext in self.extensions if ext.name.split(".")[-1] not in built]
        for ext in skipped:
            print(f"minidl: {ext.name} not built (no CUDA compiler, or MINIDL_CUDA=OFF)")
            self._remove_stale_copies(ext)
        self.extensions = [ext for ext in self.extensions if ext not in skipped]
        super().run()

    def build_extension(self, ext):
        # CMake has already compiled everything; put each module where setuptools expects it.
        built = self._module_dir / Path(self.get_ext_filename(ext.name)).name
        if not built.exists():
            raise RuntimeError(f"CMake reported {ext.name} as built but {built} does not exist")
        target = Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        self.copy_file(str(built), str(target))

    def copy_file(self, infile, outfile, *args, **kwargs):
        """Put a module in place by renaming a fresh copy over it, never by rewriting it.

        setuptools would open the existing file and overwrite its bytes; a Python process that
        has that module loaded (a test run, a notebook) would then crash, since the library's
        pages change under it. A rename gives the new module a new file and leaves the old one
        to whoever still has it open.
        """
        outfile = str(outfile)
        if os.path.isdir(outfile):
            outfile = os.path.join(outfile, os.path.basename(infile))
        partial = f"{outfile}.partial-{os.getpid()}"
        shutil.copy2(infile, partial)
        os.replace(partial, outfile)
        return outfile, True

    # -----------------------------------------------------------------------------------------

    @property
    def _build_dir(self):
        # One build directory per Python and environment: a venv and the system Python must not
        # share a CMake cache (each finds its own interpreter and pybind11).
        env_hash = hashlib.sha1(sys.prefix.encode()).hexdigest()[:8]
        return ROOT / "build" / f"cmake-{sys.implementation.cache_tag}-{env_hash}"

    @property
    def _module_dir(self):
        return self._build_dir / "modules"

    def _cmake_build(self):
        """Configure and build with CMake; returns the names of the modules it built."""
        import pybind11

        cmake = _cmake_command()
        build_dir = self._build_dir
        build_dir.mkdir(parents=True, exist_ok=True)

        configure = [
            cmake,
            "-S",
            str(ROOT),
            "-B",
            str(build_dir),
            "-DCMAKE_BUILD_TYPE=Release",
            f"-DPython_EXECUTABLE={sys.executable}",
            f"-Dpybind11_DIR={pybind11.get_cmake_dir()}",
            f"-DCMAKE_LIBRARY_OUTPUT_DIRECTORY={self._module_dir}",
            f"-DMINIDL_CUDA={os.environ.get('MINIDL_CUDA', 'AUTO').strip().upper() or 'AUTO'}",
            f"-DMINIDL_PORTABLE={_on_off('MINIDL_PORTABLE')}",
            f"-DMINIDL_SANITIZE={_on_off('MINIDL_SANITIZE')}",
        ]
        if os.environ.get("CMAKE_CUDA_ARCHITECTURES"):
            configure.append(f"-DCMAKE_CUDA_ARCHITECTURES={os.environ['CMAKE_CUDA_ARCHITECTURES']}")
        # Last, so that a -D given here wins over the defaults above.
        configure += shlex.split(os.environ.get("CMAKE_ARGS", ""))

        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL") or str(os.cpu_count() or 1)
        build = [cmake, "--build", str(build_dir), "--config", "Release", "--parallel", jobs]

        with _exclusive(build_dir / ".lock"):
            self._forget_cache_from_elsewhere(build_dir, cmake)
            (build_dir / MODULES_LIST).unlink(missing_ok=True)
            for command in (configure, build):
                print("minidl:", shlex.join(command), flush=True)
                subprocess.run(command, check=True, cwd=ROOT)
            listed = (build_dir / MODULES_LIST).read_text().strip().split(";")
        return {name.strip() for name in listed if name.strip()}

    @staticmethod
    def _forget_cache_from_elsewhere(build_dir, cmake):
        """Drop a CMake cache made for another source tree or by another cmake.

        CMake refuses a cache created for a different source directory, and an isolated pip build
        brings a fresh cmake each time; the old cache would only get in the way.
        """
        cache = build_dir / "CMakeCache.txt"
        if not cache.exists():
            return
        recorded = {}
        for line in cache.read_text(errors="replace").splitlines():
            for key in ("CMAKE_HOME_DIRECTORY", "CMAKE_COMMAND"):
                if line.startswith(key + ":"):
                    recorded[key] = line.split("=", 1)[1]
        same_source = recorded.get("CMAKE_HOME_DIRECTORY") == str(ROOT)
        same_cmake = os.path.realpath(recorded.get("CMAKE_COMMAND", "")) == os.path.realpath(cmake)
        if not (same_source and same_cmake):
            cache.unlink()
            shutil.rmtree(build_dir / "CMakeFiles", ignore_errors=True)

    def _remove_stale_copies(self, ext):
        """Delete copies of a module this build did not make, left by an earlier build that did.

        Both places matter: a wheel packs everything in build/lib, and an editable install
        imports from minidl/ in the source tree.
        """
        build_py = self.get_finalized_command("build_py")
        inplace_file, regular_file = self._get_inplace_equivalent(build_py, ext)
        stale = [regular_file] + ([inplace_file] if (self.inplace or self.editable_mode) else [])
        for path in stale:
            if os.path.exists(path):
                print(f"minidl: removing stale {path}")
                os.remove(path)


setup(
    ext_modules=[CMakeExtension("minidl._C"), CMakeExtension("minidl._C_cuda", optional=True)],
    cmdclass={"build_ext": CMakeBuild},
)
