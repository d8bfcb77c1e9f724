import NIOCore

/// One 100 ms timer per event loop for the periodic work of everything on it (a receiver's
/// repair fallback every tick, its reports every tenth), instead of timers of its own: a NIO
/// timer allocates on every run and wakes the loop, and 250 bots with two timers each were
/// 2,750 runs a second. Join and leave on the loop; the timer stops when the last member leaves.
public enum EventLoopTicker {
    public static let period = TimeAmount.milliseconds(100)

    /// A member's place, to leave with.
    public struct Membership: Sendable, Hashable {
        let id: UInt64
    }

    /// Calls `work` every `period` from one period after now, with the number of ticks since
    /// joining (1, 2, ...). On `loop`.
    public static func join(on loop: any EventLoop, _ work: @escaping (UInt64) -> Void) -> Membership {
        let ticker = tickers.value(on: loop) { Ticker() }
        let id = ticker.nextId
        ticker.nextId &+= 1
        ticker.members[id] = Member(joinedAt: ticker.ticks, work: work)
        if ticker.task == nil {
            let bound = NIOLoopBound(ticker, eventLoop: loop)
            ticker.task = loop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in
                bound.value.tick()
            }
        }
        return Membership(id: id)
    }

    /// Stops calling a member; the last one out stops the timer. On `loop`.
    public static func leave(_ membership: Membership, on loop: any EventLoop) {
        let ticker = tickers.value(on: loop) { Ticker() }
        ticker.members[membership.id] = nil
        if ticker.members.isEmpty {
            ticker.task?.cancel()
            ticker.task = nil
            tickers.remove(on: loop)
        }
    }

    private struct Member {
        let joinedAt: UInt64
        let work: (UInt64) -> Void
    }

    /// What one loop's ticker owns; touched on its loop only.
    private final class Ticker {
        var members: [UInt64: Member] = [:]
        var nextId: UInt64 = 0
        var ticks: UInt64 = 0
        var task: RepeatedTask?

        func tick() {
            ticks &+= 1
            // A member may leave (or join) from its work: iterate what was there at the start.
            for member in members.values {
                member.work(ticks &- member.joinedAt)
            }
        }
    }

    private static let tickers = LoopLocal<Ticker>()
}
