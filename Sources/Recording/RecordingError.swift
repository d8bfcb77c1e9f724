/// Why a recording could not be written. Names the file; what was written before stays.
public enum RecordingError: Error, Sendable, CustomStringConvertible, Equatable {
    case exists(String)
    case cannotCreate(String, String)
    case notWritable(String, String)
    case writeFailed(String, String)

    public var description: String {
        switch self {
        case .exists(let path): return "\(path) exists (pass --overwrite to replace it)"
        case .cannotCreate(let path, let why): return "cannot create \(path): \(why)"
        case .notWritable(let path, let why): return "cannot write in \(path): \(why)"
        case .writeFailed(let path, let why): return "writing \(path) failed: \(why); what was written before is kept"
        }
    }
}
