#include <stddef.h>
/// Sums n floats with the widest vectors this CPU has: a read of every byte, nothing else.
float bench_stream_sum(const float *x, size_t n);
