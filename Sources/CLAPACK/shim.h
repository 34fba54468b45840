// LAPACK through its C interface (LAPACKE, Debian liblapacke-dev); the routines themselves come
// from liblapack.so.3, which Debian's alternatives point at OpenBLAS's LAPACK when it is installed.
#include <lapacke.h>
