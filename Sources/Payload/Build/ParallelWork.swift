import Foundation

/// Runs `count` iterations at once, each on a thread of its own, and waits for them all.
/// Not `concurrentPerform`: it runs iterations on the calling thread, and Foundation's
/// `Process.waitUntilExit` costs ~50 ms on the main thread (it spins its run loop) against
/// 1–4 ms on any other. Not Dispatch's global queues either: on Linux their pool grows to
/// about the core count, and iterations that block waiting for nasm (with nested ones
/// queued behind them) then run one core's worth at a time.
public enum ParallelWork {
    public static func run(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let group = DispatchGroup()
        for index in 0..<count {
            group.enter()
            Thread.detachNewThread {
                body(index)
                group.leave()
            }
        }
        group.wait()
    }
}
