// USearch's own filtered search, which its Python binding does not expose: loads an index that
// usearch.Index.save wrote and runs index_dense_t::filtered_search with a bitmap predicate over
// the keys (row numbers), queries one at a time on one thread or spread over `threads` with
// OpenMP, as the binding's search_many does. Built by setup.sh against the headers of the same
// usearch release as the wheel; peers.py calls it through ctypes.
#include <usearch/index_dense.hpp>

#include <cstdint>
#include <cstdio>

using namespace unum::usearch;

extern "C" {

void* usf_load(char const* path, size_t threads) {
    auto result = index_dense_t::make(path);
    if (!result) {
        std::fprintf(stderr, "usearch_filtered: %s: %s\n", path, result.error.release());
        return nullptr;
    }
    auto* index = new index_dense_t(std::move(result.index));
    index->try_reserve(index_limits_t(index->size(), threads));
    return index;
}

void usf_free(void* handle) { delete static_cast<index_dense_t*>(handle); }

// keys: queries × k, filled with UINT64_MAX past the matches found. Returns 0, or -1 on an error.
int usf_search(void* handle, float const* queries, size_t count, size_t k, size_t expansion,
               uint8_t const* allowed_bits, size_t threads, uint64_t* keys) {
    auto& index = *static_cast<index_dense_t*>(handle);
    index.change_expansion_search(expansion);
    size_t const dimensions = index.dimensions();
    auto allowed = [allowed_bits](uint64_t key) noexcept { return (allowed_bits[key >> 3] >> (key & 7)) & 1; };
    int failed = 0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) reduction(| : failed)
    for (size_t q = 0; q < count; ++q) {
        auto found = index.filtered_search(queries + q * dimensions, k, allowed);
        if (!found) {
            failed = 1;
            continue;
        }
        size_t n = found.dump_to(keys + q * k, k);
        for (; n < k; ++n)
            keys[q * k + n] = UINT64_MAX;
    }
    return failed ? -1 : 0;
}
}
