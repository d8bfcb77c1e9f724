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
        // mallopt is not in Swift's Glibc module: looked up by name, with C's calling convention.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(nil, "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        let arenaMax: Int32 = -8  // M_ARENA_MAX in <malloc.h>
        _ = mallopt(arenaMax, Int32(clamping: max(1, ProcessInfo.processInfo.activeProcessorCount)))
        #endif
    }
}
