import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Bytes of heap in use, from glibc's `malloc_info` report (its totals: what the arenas took
/// from the system, less their free chunks, plus mmapped blocks); nil where it is not
/// available. `malloc_info` is looked up at run time: Swift does not import malloc.h.
enum HeapInUse {
    static func bytes() -> Int? {
        #if canImport(Glibc)
        typealias MallocInfo = @convention(c) (Int32, UnsafeMutablePointer<FILE>?) -> Int32
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "malloc_info") else { return nil }
        var buffer: UnsafeMutablePointer<CChar>?
        var size = 0
        guard let stream = open_memstream(&buffer, &size) else { return nil }
        let status = unsafeBitCast(symbol, to: MallocInfo.self)(0, stream)
        fclose(stream)
        defer { free(buffer) }
        guard status == 0, let buffer else { return nil }
        // The totals follow the last </heap>.
        let xml = String(cString: buffer)
        let totals = xml.range(of: "</heap>", options: .backwards).map { xml[$0.upperBound...] } ?? xml[...]
        func figure(_ element: String, _ type: String) -> Int? {
            guard let start = totals.range(of: "<\(element) type=\"\(type)\"") else { return nil }
            let rest = totals[start.upperBound...]
            guard let sizeStart = rest.range(of: "size=\"") else { return nil }
            return Int(rest[sizeStart.upperBound...].prefix { $0.isNumber })
        }
        guard let current = figure("system", "current"), let fast = figure("total", "fast"), let free = figure("total", "rest"),
              let mapped = figure("total", "mmap") else { return nil }
        return current - fast - free + mapped
        #else
        return nil
        #endif
    }
}
