import Foundation
import HostRunner
import KVM
import Payload

/// Runs the catalogue: builds the images the runnable cases need once, then runs each
/// applicable scenario × interface as its own VM, several at a time, each through `Runner`
/// exactly as `enlighten run` does, each under its own watchdog.
public struct ConformanceSuite: Sendable {
    public struct Options: Sendable {
        public var interfaces: [ConversionPlatform] = ConversionPlatform.allCases
        public var filter = CaseFilter()
        public var transport: Transport?
        /// The file guest RAM lives in; nil: the probe's choice (`RunOptions.backing`).
        public var backing: RAMBacking.Kind?
        /// The profile the probe was taken under, repeated in reproduction commands.
        public var hostProfile: HostProfile = .host
        /// Cases run at the same time; defaults to the number of cores.
        public var parallelism = ProcessInfo.processInfo.activeProcessorCount
        /// Each case's watchdog: its VM is stopped and the case fails after this many seconds.
        public var timeout: Double = RunOptions().timeout
        /// The whole suite's limit: cases not started when it passes are reported not run.
        public var deadline: Double?
        /// ENLIGHTEN_HOME, repeated in reproduction commands when set.
        public var home: String? = ProcessInfo.processInfo.environment["ENLIGHTEN_HOME"]
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

    /// The cases `options` select, in catalogue order whatever the filter; needs no host.
    public static func cases(in catalogue: [Scenario] = Catalogue.all, _ options: Options) -> [PlannedCase] {
        catalogue.filter { options.filter.matches($0.name) }.flatMap { scenario in
            scenario.platforms.filter(options.interfaces.contains).map { PlannedCase(scenario: scenario, platform: $0) }
        }
    }

    public func cases(_ options: Options) -> [PlannedCase] { Self.cases(in: catalogue, options) }

    /// Runs every case, calling `progress` as each finishes (from any thread). `stop` is
    /// asked before each case starts: a reason there reports that case and every later one
    /// as not run. Cases whose image fails to build are errors; the others still run.
    public func run(
        _ options: Options, builder: ImageBuilder, system: KVMSystem, stop: SuiteStop = SuiteStop(),
        context: SuiteContext? = nil, progress: @escaping @Sendable (Int, CaseResult) -> Void = { _, _ in }
    ) -> SuiteReport {
        let planned = cases(options)
        // The reports record the backing the runs use, the forced one included.
        let context = context ?? SuiteContext(facts: probe.facts(backing: (try? probe.backing(requested: options.backing)) ?? probe.ramBacking))
        let started = ContinuousClock.now
        if let deadline = options.deadline { stop.expire(after: deadline) }
        let runnable = planned.filter { skipReason($0, options) == nil && $0.scenario.firmware == nil }
        let images = buildImages(for: runnable, builder: builder)
        let buildSeconds = (ContinuousClock.now - started).seconds
        let runStarted = ContinuousClock.now
        let results = ConcurrentSlots<CaseResult>(count: planned.count)
        // The stub scenarios first, then the firmware cases (seconds each, docs/firmware.md),
        // so the report can give the stubs' run phase on its own.
        let phases = [
            planned.enumerated().filter { $0.element.scenario.firmware == nil },
            planned.enumerated().filter { $0.element.scenario.firmware != nil },
        ]
        var firmwareStarted: ContinuousClock.Instant?
        for (phase, cases) in phases.enumerated() {
            if phase == 1, !cases.isEmpty { firmwareStarted = ContinuousClock.now }
            let queue = OperationQueue()
            queue.maxConcurrentOperationCount = max(1, options.parallelism)
            for (index, planned) in cases {
                let image = images[ImageKey(planned.scenario)]
                queue.addOperation {
                    let result: CaseResult
                    if let reason = stop.reason {
                        result = verdict(planned, options, .notRun, "not run: \(reason)")
                    } else {
                        result = runCase(planned, image: image, options: options, system: system)
                    }
                    results.set(index, result)
                    progress(index, result)
                }
            }
            queue.waitUntilAllOperationsAreFinished()
        }
        return SuiteReport(
            results: results.values.compactMap { $0 }, context: context, buildSeconds: buildSeconds,
            runSeconds: (ContinuousClock.now - runStarted).seconds, firmwareRunSeconds: firmwareStarted.map { (ContinuousClock.now - $0).seconds },
            interrupted: stop.reason)
    }

    /// Every planned case reported without running, e.g. skipped because the host has no KVM.
    public static func unrun(_ planned: [PlannedCase], _ status: CaseResult.Status, _ reason: String, facts: [String: String] = [:]) -> SuiteReport {
        let results = planned.map {
            CaseResult(scenario: $0.scenario.name, interface: $0.platform, transport: .unavailable, status: status, reason: reason, seconds: 0)
        }
        return SuiteReport(results: results, context: SuiteContext(facts: facts), buildSeconds: 0, runSeconds: 0)
    }

    private func transport(_ planned: PlannedCase, _ options: Options) -> Transport {
        options.transport ?? probe.transports[planned.platform] ?? .unavailable
    }

