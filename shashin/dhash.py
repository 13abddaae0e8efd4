"""Difference hashes of grey images held as numpy arrays: the one dHash behind every hash shashin stores."""

import functools

import numpy


def dhashes(grey, crop=1.0):
    """64-bit difference hashes (uint64) of grey images shaped ``(..., height, width)``.

    Each image's central ``crop`` is area-averaged to 9x8 samples; a bit is set where
    a sample is brighter than its left neighbour.
    """
    grey = numpy.asarray(grey, numpy.float32)
    height, width = grey.shape[-2:]
    small = area_resampler(8, height, crop) @ grey @ area_resampler(9, width, crop).T
    bits = small[..., 1:] > small[..., :-1]
    packed = numpy.packbits(bits.reshape(*bits.shape[:-2], 64), axis=-1)
    return packed.view(">u8")[..., 0].astype(numpy.uint64)


@functools.cache
def area_resampler(size, source, crop=1.0):
    """Area-averaging matrix taking the central ``crop`` of ``source`` samples to ``size`` samples."""
    edges = source * (1 - crop) / 2 + numpy.arange(size + 1) * (source * crop / size)
    low, high = edges[:-1, None], edges[1:, None]
    pixel = numpy.arange(source)[None, :]
    weights = numpy.clip(numpy.minimum(high, pixel + 1) - numpy.maximum(low, pixel), 0, None)
    return (weights / weights.sum(axis=1, keepdims=True)).astype(numpy.float32)
