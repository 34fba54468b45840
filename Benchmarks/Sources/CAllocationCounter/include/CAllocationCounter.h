#pragma once
#include <stdint.h>

// Counts heap allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign)
// made by the calling thread while counting is on. Linked into the alloccheck executable only:
// its malloc family replaces the C library's for the whole process and forwards to it.
void vs_alloc_count_begin(void);
uint64_t vs_alloc_count_end(void);
