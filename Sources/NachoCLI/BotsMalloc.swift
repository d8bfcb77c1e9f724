#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// glibc's allocator for `nacho bots`.
enum BotsMalloc {
    /// At most one malloc arena per core. glibc makes one per thread that allocates, up to 8
    /// per core, and each keeps its own free memory: hundreds of bots whose objects are made on
    /// one thread and freed on another leave that memory spread over many arenas. Measured on a
    /// 2-core machine, 2+2+100 replay bots: peak RSS 110 MB with glibc's default, 100 MB with
    /// two arenas. More arenas than cores buy no parallelism (the hot path does not allocate).
    static func limitArenasToCores() {
        #if canImport(Glibc)
        _ = mallopt(M_ARENA_MAX, Int32(clamping: max(1, ProcessInfo.processInfo.activeProcessorCount)))
        #endif
    }
}
