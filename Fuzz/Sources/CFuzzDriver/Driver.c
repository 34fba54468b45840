#include "CFuzzDriver.h"

// The fuzz target, defined in Swift (vsfuzz/Targets.swift) with @_cdecl.
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

// SwiftPM links an executable with `--defsym main=<module>_main`; this is that entry point. It
// hands control to libFuzzer, whose own main is then not linked.
int vsfuzz_main(int argc, char **argv) { return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput); }
