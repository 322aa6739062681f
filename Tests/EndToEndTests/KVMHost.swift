import Foundation
import HostRunner
import KVM
import Payload
import XCTest

/// What every end-to-end test needs: /dev/kvm (or a printed skip when it is absent) and
/// images built by the real toolchain.
enum KVMHost {
    static func system() throws -> KVMSystem {
        guard FileManager.default.fileExists(atPath: "/dev/kvm") else {
            print("skipping: /dev/kvm is absent on this host")
            throw XCTSkip("/dev/kvm is absent on this host")
        }
        return try RunError.openSystem()
    }

    static let root: ProjectRoot = {
        do { return try ProjectRoot.locate() } catch { fatalError("tests need the project root: \(error)") }
    }()

    static func build(_ stub: String, layout: Layout = .direct64) throws -> Image {
        let builder = try ImageBuilder(toolchain: try Toolchain.locate(), root: root)
        let path = stub.hasSuffix(".asm") ? root.path + "/Tests/EndToEndTests/Stubs/" + stub : stub
        return try builder.build(try StubSource.resolve(path, root: root), layout: layout)
    }

    static func run(_ image: Image, timeout: Double = 10, configure: (inout RunOptions) -> Void = { _ in }) throws -> RunResult {
        var options = RunOptions()
        options.timeout = timeout
        configure(&options)
        return try Runner.run(image, options: options, system: try system())
    }
}
