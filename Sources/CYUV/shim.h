#ifndef CYUV_SHIM_H
#define CYUV_SHIM_H

/// Only the BGRA→I420 converters: the full libyuv.h drags in JPEG and C++-only headers.
#include <libyuv/convert.h>
#include <libyuv/convert_from_argb.h>

#endif
