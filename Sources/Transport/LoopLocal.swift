import NIOCore
import Synchronization

/// One value per event loop, made on first use on that loop and dropped when its owner is
/// done with it (so a loop that goes away leaves nothing behind: the entry holds its loop, and
/// an identifier cannot be reused while the loop it names is alive).
final class LoopLocal<Value: AnyObject>: Sendable {
    private struct Entry: Sendable {
        let loop: any EventLoop
        let value: NIOLoopBound<Value>
    }

    private let entries = Mutex<[ObjectIdentifier: Entry]>([:])

    init() {}

    /// The loop's value, made by `make` the first time. On `loop`.
    func value(on loop: any EventLoop, make: () -> Value) -> Value {
        loop.preconditionInEventLoop()
        let key = ObjectIdentifier(loop)
        if let entry = entries.withLock({ $0[key] }) { return entry.value.value }
        let value = make()
        let entry = Entry(loop: loop, value: NIOLoopBound(value, eventLoop: loop))
        entries.withLock { $0[key] = entry }
        return value
    }

    /// Forgets the loop's value. On `loop`.
    func remove(on loop: any EventLoop) {
        loop.preconditionInEventLoop()
        _ = entries.withLock { $0.removeValue(forKey: ObjectIdentifier(loop)) }
    }
}
