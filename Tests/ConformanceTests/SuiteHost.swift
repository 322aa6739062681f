import Conformance
import Foundation
import HostRunner
import KVM
import Payload
import TestSupport
import XCTest

/// What the conformance tests share: /dev/kvm (or a printed skip when it is absent), the host
/// probed once, one image builder, and the real catalogue run once per test process.
enum SuiteHost {
    static func system() throws -> KVMSystem {
        guard FileManager.default.fileExists(atPath: "/dev/kvm") else {
            print("skipping: /dev/kvm is absent on this host")
            throw XCTSkip("/dev/kvm is absent on this host")
        }
        return try RunError.openSystem()
    }

    static let root: Result<ProjectRoot, any Error> = Result { try ProjectRoot.locate() }
    static let probe: Result<HostProbe, any Error> = Result { try HostProbe.run(system: try system()) }
    static let builder: Result<ImageBuilder, any Error> = Result {
        let builder = try ImageBuilder(toolchain: try Toolchain.locate(), root: try root.get())
        RemoveAtExit.folder(builder.scratchFolder)
        return builder
    }

    /// A stub of the end-to-end tests (Tests/EndToEndTests/Stubs), as a path the suite builds.
    static func testStub(_ file: String) throws -> String {
        try root.get().path + "/Tests/EndToEndTests/Stubs/" + file
    }

    /// Runs `catalogue` as `enlighten conformance` does (the probe's transports unless forced).
    static func run(_ catalogue: [Scenario], probe: HostProbe? = nil, configure: (inout ConformanceSuite.Options) -> Void = { _ in }) throws -> SuiteReport {
        let system = try system()
        var options = ConformanceSuite.Options()
        configure(&options)
        let suite = ConformanceSuite(catalogue: catalogue, probe: try probe ?? self.probe.get())
        return suite.run(options, builder: try builder.get(), system: system)
    }

    /// The whole real catalogue on every interface, run once.
    static let catalogueReport: Result<SuiteReport, any Error> = Result { try run(Catalogue.all) }

    /// One image run directly through the runner (for evaluating expectations by hand).
    static func runImage(_ stub: String, platform: ConversionPlatform?) throws -> RunResult {
        let system = try system()
        let root = try root.get()
        let image = try builder.get().build(try StubSource.resolve(stub, root: root), layout: .direct64)
        var options = RunOptions()
        options.platform = platform
        return try Runner.run(image, options: options, system: system, probe: try probe.get())
    }
}
