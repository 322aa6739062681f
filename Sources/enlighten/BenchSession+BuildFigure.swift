import Conformance
import Foundation
import Payload

extension BenchSession {
    /// Building every image the conformance catalogue needs: a cold build (an empty image
    /// cache, a new builder: every nasm and ld.lld run) against a warm one (a new builder on
    /// the cache the cold build just filled: no tool runs). Reported, not judged; the cold
    /// side is also the figure for "cold, the build phase ≤ 0.8 s".
    func buildCacheFigure() throws(BenchError) -> BenchFigure {
        // Firmware cases run a firmware volume, not a stub: nothing to build.
        let keys = Catalogue.all.filter { $0.firmware == nil }.map { ($0.stub, $0.layout) }
            .reduce(into: [(String, Layout)]()) { keys, key in if !keys.contains(where: { $0 == key }) { keys.append(key) } }
        let toolchain: Toolchain
        let sources: [(StubSource, Layout)]
        do {
            toolchain = try Toolchain.locate()
            sources = try keys.map { stub, layout throws(BuildError) in (try StubSource.resolve(stub, root: root), layout) }
        } catch {
            throw .runner("\(error)")
        }
        var results: [BenchFigure.Round] = []
        for round in 0..<rounds {
            let cache = ImageCache(directory: scratch + "/image-cache-\(round)")
            // The cold build fills the cache the warm one reads, so cold always goes first.
            let cold = try buildAll(sources, toolchain: toolchain, cache: cache, expectHits: false)
            let warm = try buildAll(sources, toolchain: toolchain, cache: cache, expectHits: true)
            try? FileManager.default.removeItem(atPath: cache.directory)
            results.append(BenchFigure.Round(floor: cold, ours: warm))
        }
        return BenchFigure(
            id: "image-build", name: "conformance images (\(sources.count)), warm cache", floorKind: "cold build", unit: "s",
            rounds: results, target: nil, judged: false)
    }

    /// Seconds to build every source in parallel with a new builder, as the suite does.
    private func buildAll(_ sources: [(StubSource, Layout)], toolchain: Toolchain, cache: ImageCache, expectHits: Bool) throws(BenchError) -> Double {
        let started = ContinuousClock.now
        let builder: ImageBuilder
        do { builder = try ImageBuilder(toolchain: toolchain, root: root, cache: cache) } catch { throw .runner("\(error)") }
        let failures = ConcurrentSlots<String>(count: sources.count)
        ParallelWork.run(sources.count) { index in
            do { _ = try builder.build(sources[index].0, layout: sources[index].1) } catch { failures.set(index, "\(error)") }
        }
        let seconds = (ContinuousClock.now - started).seconds
        if let failure = failures.values.compactMap({ $0 }).first { throw .runner(failure) }
        let counts = builder.cacheCounts
        if expectHits ? counts.misses > 0 : counts.hits > 0 {
            throw .runner("the \(expectHits ? "warm" : "cold") build had \(counts.hits) cache hits and \(counts.misses) misses")
        }
        return seconds
    }
}
