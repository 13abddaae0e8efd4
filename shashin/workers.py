"""Worker processes for decoding: started only when a batch is worth them, replaced when one dies."""

import collections
import itertools
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

#: Chunks in flight per worker: enough that a slow photo at the head (a 100 MP PNG takes
#: seconds) leaves the other workers busy, few enough that re-running them one by one after
#: a worker died takes seconds, not minutes.
WINDOW_PER_JOB = 64


class Workers:
    """A process pool started on the first batch of at least ``inline_below`` items.

    Smaller batches, and everything when ``jobs`` is 1, run in this process after
    ``initializer(*initargs)``, so a rescan with nothing to decode starts no process.
    Use as a context manager; results come back in input order, as they come.

    A worker that dies (killed by the kernel's out-of-memory killer, or crashing in a
    decoder) does not stop the run: the items in flight are run again one at a time on
    fresh workers, and an item whose worker dies again gets ``died(item)`` as its result.

    The default start method, forkserver, keeps this process's ImageMagick state and
    SQLite connections out of the workers; "fork" starts them in milliseconds instead of a
    fresh interpreter's 0.2 s, for a caller that has loaded neither and runs nothing inline
    (``inline_below=0``).
    """

    def __init__(self, jobs, initializer, initargs=(), *, died, inline_below=4, chunksize=1, start_method="forkserver"):
        self.jobs, self.initializer, self.initargs, self.died = jobs, initializer, initargs, died
        self.inline_below, self.chunksize, self.start_method = inline_below, chunksize, start_method
        self.executor, self.initialized_here = None, False

    def map(self, function, items):
        if self.executor is None and (self.jobs == 1 or len(items) < self.inline_below):
            if not self.initialized_here:
                self.initializer(*self.initargs)
                self.initialized_here = True
            return map(function, items)
        return self._supervised(function, items)

    def _supervised(self, function, items):
        chunks = (items[start : start + self.chunksize] for start in range(0, len(items), self.chunksize))
        window = collections.deque()
        while True:
            for chunk in itertools.islice(chunks, WINDOW_PER_JOB * self.jobs - len(window)):
                window.append((chunk, self._started().submit(_apply, function, chunk)))
            if not window:
                return
            chunk, future = window.popleft()
            try:
                yield from future.result()
            except BrokenProcessPool:
                self._discard()
                yield from (self._alone(function, item) for item in chunk)
                for chunk, future in window:
                    if future.done() and future.exception() is None:
                        yield from future.result()
                    else:
                        yield from (self._alone(function, item) for item in chunk)
                window.clear()

    def _alone(self, function, item):
        try:
            return self._started().submit(function, item).result()
        except BrokenProcessPool:
            self._discard()
            return self.died(item)

    def _started(self):
        if self.executor is None:
            self.executor = ProcessPoolExecutor(
                self.jobs,
                mp_context=multiprocessing.get_context(self.start_method),
                initializer=self.initializer,
                initargs=self.initargs,
            )
        return self.executor

    def _discard(self):
        # Waits for the broken pool's threads, so that no thread is running when the next pool forks.
        self.executor.shutdown(wait=True)
        self.executor = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.executor is not None:
            # Cancelled: after an interruption nobody wants the photos still waiting in the window.
            self.executor.shutdown(wait=True, cancel_futures=True)


def _apply(function, chunk):
    return [function(item) for item in chunk]
