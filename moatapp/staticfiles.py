"""Static files: plotly.js from the installed plotly package, and the storage that names
every file by its content's hash once `collectstatic` has run.

htmx comes from the installed django-htmx package (its app static folder, through the
app-directories finder) and plotly.js through PlotlyFinder below: nothing is fetched.
"""

import os
from pathlib import Path

import plotly
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.finders import BaseFinder
from django.contrib.staticfiles.storage import StaticFilesStorage
from django.core.files import File
from django.core.files.storage import FileSystemStorage
from whitenoise.storage import CompressedManifestStaticFilesStorage

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
STATIC_NAME = "vendor/plotly.min.js"


class PlotlyFinder(BaseFinder):
    """Exposes that one file only: the package folder also holds bundles and data sets."""

    def check(self, **kwargs):
        return []

    def find(self, path, find_all=False, **kwargs):
        if path != STATIC_NAME:
            return []  # not None: staticfiles.finders.find() reads a None as a match
        return [str(PLOTLY_JS)] if find_all else str(PLOTLY_JS)

    def list(self, ignore_patterns):
        storage = FileSystemStorage(location=str(PLOTLY_JS.parent))
        storage.prefix = "vendor"  # collectstatic places the file under this folder
        yield PLOTLY_JS.name, storage


class CollectedFinder(BaseFinder):
    """Finds the hashed copies collectstatic made, for servers that serve static files through
    the finders (Django's test live server; WhiteNoise with WHITENOISE_USE_FINDERS), since
    StaticStorage links those names. Lists nothing, so collectstatic never collects them again.
    """

    def check(self, **kwargs):
        return []

    def find(self, path, find_all=False, **kwargs):
        from django.contrib.staticfiles.storage import staticfiles_storage

        if path not in set(getattr(staticfiles_storage, "hashed_files", {}).values()):
            return []
        found = staticfiles_storage.path(path)
        if not os.path.exists(found):
            return []
        return [found] if find_all else found

    def list(self, ignore_patterns):
        return []


class StaticStorage(CompressedManifestStaticFilesStorage):
    """Hashed names (cached for ever by WhiteNoise) and gzip/brotli copies from collectstatic.

    A page links a file by its hashed name whenever the collected copy is current, in DEBUG
    too, so `make run` serves what production serves. A file not collected yet, or edited
    since, is linked by its plain name and served fresh from its source by the finders
    (WHITENOISE_USE_FINDERS): the app runs without collectstatic, and an edit shows at once.
    """

    def url(self, name, force=False):
        if self._collected_copy_is_current(name):
            return super().url(name, force=True)
        return StaticFilesStorage.url(self, name)

    def compress_files(self, paths):
        # A hashed name's content never changes, so copies an earlier run compressed are kept:
        # `make run` does not brotli plotly.js (4.8 MB, most of a minute) on every start.
        fresh = [p for p in paths if not (self.exists(p + ".br") and self.exists(p + ".gz"))]
        yield from super().compress_files(fresh)

    def _collected_copy_is_current(self, name: str) -> bool:
        hashed = self.hashed_files.get(self.hash_key(self.clean_name(name)))
        if not hashed:
            return False
        source = finders.find(name)
        if not source:
            return True
        try:
            stat, collected = os.stat(source), os.stat(self.path(hashed))
        except OSError:
            return False
        if stat.st_mtime <= collected.st_mtime:
            return True
        # Touched since (a checkout, say) but perhaps not changed: compare the content's hash,
        # once per version of the source.
        key = (source, stat.st_mtime_ns, stat.st_size)
        if key not in _same_content:
            with open(source, "rb") as f:
                _same_content[key] = self.hashed_name(name, File(f)) == hashed
        return _same_content[key]


# (source path, mtime, size) -> whether its collected copy has the same content.
_same_content: dict[tuple[str, int, int], bool] = {}
