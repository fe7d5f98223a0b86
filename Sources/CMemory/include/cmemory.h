#ifndef CMEMORY_H
#define CMEMORY_H

/// glibc's allocator controls, which Swift's Glibc module does not import (malloc.h).

/// Caps glibc's malloc arenas. Every recording runs on a fresh thread, and each new thread may get an
/// arena of its own whose freed pages stay with the process: a long-lived agent grew by ~1.8 MB per
/// call without a cap. Returns 1 on success.
int cmemory_limit_arenas(int count);

/// Returns freed heap memory to the system (after a recording ends). Returns 1 if any was released.
int cmemory_trim(void);

#endif
