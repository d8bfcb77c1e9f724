import Capture

extension FrameIndex {
    /// What the index of a file read promises: 1 to `ReplayLimits.maxFrameCount` entries, each
    /// non-empty and within `maxSize`, subscripting the same bytes as `data(at:)`, and all of
    /// them no more than the input's (memory follows the input's size). `each` checks an entry
    /// further.
    func checkRanges(of name: String, maxSize: Int, inputSize: Int, each: (Int, ArraySlice<UInt8>) -> Void) {
        require(!isEmpty && count <= ReplayLimits.maxFrameCount, "\(count) \(name)s")
        var bytes = 0
        for index in indices {
            let data = data(at: index)
            require(!data.isEmpty && data.count <= maxSize, "\(name) \(index) of \(data.count) bytes")
            require(self[index].data.elementsEqual(data), "\(name) \(index): subscript and data(at:) differ")
            bytes += data.count
            each(index, data)
        }
        require(bytes <= inputSize, "\(bytes) bytes of \(name)s from \(inputSize) bytes of input")
    }
}
