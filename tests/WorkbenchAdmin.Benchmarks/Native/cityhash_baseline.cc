// The native baseline for CityHashBenchmarks: google/cityhash v1.1's CityHash64, compiled at benchmark
// setup with g++ -O3 -march=native against a checkout named by CITYHASH_SRC (its code is not ours to ship).
#include <stddef.h>
#include <stdint.h>
#include "city.h"

extern "C" {

uint64_t wb_cityhash64(const char* s, size_t len) { return CityHash64(s, len); }

// Hashes names[i % count] `iterations` times in a native loop, as the managed benchmark does in its own
// loop: a per-call P/Invoke would cost as much as hashing a short name.
uint64_t wb_cityhash64_names(const char* const* names, const size_t* lengths, int count, int iterations) {
  uint64_t sum = 0;
  for (int i = 0, j = 0; i < iterations; i++) {
    sum += CityHash64(names[j], lengths[j]);
    if (++j == count) j = 0;
  }
  return sum;
}

}
