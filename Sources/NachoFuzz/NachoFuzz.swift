import FuzzHarness

#if NACHO_LIBFUZZER
// The libFuzzer build (Scripts/fuzz: `-Xswiftc -DNACHO_LIBFUZZER` with the fuzzer and address
// sanitizers). libFuzzer supplies `main`; this module must not, so there is no `@main` here.
// One binary serves every target: libFuzzer allows one entry point per process, and one
// sanitizer build of the package is what two cores can afford. `NACHO_FUZZ_TARGET` picks the
// target; libFuzzer's child processes (-merge, -fork) inherit it.
import Foundation

// Unsafe because it is a global; sound because libFuzzer sets it once in
// LLVMFuzzerInitialize, before it calls the entry point, and runs inputs on one thread.
nonisolated(unsafe) private var target = FuzzTarget.socketio

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    let name = getenv("NACHO_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let chosen = FuzzTarget(rawValue: name) else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: " ")
        FileHandle.standardError.write(Data("NachoFuzz: set NACHO_FUZZ_TARGET to one of: \(names)\n".utf8))
        exit(2)
    }
    target = chosen
    FuzzTarget.prepare()
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    target.run(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

#else
import Foundation

/// The same harnesses without libFuzzer, in the ordinary debug build: replays inputs (the
/// crash inputs FuzzTests runs in a child process) and writes the seed corpora.
@main
enum NachoFuzz {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        switch (arguments.first, arguments.count) {
        case ("replay", 3...):
            replay(target(arguments[1]), paths: Array(arguments.dropFirst(2)))
        case ("seeds", 4):
            writeSeeds(target(arguments[1]), root: URL(fileURLWithPath: arguments[2]), to: URL(fileURLWithPath: arguments[3]))
        case ("list", 1):
            print(FuzzTarget.allCases.map(\.rawValue).joined(separator: "\n"))
        default:
            fail("""
                usage: NachoFuzz replay TARGET FILE|DIR...   run inputs through a harness (a crash is a finding)
                       NachoFuzz seeds TARGET REPO_ROOT DIR  write seed inputs from the captured fixtures
                       NachoFuzz list                        the targets
                """)
        }
    }

    static func target(_ name: String) -> FuzzTarget {
        guard let target = FuzzTarget(rawValue: name) else {
            fail("unknown target \(name); targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: " "))")
        }
        return target
    }

    static func replay(_ target: FuzzTarget, paths: [String]) {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { fail("no such file: \(path)") }
            if isDirectory.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                files += names.sorted().map { "\(path)/\($0)" }.filter { !isDirectoryPath($0) }
            } else {
                files.append(path)
            }
        }
        for file in files {
            // Named first (on unbuffered stderr), so a crash report says which input it was.
            FileHandle.standardError.write(Data("replaying \(file)\n".utf8))
            guard let data = FileManager.default.contents(atPath: file) else { fail("cannot read \(file)") }
            target.run([UInt8](data))
        }
        print("\(target.rawValue): \(files.count) inputs, no crash")
    }

    static func writeSeeds(_ target: FuzzTarget, root: URL, to directory: URL) {
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let seeds = target.seeds(SeedFixtures(root: root))
        for (index, seed) in seeds.enumerated() {
            let url = directory.appendingPathComponent(String(format: "seed-%03d", index))
            guard FileManager.default.createFile(atPath: url.path, contents: Data(seed)) else { fail("cannot write \(url.path)") }
        }
        print("\(target.rawValue): \(seeds.count) seeds in \(directory.path)")
    }

    static func isDirectoryPath(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("NachoFuzz: \(message)\n".utf8))
        exit(2)
    }
}
#endif
