#ifndef KINESIS_PUSHER_FUZZ_DRIVER_H
#define KINESIS_PUSHER_FUZZ_DRIVER_H

#include <stddef.h>
#include <stdint.h>

/// Runs libFuzzer (with its usual command line) on `test`, for a program with its own `main`: SwiftPM names an
/// executable's entry point itself, so the fuzz targets cannot use libFuzzer's `main`.
int FuzzDriverMain(int argc, char **argv, int (*test)(const uint8_t *data, size_t size));

#endif
