#ifndef CMALLOC_SHIM_H
#define CMALLOC_SHIM_H
#include <malloc.h>

// glibc's malloc tuning: <malloc.h> is not part of Swift's Glibc module, and M_MMAP_THRESHOLD is a macro.
static inline int cmalloc_set_mmap_threshold(int bytes) { return mallopt(M_MMAP_THRESHOLD, bytes); }

#endif
