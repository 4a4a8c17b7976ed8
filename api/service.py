"""What the routes share: the answering pipelines (one per answer mode, one embedder), the
keys and rate limits, and the one index run at a time this process allows."""

from __future__ import annotations

import threading
from collections.abc import Callable

from api.config import ApiConfig
from api.keys import KeyRing, RateLimiter
from index.ingest import IndexReport
from index.uploads import reindex
from rag.config import Settings
from rag.errors import BadInputError, ConfigError, IndexNotBuiltError
from rag.pipeline import Pipeline

WARM_QUESTION = "What do the articles say?"


class Service:
    """The pipelines behind the API. `Pipeline` is thread-safe (`bench/load.py` answers from 8
    threads at once), so requests share one per mode and run in parallel, unlocked."""

    def __init__(self, settings: Settings, config: ApiConfig) -> None:
        self.settings = settings
        self.config = config
        self.keys = KeyRing(config.key_list())
        self.limiter = RateLimiter(config.rate_per_minute)
        self._pipelines: dict[str, Pipeline] = {}
        self._building = threading.Lock()
        self._indexing = threading.Lock()  # two index runs of one store would race

    def pipeline(self, mode: str | None = None) -> Pipeline:
        """The pipeline for answer `mode` (default: the settings'), built on first use."""
        key = self.settings.answer_mode
        if mode is not None and mode != key:  # "auto" may be the mode the default resolves to
            asked = self.settings.model_copy(update={"answer_mode": mode}).resolved_mode
            key = key if asked == self.settings.resolved_mode else asked
        found = self._pipelines.get(key)
        if found is not None:
            return found
        base = None if key == self.settings.answer_mode else self.pipeline()
        with self._building:
            if key not in self._pipelines:
                self._pipelines[key] = self._build(key, base)
            return self._pipelines[key]

    def _build(self, mode: str, base: Pipeline | None) -> Pipeline:
        """The default pipeline (`base` None), or one for another mode sharing its embedder."""
        if base is None:
            return Pipeline.from_settings(self.settings)
        settings = self.settings.model_copy(update={"answer_mode": mode})
        try:
            return Pipeline.from_settings(settings, embedder=base.embedder)
        except ConfigError as exc:
            raise BadInputError(f"Mode {mode!r} is not available on this server: {exc}") from None

    def warm(self) -> None:
        """Open the store and load every model an answer needs, before serving."""
        pipeline = self.pipeline()
        pipeline.corpus()
        pipeline.answer(WARM_QUESTION)

    def reindex(self, change: Callable[[], object] | None = None) -> IndexReport:
        """Make `change` to the folders (if any), then index the corpus and upload folders
        again, one run at a time; every pipeline picks up the result."""
        with self._indexing:
            if change is not None:
                change()
            try:
                embedder = self.pipeline().embedder
            except IndexNotBuiltError:  # the first article of an empty store
                embedder = None
            report = reindex(self.settings, embedder=embedder)
            for pipeline in list(self._pipelines.values()):
                pipeline.refresh()
            return report
