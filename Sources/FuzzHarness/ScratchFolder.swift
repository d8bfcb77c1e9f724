import Foundation

/// A folder of this process for the files a harness writes: in /dev/shm where there is one
/// (memory, so a fuzzer's millions of runs do not wear a disk), else the temporary directory.
enum ScratchFolder {
    static func make(_ name: String) -> String {
        let path = (FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory())
            + "/nacho-fuzz-\(name)-\(getpid())"
        mkdir(path, 0o700)
        return path
    }
}