    private func verdict(_ planned: PlannedCase, _ options: Options, _ status: CaseResult.Status, _ reason: String?, _ seconds: Double = 0) -> CaseResult {
        CaseResult(
            scenario: planned.scenario.name, interface: planned.platform, transport: transport(planned, options),
            status: status, reason: reason, seconds: seconds)
    }

    /// Why this host cannot run the case, or nil.
    private func skipReason(_ planned: PlannedCase, _ options: Options) -> String? {
        let platform = planned.platform
        if transport(planned, options) == .unavailable {
            let missing = probe.missingForTrap(platform)
            return "no transport can carry \(platform.rawValue) requests on this host\(missing.map { ": it lacks \($0)" } ?? "") (see `enlighten probe`)"
        }
        if options.transport == .native, let reason = probe.nativeUnavailable(platform) { return reason }
        if let reason = probe.cannotEnforce(platform) { return reason }
        return planned.scenario.skip(probe, platform)
    }

    private func runOptions(_ planned: PlannedCase, _ options: Options) -> RunOptions {
        var runOptions = RunOptions()
        runOptions.platform = planned.platform
        runOptions.transport = options.transport
        runOptions.backing = options.backing
        runOptions.timeout = options.timeout
        planned.scenario.configure(&runOptions, planned.platform)
        return runOptions
    }

    private func runCase(_ planned: PlannedCase, image: Result<Image, BuildError>?, options: Options, system: KVMSystem) -> CaseResult {
        if let reason = skipReason(planned, options) { return verdict(planned, options, .skip, reason) }
        let runOptions = runOptions(planned, options)
        let reproduce = ReproductionCommand.make(
            stub: planned.scenario.firmware.map { _ in FirmwareVolumeSource.path } ?? planned.scenario.stub,
            layout: planned.scenario.firmware == nil ? planned.scenario.layout : .direct64, options: runOptions,
            profile: options.hostProfile, home: planned.scenario.firmware == nil ? options.home : nil,
            defect: planned.scenario.firmware?.defect)
        let built: Image
        switch Self.caseImage(planned.scenario, built: image) {
        case .success(let image): built = image
        case .failure(let unavailable):
            var result = verdict(planned, options, unavailable.status, unavailable.reason)
            result.reproduce = reproduce
            return result
        }
        let started = ContinuousClock.now
        let run: RunResult
        do {
            run = try Runner.run(built, options: runOptions, system: system, probe: probe)
        } catch {
            var result = verdict(planned, options, .error, "the run could not start: \(error)", (ContinuousClock.now - started).seconds)
            result.reproduce = reproduce
            return result
        }
        let seconds = (ContinuousClock.now - started).seconds
        let differences = planned.scenario.expectations(planned.platform).compactMap { $0.evaluate(run) }
        var result = verdict(planned, options, differences.isEmpty ? .pass : .fail, differences.first, seconds)
        if !differences.isEmpty {
            result.differences = differences
            result.reproduce = reproduce
            CaseEvidence.attach(run, to: &result)
        }
        return result
    }

    private struct ImageUnavailable: Error {
        let status: CaseResult.Status
        let reason: String
    }

    /// The case's image: its stub's build, or the firmware volume it reads. A stub that did not
    /// build is an error of the suite; a firmware volume missing from the host fails the case
    /// with how to install it (`FirmwareVolumeSource`).
    private static func caseImage(_ scenario: Scenario, built: Result<Image, BuildError>?) -> Result<Image, ImageUnavailable> {
        if let firmware = scenario.firmware {
            return firmware.load().mapError { ImageUnavailable(status: .fail, reason: "\($0)") }
        }
        switch built {
        case .success(let image): return .success(image)
        case .failure(let error): return .failure(ImageUnavailable(status: .error, reason: "the image of \(scenario.stub) did not build: \(error)"))
        case nil: return .failure(ImageUnavailable(status: .error, reason: "the image of \(scenario.stub) was not built"))
        }
    }

    private struct ImageKey: Hashable {
        let stub: String
        let layout: Layout
        init(_ scenario: Scenario) {
            stub = scenario.stub
            layout = scenario.layout
        }
    }

    /// One build per distinct stub and layout, in parallel; a failure stays with its key.
    private func buildImages(for planned: [PlannedCase], builder: ImageBuilder) -> [ImageKey: Result<Image, BuildError>] {
        let keys = planned.map { ImageKey($0.scenario) }.reduce(into: [ImageKey]()) { if !$0.contains($1) { $0.append($1) } }
        let built = ConcurrentSlots<Result<Image, BuildError>>(count: keys.count)
        ParallelWork.run(keys.count) { index in
            built.set(
                index,
                Result { () throws(BuildError) in
                    try builder.build(try StubSource.resolve(keys[index].stub, root: builder.root), layout: keys[index].layout)
                })
        }
        var images: [ImageKey: Result<Image, BuildError>] = [:]
        for (key, result) in zip(keys, built.values) { images[key] = result }
        return images
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
