#pragma once
// How a sightflow process uses glibc's heap. Long-running roles (run --serve, serve, worker) free frames
// of a few MB on threads other than the ones that allocated them, and glibc keeps what is freed inside its
// arenas: RSS creeps up with no leak (bench/soak.sh, bench/RESULTS.md "Soak").

namespace sf::cli {

// One malloc arena per core (at least 2) unless MALLOC_ARENA_MAX is set: glibc's default of 8 per core
// lets every thread that allocates (decoders, workers, HTTP handlers) keep an arena's worth. Call before
// any thread allocates.
void limit_malloc_arenas();

// A background thread that hands the heap's free pages back to the system (malloc_trim) every
// `every_s` seconds; a command that ends sooner never sees it run. On the soak, 63 MB of 164 MB of heap
// were free but held after 49 minutes; with the trimmer RSS stayed 10-20 MB lower (bench/RESULTS.md).
void start_heap_trimmer(double every_s = 30);

}  // namespace sf::cli
