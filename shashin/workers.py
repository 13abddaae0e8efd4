"""Worker processes for decoding, started only when a batch is worth them."""

import multiprocessing


class Workers:
    """A process pool started on the first batch of at least ``inline_below`` items.

    Smaller batches, and everything when ``jobs`` is 1, run in this process after
    ``initializer(*initargs)``, so a rescan with nothing to decode starts no process.
    Use as a context manager; results come back in input order. The default start method,
    forkserver, keeps this process's ImageMagick state and SQLite connections out of the
    workers; "fork" starts them in milliseconds instead of a fresh interpreter's 0.2 s, for a
    caller that has loaded neither and runs nothing inline (``inline_below=0``).
    """

    def __init__(self, jobs, initializer, initargs=(), inline_below=4, chunksize=1, start_method="forkserver"):
        self.jobs, self.initializer, self.initargs = jobs, initializer, initargs
        self.inline_below, self.chunksize, self.start_method = inline_below, chunksize, start_method
        self.pool, self.initialized_here = None, False

    def map(self, function, items):
        if self.pool is None and (self.jobs == 1 or len(items) < self.inline_below):
            if not self.initialized_here:
                self.initializer(*self.initargs)
                self.initialized_here = True
            return map(function, items)
        if self.pool is None:
            context = multiprocessing.get_context(self.start_method)
            self.pool = context.Pool(self.jobs, initializer=self.initializer, initargs=self.initargs)
        return self.pool.imap(function, items, chunksize=self.chunksize)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.pool is not None:
            self.pool.close()
            self.pool.join()
