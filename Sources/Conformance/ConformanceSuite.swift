import Foundation
import HostRunner
import KVM
import Payload

/// Runs the catalogue: builds every image it needs once, then runs each applicable
/// scenario × interface as its own VM, several at a time, each through `Runner` exactly as
/// `enlighten run` does.
public struct ConformanceSuite: Sendable {
    public struct Options: Sendable {
        public var interfaces: [ConversionPlatform] = ConversionPlatform.allCases
        /// Only scenarios whose name contains this (case-insensitive).
        public var filter: String?
        public var transport: Transport?
        /// Cases run at the same time; defaults to the number of cores.
        public var parallelism = ProcessInfo.processInfo.activeProcessorCount
        public var timeout: Double = 10
        public init() {}
    }

    public let catalogue: [Scenario]
    public let probe: HostProbe

    public init(catalogue: [Scenario] = Catalogue.all, probe: HostProbe) {
        self.catalogue = catalogue
        self.probe = probe
    }

    public struct PlannedCase: Sendable {
        public let scenario: Scenario
        public let platform: ConversionPlatform
    }

    public func cases(_ options: Options) -> [PlannedCase] {
        catalogue.filter { scenario in
            options.filter.map { scenario.name.localizedCaseInsensitiveContains($0) } ?? true
        }.flatMap { scenario in
            scenario.platforms.filter(options.interfaces.contains).map { PlannedCase(scenario: scenario, platform: $0) }
        }
    }

    public func run(
        _ options: Options, builder: ImageBuilder, system: KVMSystem,
        progress: @escaping @Sendable (CaseResult) -> Void = { _ in }
    ) throws(BuildError) -> SuiteReport {
        let planned = cases(options)
        let buildStarted = ContinuousClock.now
        let images = try buildImages(for: planned, builder: builder)
        let buildSeconds = (ContinuousClock.now - buildStarted).seconds
        let runStarted = ContinuousClock.now
        let results = ConcurrentSlots<CaseResult>(count: planned.count)
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = max(1, options.parallelism)
        for (index, planned) in planned.enumerated() {
            let key = ImageKey(stub: planned.scenario.stub, layout: planned.scenario.layout)
            let image = images[key]
            queue.addOperation {
                let result = runCase(planned, image: image, options: options, system: system)
                results.set(index, result)
                progress(result)
            }
        }
        queue.waitUntilAllOperationsAreFinished()
        return SuiteReport(results: results.values.compactMap { $0 }, buildSeconds: buildSeconds, runSeconds: (ContinuousClock.now - runStarted).seconds)
    }

    private func runCase(_ planned: PlannedCase, image: Image?, options: Options, system: KVMSystem) -> CaseResult {
        let scenario = planned.scenario, platform = planned.platform
        let transport = options.transport ?? probe.transports[platform] ?? .unavailable
        func verdict(_ status: CaseResult.Status, _ reason: String?, _ seconds: Double = 0) -> CaseResult {
            CaseResult(scenario: scenario.name, interface: platform, transport: transport, status: status, reason: reason, seconds: seconds)
        }
        if transport == .unavailable {
            return verdict(.skip, "no transport can carry \(platform.rawValue) requests on this host (see `enlighten probe`)")
        }
        if let reason = scenario.skip(probe, platform) { return verdict(.skip, reason) }
        guard let image else { return verdict(.fail, "the image for \(scenario.stub) was not built") }
        var runOptions = RunOptions()
        runOptions.platform = platform
        runOptions.transport = options.transport
        runOptions.timeout = options.timeout
        scenario.configure(&runOptions, platform)
        let started = ContinuousClock.now
        let result: RunResult
        do {
            result = try Runner.run(image, options: runOptions, system: system, probe: probe)
        } catch {
            return verdict(.fail, "the run could not start: \(error)", (ContinuousClock.now - started).seconds)
        }
        let seconds = (ContinuousClock.now - started).seconds
        for expectation in scenario.expectations(platform) {
            if let difference = expectation.evaluate(result) { return verdict(.fail, difference, seconds) }
        }
        return verdict(.pass, nil, seconds)
    }

    private struct ImageKey: Hashable {
        let stub: String
        let layout: Layout
    }

    private func buildImages(for planned: [PlannedCase], builder: ImageBuilder) throws(BuildError) -> [ImageKey: Image] {
        let keys = Array(Set(planned.map { ImageKey(stub: $0.scenario.stub, layout: $0.scenario.layout) }))
        let built = ConcurrentSlots<Result<Image, BuildError>>(count: keys.count)
        DispatchQueue.concurrentPerform(iterations: keys.count) { index in
            built.set(index, Result { () throws(BuildError) in
                try builder.build(try StubSource.resolve(keys[index].stub, root: builder.root), layout: keys[index].layout)
            })
        }
        var images: [ImageKey: Image] = [:]
        for (key, result) in zip(keys, built.values) {
            guard let result else { continue }
            images[key] = try result.get()
        }
        return images
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
