#include <malloc.h>
#include "cmemory.h"

int cmemory_limit_arenas(int count) { return mallopt(M_ARENA_MAX, count); }

int cmemory_trim(void) { return malloc_trim(0); }
